/* Detached signatures over a policy file's exact bytes, one line per signer in
 * POLICY.sig: {"role":..,"key":HEX,"sig":HEX,"time":..}. The signed message is
 *   "fairgate-policy-signature-v1\n" ROLE "\n" hex(BLAKE2b-256(policy bytes))
 * so a signature cannot be moved to another role or another version. */
#ifndef POLICY_SIG_H
#define POLICY_SIG_H

#include <stdbool.h>
#include <stddef.h>

#include "common/fg_error.h"

#define POLICYSIG_MAX 8

struct policysig_trust {
    const char *role;
    unsigned char pk[32];
};

struct policysig_signer {
    char role[32];
    char key_fp[40];
    char time[40];
    bool valid;   /* the signature verifies over these bytes */
    bool trusted; /* the key is the one configured for the role */
};

struct policysig_result {
    struct policysig_signer signers[POLICYSIG_MAX];
    size_t nsigners;
    bool ok;          /* every required role signed these bytes with its trusted key */
    char reason[256]; /* one line when !ok */
};

/* Appends a signature by sk (64 bytes) for role to sig_path. */
FG_MUST_CHECK fg_err policysig_sign(const char *text, size_t len, const char *sig_path,
                                    const unsigned char *sk, const char *role, char *why,
                                    size_t why_len);
/* Checks sig_path against the policy bytes. FG_OK when the check ran; see res->ok. */
FG_MUST_CHECK fg_err policysig_verify(const char *text, size_t len, const char *sig_path,
                                      const struct policysig_trust *trust, size_t ntrust,
                                      const char *const *required, size_t nrequired,
                                      struct policysig_result *res);
/* What a configuration asks of a policy's signatures: trusted keys per role,
 * required roles, and where the signatures are. Shared by the daemon,
 * `config check` and `policy verify --config`. */
struct fg_config;
struct policysig_setup {
    struct policysig_trust trust[4];
    size_t ntrust;
    const char *required[8];
    size_t nrequired;
    char roles[256];         /* storage for required[] */
    char trust_roles[4][32]; /* storage for trust[].role */
    char sig_path[4200];
};
/* Empty setup; required roles from csv ("employer,works-council"). */
void policysig_setup_init(struct policysig_setup *s, const char *required_csv);
/* Replaces the required roles. */
void policysig_setup_require(struct policysig_setup *s, const char *required_csv);
/* Adds ROLE's public key from a file (fairgate keys format). */
FG_MUST_CHECK fg_err policysig_setup_trust(struct policysig_setup *s, const char *role,
                                           const char *pub_file, char *why, size_t why_len);
/* policy.required_roles, trust.* and policy.signatures of cfg. */
FG_MUST_CHECK fg_err policysig_setup_from_config(struct policysig_setup *s,
                                                 const struct fg_config *cfg, char *why,
                                                 size_t why_len);
/* FG_ERR_CONFIG when a required role has no trusted key at all. */
FG_MUST_CHECK fg_err policysig_setup_complete(const struct policysig_setup *s, char *why,
                                              size_t why_len);

/* Default signature file: POLICY.sig */
void policysig_default_path(const char *policy_path, char *out, size_t out_len);

#endif
