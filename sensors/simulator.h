/* A deterministic telemetry simulator for the built-in sensor types: workers
 * walking between named zones over a shift, a canteen break, exactly one
 * man-down per shift (factory), machines with operators, picks by teams,
 * forklifts with drivers and the odd impact (depot). Same options and seed,
 * same messages, byte for byte: the simulated clock never reads the wall clock. */
#ifndef SIMULATOR_H
#define SIMULATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/fg_error.h"

struct sim;

struct sim_options {
    const char *site; /* "factory" or "depot" */
    int workers;
    uint64_t seed;
    int64_t start_ms; /* simulated clock start (the start of the first shift) */
    int64_t step_ms;  /* simulated time between messages */
    int64_t shift_ms; /* length of a shift; 0 = 8 h */
};

#define SIM_TOPIC_MAX 128
#define SIM_PAYLOAD_MAX 1024

struct sim_msg {
    const char *type; /* the sensor type name, static */
    char topic[SIM_TOPIC_MAX];
    unsigned char payload[SIM_PAYLOAD_MAX];
    size_t len;
    bool binary;   /* payload is not text (fixed binary layouts) */
    bool man_down; /* this message carries the shift's man-down event */
    int64_t time_ms;
};

/* FG_ERR_CONFIG for an unknown site. */
FG_MUST_CHECK fg_err sim_new(const struct sim_options *o, struct sim **out);
void sim_free(struct sim *s);
/* Sites built in, NULL-terminated. */
extern const char *const sim_sites[];
/* The sensor types a site publishes, NULL-terminated; NULL for unknown sites. */
const char *const *sim_site_types(const char *site);

/* Produces the next message. Text payloads are NUL-terminated (not counted in len). */
void sim_next_msg(struct sim *s, struct sim_msg *m);

/* Compatibility: the next message's topic and payload (binary payloads too);
 * returns the payload length, or 0 if the buffers are too small. */
size_t sim_next(struct sim *s, char *topic, size_t topic_len, char *payload, size_t payload_len);

#endif
