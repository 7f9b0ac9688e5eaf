/* Re-identification tables: per pseudonym epoch, which identifier stands
 * behind which pseudonym, each entry sealed (libsodium sealed box) to the works
 * council's key. The gateway can write them but not read them; the table of an
 * epoch is destroyed together with the epoch's pseudonym key.
 *
 * File STATE/reident/epoch-N.sealed, one line per (route, pseudonym):
 *   ROUTE SP PSEUDONYM SP FIRST_SEEN_MS SP base64(seal({"id":..}))
 * Route and pseudonym are in clear: they are what upstream already sees. */
#ifndef REIDENT_H
#define REIDENT_H

#include <stddef.h>
#include <stdint.h>

#include "common/fg_error.h"

struct reident;

/* wc_pk: the works council's Ed25519 public key (converted to X25519 here). */
FG_MUST_CHECK fg_err reident_open(const char *dir, const unsigned char wc_pk[32],
                                  struct reident **out, char *why, size_t why_len);
/* Thread-safe, never touches the disk (safe on Paho's or a broker's thread):
 * queues the first sighting per (epoch, route, pseudonym) in memory. A
 * sighting that cannot be queued (out of memory, queue full, route or value
 * too long) is counted in reident_stats and logged once per kind. */
void reident_record(struct reident *r, int64_t epoch, const char *route, const char *value,
                    size_t len, const char *pseudonym);
/* Main thread (blocks on the disk): seals and appends what is queued,
 * skipping what an earlier run already wrote. What cannot be written stays
 * queued for the next call (counted, logged once). Returns entries written. */
size_t reident_flush(struct reident *r);
struct reident_stats {
    uint64_t written, queued, write_errors;
    uint64_t dropped_nomem, dropped_queue_full, dropped_too_long;
};
void reident_get_stats(struct reident *r, struct reident_stats *st);
/* Deletes an epoch's table and its queued sightings (its key is being destroyed). */
void reident_destroy_epoch(struct reident *r, int64_t epoch);
/* Flushes what it can, wipes the rest. */
void reident_close(struct reident *r);
/* The same without a running gateway (its key's deadline passed while it was stopped). */
void reident_destroy_epoch_offline(const char *dir, int64_t epoch);

/* Offline, with the works council's secret key (64-byte Ed25519). */
struct reident_hit {
    int64_t epoch;
    char route[64];
    char pseudonym[32];
    int64_t first_seen_ms;
};
/* FG_OK and id filled if found and opened; FG_ERR_NOT_FOUND if no kept epoch
 * has it; FG_ERR_CRYPTO if the key cannot open it (wrong key). */
FG_MUST_CHECK fg_err reident_lookup(const char *dir, const unsigned char *wc_sk, const char *route,
                                    const char *pseudonym, char *id, size_t id_len,
                                    struct reident_hit *hit);
/* Every (epoch, route, pseudonym) whose sealed identifier equals id. */
typedef void (*reident_hit_fn)(void *ctx, const struct reident_hit *hit);
FG_MUST_CHECK fg_err reident_subject(const char *dir, const unsigned char *wc_sk, const char *id,
                                     reident_hit_fn fn, void *ctx, size_t *opened, size_t *failed);

#endif
