/* The daemon: local broker in, pipeline (decode, policy), outbox, upstream
 * broker out. Input rejections are counted by the pipeline (pipeline.h). */
#ifndef GATEWAY_H
#define GATEWAY_H

#include <stdatomic.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "common/fg_error.h"
#include "gateway/config.h"

struct gw_counters {
    atomic_uint_fast64_t forwarded_queued, out_acked, out_failed;
    atomic_uint_fast64_t upstream_connects, upstream_losses, local_connects, local_losses;
    atomic_uint_fast64_t paused;
};

/* Co-determination: FG_OK if every role in policy.required_roles signed these
 * exact bytes with the key configured for it (signers gets one object per
 * valid signer); otherwise why says what is missing, in one line. */
FG_MUST_CHECK fg_err gateway_check_policy_signatures(const struct fg_config *cfg, const char *text,
                                                     size_t len, cJSON *signers, char *why,
                                                     size_t why_len);

/* Runs until SIGTERM/SIGINT; returns the process exit code. */
int gateway_run(struct fg_config *cfg);

#endif
