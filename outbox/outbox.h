/* The outbox: minimised messages waiting for the upstream broker, bounded in
 * messages and bytes, and (with a directory) durable in an append-only segment
 * log with a checksum per record. Only minimised messages (struct fg_message)
 * enter it; raw telemetry never does. THREAD SAFETY: every function locks; callers never hold the
 * lock across Paho calls.
 *
 * What survives (docs/operations.md has the table): a PUT is written (write(2))
 * before outbox_put returns, so a process crash loses nothing that was put. A
 * power cut loses what was not yet fsync'd: nothing with sync=always, up to the
 * sync interval with sync=interval. */
#ifndef OUTBOX_H
#define OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/fg_error.h"
#include "pipeline/message.h"

struct outbox;

typedef enum { OUTBOX_SYNC_ALWAYS = 0, OUTBOX_SYNC_INTERVAL, OUTBOX_SYNC_NEVER } outbox_sync_mode;

struct outbox_options {
    int64_t max_messages;
    int64_t max_bytes;
    int64_t slack_messages; /* accepted past the bound: inputs already in flight */
    const char *dir;        /* NULL: memory only (tests, replay) */
    outbox_sync_mode sync;
    int64_t segment_bytes; /* 0: 4 MiB */
};

/* A message handed to the sender; a copy it owns until outbox_entry_free. */
struct outbox_entry {
    uint64_t id; /* unique, stable across resends and restarts: consumers deduplicate on it */
    char *topic;
    char *payload;
    size_t len;
    char *route;
    char *purpose;
    char *policy;
    int64_t created_ms;
    int64_t deadline_ms; /* 0 = no retention limit */
    uint32_t categories;
    /* Batching (the route's batch key): memory only, never in the segment log,
     * so entries recovered after a restart are sent one per publish. */
    int batch_max;
    int64_t batch_delay_ms;
};

/* Opens (creating dir 0700) and recovers what an earlier run left: entries
 * not acknowledged upstream come back queued, in order. A torn last record
 * (crash mid-write) is cut off; why then says so. */
FG_MUST_CHECK fg_err outbox_open(const struct outbox_options *opt, struct outbox **out, char *why,
                                 size_t why_len);
void outbox_close(struct outbox *o);
uint64_t outbox_recovered(struct outbox *o);

/* FG_ERR_FULL past max + slack. FG_ERR_IO if the write failed: the entry is
 * then kept in memory only, outbox_write_failing() turns true until a later
 * outbox_sync() manages to write it (the caller stops taking inputs). */
FG_MUST_CHECK fg_err outbox_put(struct outbox *o, const struct fg_message *msg, int64_t now_ms);
/* Takes up to max queued (not in-flight) entries, oldest first, marking them
 * in flight. Returns how many were written to out[]. */
size_t outbox_take(struct outbox *o, struct outbox_entry **out, size_t max);
void outbox_entry_free(struct outbox_entry *e);
/* A run of queued entries for one publish, chosen by the caller: for each
 * queued entry in order, joins(ctx, first, e, n) says OUTBOX_JOIN (take it; first is
 * NULL until one was taken, n is how many were), OUTBOX_SKIP (leave it queued and
 * look further) or OUTBOX_STOP. At most max are taken; the scan ends after
 * OUTBOX_SCAN_MAX queued entries. out == NULL only counts (nothing is marked);
 * otherwise like outbox_take. Returns the run's length. */
enum outbox_join { OUTBOX_STOP = 0, OUTBOX_JOIN, OUTBOX_SKIP };
#define OUTBOX_SCAN_MAX 4096
typedef enum outbox_join (*outbox_join_fn)(void *ctx, const struct outbox_entry *first,
                                           const struct outbox_entry *e, size_t n);
size_t outbox_take_run(struct outbox *o, struct outbox_entry **out, size_t max,
                       outbox_join_fn joins, void *ctx);
/* The upstream acknowledged it: gone for good (its ACK record is written by
 * the next outbox_sync; until then a crash only causes a duplicate). */
void outbox_ack(struct outbox *o, uint64_t id);
/* A copy of a live entry (queued or in flight), or NULL: for the quarantine. */
struct outbox_entry *outbox_copy(struct outbox *o, uint64_t id);
/* The send failed: it goes back to the queue, in order. */
void outbox_requeue(struct outbox *o, uint64_t id);
/* Connection lost: everything in flight goes back to the queue. */
void outbox_requeue_all(struct outbox *o);

typedef void (*outbox_purge_fn)(void *ctx, const char *route, uint64_t count);
/* Deletes queued entries whose retention deadline has passed; reports per entry. */
uint64_t outbox_purge_expired(struct outbox *o, int64_t now_ms, outbox_purge_fn fn, void *ctx);

/* Main thread, often: writes pending ACK/PURGE records, retries failed writes,
 * fsyncs (interval mode), and deletes fully acknowledged segments. */
void outbox_sync(struct outbox *o);
bool outbox_write_failing(struct outbox *o);

struct outbox_stats {
    uint64_t depth, bytes, inflight;
    int64_t oldest_ms; /* creation time of the oldest entry, 0 if empty */
    uint64_t purged, write_errors, segments;
};
void outbox_get_stats(struct outbox *o, struct outbox_stats *st);
/* Read-only, from the files of dir (beside a running daemon too): calls fn for
 * every entry not yet acknowledged or purged, oldest first; *count says how
 * many. Blocks on the disk. */
FG_MUST_CHECK fg_err outbox_scan(const char *dir,
                                 void (*fn)(void *ctx, const struct outbox_entry *e), void *ctx,
                                 size_t *count);
/* True when at or above max (the gateway then pauses inputs). */
bool outbox_full(struct outbox *o);

#endif
