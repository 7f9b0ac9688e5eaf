/* Role keys for co-determination: Ed25519 key pairs for the employer, the
 * works council and the gateway. The works council's key also opens the sealed
 * re-identification tables (its X25519 form, derived with libsodium). */
#ifndef KEYS_H
#define KEYS_H

#include <stddef.h>

#include "common/fg_error.h"

#define KEYS_ROLE_MAX 32

/* Writes OUT.key (secret, mode 0600) and OUT.pub; refuses to overwrite. */
FG_MUST_CHECK fg_err keys_generate(const char *role, const char *out_prefix, unsigned char pk[32],
                                   char *why, size_t why_len);
/* Secret key file: checks mode 0600; *sk is sodium_malloc'd (64 bytes), free
 * with sodium_free. role receives the role written in the file. */
FG_MUST_CHECK fg_err keys_load_secret(const char *path, unsigned char **sk, char *role,
                                      size_t role_len, char *why, size_t why_len);
/* Public key file "fairgate-ed25519 ROLE HEX" (or bare hex). */
FG_MUST_CHECK fg_err keys_load_public(const char *path, unsigned char pk[32], char *role,
                                      size_t role_len, char *why, size_t why_len);
/* "3f2a-91c0-..." to read aloud (out >= 32). */
void keys_fingerprint(const unsigned char pk[32], char *out, size_t out_len);
int keys_role_valid(const char *role);

#endif
