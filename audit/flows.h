/* Flow accounting for the audit log: per route, how many minimised messages
 * the upstream acknowledged, which data categories they carried, and a digest
 * a receiver can recompute. Never holds payloads, only their hashes. */
#ifndef FLOWS_H
#define FLOWS_H

#include <stddef.h>
#include <stdint.h>

#include "common/fg_error.h"

struct flows;
struct audit;

FG_MUST_CHECK fg_err flows_new(struct flows **out);
void flows_free(struct flows *f);
/* Thread-safe. The digest is the sum mod 2^256 of BLAKE2b-256(topic 0x00
 * payload) over the interval's messages: independent of their order. */
void flows_hash(const char *topic, const char *payload, size_t len, unsigned char h[32]);
void flows_add(struct flows *f, const char *route, const char *purpose, uint32_t categories,
               const unsigned char h[32]);
/* One "flow.summary" event per route that carried messages; then resets. */
void flows_flush(struct flows *f, struct audit *a, const char *destination, int64_t since_ms,
                 int64_t until_ms);

#endif
