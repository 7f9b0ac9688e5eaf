/* Pseudonyms: keyed BLAKE2b per epoch and per route (the pseudonym domain).
 * Each epoch key is random (never derived from a kept master), lives in its own
 * 0600 file and in sodium_malloc memory, and is destroyed once keep_keys has
 * passed: after that nobody, the gateway included, can link the pseudonyms. */
#ifndef PSEUDONYM_H
#define PSEUDONYM_H

#include <stddef.h>
#include <stdint.h>

#include "common/fg_error.h"

#define PSEUDONYM_KEY_BYTES 32
#define PSEUDONYM_HEX_LEN 24 /* 96 bits, hex */

struct pseudonym_keyring;

/* Event hook for the audit log: "pseudonym.rotated" / "pseudonym.key_destroyed". */
typedef void (*pseudonym_event_fn)(void *ctx, const char *action, int64_t epoch);

/* dir holds pseudonym-EPOCH.key files (created 0700). rotate_ms > 0. */
FG_MUST_CHECK fg_err pseudonym_keyring_open(const char *dir, int64_t rotate_ms, int64_t keep_ms,
                                            struct pseudonym_keyring **out, char *why,
                                            size_t why_len);
void pseudonym_keyring_set_hook(struct pseudonym_keyring *k, pseudonym_event_fn fn, void *ctx);
/* Called after every pseudonym_make (outside the keyring lock), so the gateway
 * can keep the sealed re-identification table. value is the raw identifier:
 * the observer must never log or store it in clear. */
typedef void (*pseudonym_observer_fn)(void *ctx, int64_t epoch, const char *domain,
                                      const char *value, size_t len, const char *pseudonym);
void pseudonym_keyring_set_observer(struct pseudonym_keyring *k, pseudonym_observer_fn fn,
                                    void *ctx);
/* Creates the current and the next epoch's key if needed and destroys every key whose
 * deadline (end of its epoch + keep_ms) has passed. Cheap when nothing changes. */
FG_MUST_CHECK fg_err pseudonym_keyring_tick(struct pseudonym_keyring *k, int64_t now_ms);
int64_t pseudonym_epoch_of(const struct pseudonym_keyring *k, int64_t now_ms);
/* Key lifetimes follow the active policy: call on every (re)load. The new rotation's
 * current and next keys are made before it takes effect; existing keys keep the end of
 * their epoch (those of the old rotation end at the next tick), and a shorter keep
 * applies at the next tick: call it at once. */
void pseudonym_keyring_configure(struct pseudonym_keyring *k, int64_t rotate_ms, int64_t keep_ms,
                                 int64_t now_ms);
/* Wall-clock ms of the next thing tick must do: a key's destruction deadline (end of
 * its epoch + keep) or the next epoch boundary. Call tick when now >= it. */
int64_t pseudonym_keyring_next_deadline(struct pseudonym_keyring *k);
/* Without a running keyring (e.g. `reidentify` while the daemon is stopped): destroys
 * every key in dir whose recorded deadline has passed, calling fn per epoch (with
 * "pseudonym.key_destroyed") so the caller can remove what goes with it. */
FG_MUST_CHECK fg_err pseudonym_expire_offline(const char *dir, int64_t now_ms,
                                              pseudonym_event_fn fn, void *ctx);
/* out gets PSEUDONYM_HEX_LEN hex chars + NUL. Fails if the epoch key is gone. */
FG_MUST_CHECK fg_err pseudonym_make(const struct pseudonym_keyring *k, int64_t epoch,
                                    const char *domain, const char *value, size_t len,
                                    char out[PSEUDONYM_HEX_LEN + 1]);
/* True while the key for epoch is kept. */
int pseudonym_has_epoch(const struct pseudonym_keyring *k, int64_t epoch);
void pseudonym_keyring_close(struct pseudonym_keyring *k);

#endif
