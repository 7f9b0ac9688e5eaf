/* The outbox's durable part: append-only segment files of checksummed records
 * (PUT an entry, ACK or PURGE an id). Internal to outbox/outbox.c; every call
 * is made with the outbox lock held. */
#ifndef OUTBOX_LOG_H
#define OUTBOX_LOG_H

#include <stdint.h>

#include "outbox/outbox.h"

enum { OLOG_PUT = 1, OLOG_ACK = 2, OLOG_PURGE = 3 };

struct outbox_log;

/* Called for each valid record found at open, in write order. For PUT, e is a
 * malloc'd entry the callee takes over. */
typedef void (*olog_recover_fn)(void *ctx, int type, uint64_t id, struct outbox_entry *e,
                                uint32_t seg);

FG_MUST_CHECK fg_err olog_open(const char *dir, outbox_sync_mode sync, int64_t segment_bytes,
                               olog_recover_fn fn, void *ctx, struct outbox_log **out,
                               uint64_t *next_id, char *why, size_t why_len);
/* Ids are reserved in durable blocks (file ids, fsync'd) before use, so an id
 * sent before a power cut is never handed out again after it. Cheap: one
 * fsync per block. */
FG_MUST_CHECK fg_err olog_reserve(struct outbox_log *l, uint64_t id);
/* Appends a PUT; *seg gets the segment it lives in. */
FG_MUST_CHECK fg_err olog_put(struct outbox_log *l, const struct outbox_entry *e, uint32_t *seg);
/* Buffers an ACK/PURGE record and releases the entry's place in its segment. */
void olog_done(struct outbox_log *l, int type, uint64_t id, uint32_t seg);
/* Writes buffered records, fsyncs in interval mode, deletes dead segments. */
FG_MUST_CHECK fg_err olog_sync(struct outbox_log *l);
/* After recovery: NULL zeroes every segment's live count; else counts one
 * live entry in *seg. */
void olog_recount(struct outbox_log *l, const uint32_t *seg);
uint64_t olog_segments(const struct outbox_log *l);
/* Read-only: every valid record of dir's segments, in order (changes nothing,
 * so it is safe beside a running daemon; a record being written may be
 * missed). */
FG_MUST_CHECK fg_err olog_scan(const char *dir, olog_recover_fn fn, void *ctx);
void olog_close(struct outbox_log *l);

#endif
