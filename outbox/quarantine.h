/* Quarantine: minimised messages the upstream refused (PUBACK reason >= 0x80,
 * or the connection dropped right after each of two lone sends), kept on disk
 * beside the outbox so the queue moves on. File DIR/quarantine.jsonl (0600),
 * one JSON object per line; DIR/retry.jsonl holds entries an operator sent
 * back (`fairgate outbox retry`) until the daemon re-queues them. Both files
 * are locked (flock) while read or written, so the daemon and the command
 * line can work at the same time. Blocking: every function does disk I/O;
 * call them from the main thread or a command, never from a Paho callback.
 * Retention still holds here: expired entries are deleted (and counted). */
#ifndef QUARANTINE_H
#define QUARANTINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/fg_error.h"
#include "outbox/outbox.h"

/* One entry as read back; strings owned by the caller's callback only while
 * it runs. */
struct quarantine_item {
    uint64_t id;
    int64_t time_ms; /* when it was quarantined */
    const char *reason, *topic, *payload, *route, *purpose, *policy;
    size_t len;
    int64_t created_ms, deadline_ms;
    uint32_t categories;
};

/* Appends e with its reason, fsync'd. */
FG_MUST_CHECK fg_err quarantine_put(const char *dir, const struct outbox_entry *e,
                                    const char *reason, int64_t now_ms);
/* Calls fn for every quarantined entry, oldest first. */
typedef void (*quarantine_fn)(void *ctx, const struct quarantine_item *it);
FG_MUST_CHECK fg_err quarantine_list(const char *dir, quarantine_fn fn, void *ctx, size_t *count);
/* Removes the entry with this id (all with all), moving it to retry.jsonl
 * when retry is set. *moved says how many. */
FG_MUST_CHECK fg_err quarantine_take(const char *dir, uint64_t id, bool all, bool retry,
                                     size_t *moved);
/* Deletes entries whose retention ended; fn gets each (for the audit). */
FG_MUST_CHECK fg_err quarantine_expire(const char *dir, int64_t now_ms, quarantine_fn fn, void *ctx,
                                       size_t *deleted);
/* Daemon: reads and removes retry.jsonl, calling fn per entry. */
FG_MUST_CHECK fg_err quarantine_retries(const char *dir, quarantine_fn fn, void *ctx,
                                        size_t *count);

#endif
