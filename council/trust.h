/* Trust that holds against the operator: which key stands for which role, which roles
 * must sign, and every weakening of that made visible in the audit log (issue 14).
 *
 * At every start and reload the daemon calls council_trust_audit: one `trust` event
 * (role -> fingerprint, required roles), then one `trust.weakened` event per weakening
 * that is in force, repeated at every start while it lasts:
 *   trust_key_changed      a trust slot holds another key than the accepted one
 *   required_roles_reduced fewer required roles than accepted
 *   codetermination_off    employer or works-council not required (or none at all)
 *   no_hostname_check      *.tls.insecure_no_hostname_check (lab mode)
 *   upstream_tls_off       minimised data leaves in clear text
 * The accepted trust lives in STATE/trust-accepted.json: written at the first start,
 * changed only by `fairgate keys accept-trust` (itself audited as trust.accepted).
 *
 * Versions only go up: council_policy_version_gate keeps the highest policy version
 * that took effect (STATE/policy-highest.json, and in the log's policy events). */
#ifndef COUNCIL_TRUST_H
#define COUNCIL_TRUST_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "common/fg_error.h"

struct audit;
struct fg_config;

/* The current trust of cfg as JSON: {"roles":{role:fingerprint},"required":[...]}.
 * NULL and why on a key that cannot be read. Caller frees. */
cJSON *council_trust_current(const struct fg_config *cfg, char *why, size_t why_len);
/* Writes the trust event and the weakenings (see above); returns how many weakenings.
 * Blocks (disk). Main thread. */
size_t council_trust_audit(struct audit *a, const struct fg_config *cfg, bool reload);
/* The weakenings found by the last council_trust_audit: count, and their kinds
 * comma-separated in kinds. THREAD SAFETY: any thread (metrics, /status). */
size_t council_trust_weakenings(char *kinds, size_t kinds_len);
/* The weakenings of cfg against what was accepted, as an array of {kind, ...}. */
cJSON *council_trust_weakenings_of(const struct fg_config *cfg, const cJSON *current);
/* Records the current trust as accepted (for `fairgate keys accept-trust`). */
FG_MUST_CHECK fg_err council_trust_accept(const struct fg_config *cfg, cJSON **accepted, char *why,
                                          size_t why_len);

/* FG_ERR_DENIED with why unless certified (from keys_load_public) is want: the
 * re-identification tables are sealed only to a certified works-council key. */
FG_MUST_CHECK fg_err council_trust_require_role(const char *pub_file, const char *certified,
                                                const char *want, char *why, size_t why_len);

/* Versions only go up: FG_OK if version may take effect (and records it as the
 * highest), FG_ERR_DENIED with why if it is older than the highest that took effect,
 * or equal with other content. highest (may be NULL) receives the highest version. */
FG_MUST_CHECK fg_err council_policy_version_gate(const struct fg_config *cfg, const char *policy,
                                                 int version, const char *digest, int *highest,
                                                 char *why, size_t why_len);

#endif
