/* The outbox: minimised messages waiting for the upstream broker, bounded in
 * messages and bytes. Only policy output enters it; raw telemetry never does.
 * THREAD SAFETY: every function locks; callers never hold it across Paho calls. */
#ifndef OUTBOX_H
#define OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/fg_error.h"
#include "policy/policy.h"

struct outbox;

struct outbox_options {
    int64_t max_messages;
    int64_t max_bytes;
    int64_t slack_messages; /* accepted past the bound: inputs already in flight */
};

/* A message handed to the sender; a copy it owns until outbox_entry_free. */
struct outbox_entry {
    uint64_t id; /* unique, stable across resends: consumers deduplicate on it */
    char *topic;
    char *payload;
    size_t len;
    char *route;
    char *purpose;
    char *policy;
    int64_t created_ms;
    int64_t deadline_ms; /* 0 = no retention limit */
    uint32_t categories;
};

FG_MUST_CHECK fg_err outbox_open(const struct outbox_options *opt, struct outbox **out);
void outbox_close(struct outbox *o);

/* FG_ERR_FULL past max + slack. */
FG_MUST_CHECK fg_err outbox_put(struct outbox *o, const struct policy_output *msg,
                                int64_t now_ms);
/* Takes up to max queued (not in-flight) entries, oldest first, marking them
 * in flight. Returns how many were written to out[]. */
size_t outbox_take(struct outbox *o, struct outbox_entry **out, size_t max);
void outbox_entry_free(struct outbox_entry *e);
/* The upstream acknowledged it: gone for good. */
void outbox_ack(struct outbox *o, uint64_t id);
/* The send failed: it goes back to the queue, in order. */
void outbox_requeue(struct outbox *o, uint64_t id);
/* Connection lost: everything in flight goes back to the queue. */
void outbox_requeue_all(struct outbox *o);

typedef void (*outbox_purge_fn)(void *ctx, const char *route, uint64_t count);
/* Deletes queued entries whose retention deadline has passed; reports per route. */
uint64_t outbox_purge_expired(struct outbox *o, int64_t now_ms, outbox_purge_fn fn, void *ctx);

struct outbox_stats {
    uint64_t depth, bytes, inflight;
    int64_t oldest_ms; /* creation time of the oldest entry, 0 if empty */
    uint64_t purged;
};
void outbox_get_stats(struct outbox *o, struct outbox_stats *st);
/* True when at or above max (the gateway then pauses inputs). */
bool outbox_full(struct outbox *o);

#endif
