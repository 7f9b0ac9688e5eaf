/* The plugin's one doorway into the pipeline: topic + payload -> decode
 * (sensors/) -> policy (policy/) -> minimised messages. Thin on purpose: it
 * mirrors the Paho-free pipeline core (pipeline/pipeline.h) so the plugin
 * drives the same code as the daemon. No MQTT, no disk, never blocks except
 * in the observer's functions. THREAD SAFETY: the broker's thread only. */
#ifndef FGP_CORE_ADAPTER_H
#define FGP_CORE_ADAPTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/fg_error.h"
#include "policy/policy.h"
#include "policy/pseudonym.h"
#include "sensors/sensor.h"

/* Why an input was refused: counted, logged by reason, never with content. */
typedef enum {
    FGP_REJ_OVERSIZE = 0,
    FGP_REJ_MALFORMED,
    FGP_REJ_WRONG_TYPE,
    FGP_REJ_OUT_OF_RANGE,
    FGP_REJ_MISSING_FIELD,
    FGP_REJ_UNKNOWN_TOPIC,
    FGP_REJ_NO_ROUTE,
    FGP_REJ_NO_POLICY,
    FGP_REJ_POLICY_ERROR,
    FGP_REJ__COUNT,
    FGP_REJ_NONE = -1
} fgp_reject;

const char *fgp_reject_name(fgp_reject r); /* static, never NULL */

/* One minimised message; pointers valid during the emit call only. */
struct fgp_message {
    const char *route, *purpose, *topic, *payload;
    size_t len;
    int64_t retention_ms; /* 0 = no limit */
    uint32_t categories;
    const char *policy_name;
    int policy_version;
};

typedef fg_err (*fgp_emit_fn)(void *ctx, const struct fgp_message *m);

struct fgp_core {
    const struct sensor_registry *sensors; /* borrowed */
    struct pseudonym_keyring *keys;        /* borrowed */
    struct policy *policy;                 /* owned; NULL: nothing is forwarded */
    size_t max_payload;
    fgp_emit_fn emit;
    void *ctx;
};

/* One input. FG_OK when processed; *reject is FGP_REJ_NONE if it was
 * accepted (emitted, or only counted in an aggregation window). An expired
 * or missing policy refuses (FGP_REJ_NO_POLICY). why: field names only. */
FG_MUST_CHECK fg_err fgp_core_input(struct fgp_core *c, const char *topic, const void *payload,
                                    size_t len, int64_t now_ms, fgp_reject *reject, int *emitted,
                                    char *why, size_t why_len);
/* Closes windows due by now_ms (all when flush). */
FG_MUST_CHECK fg_err fgp_core_tick(struct fgp_core *c, int64_t now_ms, bool flush);
/* Installs p (owned); the old policy's windows close under its own rules. */
FG_MUST_CHECK fg_err fgp_core_set_policy(struct fgp_core *c, struct policy *p, int64_t now_ms);

#endif
