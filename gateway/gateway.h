/* The daemon: local broker in, policy, outbox, upstream broker out. */
#ifndef GATEWAY_H
#define GATEWAY_H

#include <stdatomic.h>
#include <stdint.h>

#include "common/fg_error.h"
#include "gateway/config.h"

/* Why an input was not forwarded. Counted, logged by reason, never with content. */
typedef enum {
    GW_REJ_OVERSIZE = 0,
    GW_REJ_MALFORMED,
    GW_REJ_WRONG_TYPE,
    GW_REJ_OUT_OF_RANGE,
    GW_REJ_MISSING_FIELD,
    GW_REJ_UNKNOWN_TOPIC,
    GW_REJ_NO_ROUTE,
    GW_REJ_NO_POLICY,
    GW_REJ_POLICY_ERROR,
    GW_REJ_OVERFLOW, /* past the outbox's hard limit: only if inputs failed to pause */
    GW_REJ__COUNT
} gw_reject_reason;

const char *gw_reject_name(gw_reject_reason r);

struct gw_counters {
    atomic_uint_fast64_t in, forwarded_queued, out_acked, out_failed;
    atomic_uint_fast64_t rejected[GW_REJ__COUNT];
    atomic_uint_fast64_t upstream_connects, upstream_losses, local_connects, local_losses;
    atomic_uint_fast64_t paused;
};

/* Co-determination: FG_OK if every role in policy.required_roles signed these
 * exact bytes with the key configured for it (signers gets one object per
 * valid signer); otherwise why says what is missing, in one line. */
#include <cjson/cJSON.h>
FG_MUST_CHECK fg_err gateway_check_policy_signatures(const struct fg_config *cfg, const char *text,
                                                     size_t len, cJSON *signers, char *why,
                                                     size_t why_len);

/* Runs until SIGTERM/SIGINT; returns the process exit code. */
int gateway_run(struct fg_config *cfg);

#endif
