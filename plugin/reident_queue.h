/* First sightings of pseudonyms, handed from the broker's thread to the
 * housekeeping thread, which seals them into the re-identification tables
 * (council/reident: an X25519 sealed box and a file append each, too slow for
 * the broker's loop). The raw identifier waits here in memory only, for at
 * most one housekeeping round (100 ms), and is wiped when taken. If the queue
 * is full the entry is sealed at once on the broker's thread: never dropped. */
#ifndef FGP_REIDENT_QUEUE_H
#define FGP_REIDENT_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "common/fg_error.h"
#include "council/reident.h"

struct fgp_rq;

FG_MUST_CHECK fg_err fgp_rq_new(struct reident *r, struct fgp_rq **out);
/* A pseudonym_observer_fn for the broker's thread (one producer). */
void fgp_rq_observe(void *ctx, int64_t epoch, const char *domain, const char *value, size_t len,
                    const char *pseudonym);
/* Housekeeping: seals everything queued. Returns how many. */
size_t fgp_rq_drain(struct fgp_rq *q);
/* Drains, wipes and frees (NULL is fine). */
void fgp_rq_free(struct fgp_rq *q);
/* Sealed on the broker's thread because the queue was full. */
uint64_t fgp_rq_overflows(const struct fgp_rq *q);

#endif
