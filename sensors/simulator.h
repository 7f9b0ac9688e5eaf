/* A deterministic telemetry simulator: workers walking between named zones,
 * environment sensors on the walls. Same seed, same messages. */
#ifndef SIMULATOR_H
#define SIMULATOR_H

#include <stddef.h>
#include <stdint.h>

#include "common/fg_error.h"

struct sim;

struct sim_options {
    const char *site; /* "factory" or "depot" */
    int workers;
    uint64_t seed;
    int64_t start_ms; /* simulated clock start */
    int64_t step_ms;  /* simulated time between messages */
};

FG_MUST_CHECK fg_err sim_new(const struct sim_options *o, struct sim **out);
void sim_free(struct sim *s);
/* Writes the next message: topic and JSON payload (NUL-terminated). Returns
 * payload length, or 0 if the buffers are too small. */
size_t sim_next(struct sim *s, char *topic, size_t topic_len, char *payload, size_t payload_len);

#endif
