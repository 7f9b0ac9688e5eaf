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
/* Public key file "fairgate-ed25519 ROLE HEX CERT" (or bare hex). role receives the
 * role the key certified itself for (CERT: its Ed25519 signature over
 * "fairgate-role-certificate-v1\nROLE\nHEX"), or "?" when there is no valid
 * certificate: the ROLE word alone is text anyone can edit and is never trusted. */
FG_MUST_CHECK fg_err keys_load_public(const char *path, unsigned char pk[32], char *role,
                                      size_t role_len, char *why, size_t why_len);
/* Role certificate of the key pair sk (64 bytes) for role. */
void keys_certify(const unsigned char *sk, const char *role, unsigned char cert[64]);
/* The role cert certifies for pk, or NULL. */
const char *keys_certified_role(const unsigned char pk[32], const unsigned char cert[64]);
/* Writes "fairgate-ed25519 ROLE HEX CERT\n" (0644, atomic). */
FG_MUST_CHECK fg_err keys_write_public(const char *path, const char *role,
                                       const unsigned char pk[32], const unsigned char cert[64],
                                       char *why, size_t why_len);
/* "3f2a-91c0-..." to read aloud (out >= 32): first 12 bytes of BLAKE2b-256 of the
 * key, the same as audit_fingerprint, so one key reads the same everywhere. */
void keys_fingerprint(const unsigned char pk[32], char *out, size_t out_len);
int keys_role_valid(const char *role);

#endif
