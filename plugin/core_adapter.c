/* Adapter from the plugin to sensors/ + policy/ (see core_adapter.h). */
#include "plugin/core_adapter.h"

#include <sodium.h>
#include <string.h>

static const char *const names[FGP_REJ__COUNT] = {
    "oversize payload",         "malformed payload",      "wrong field type",
    "value out of range",       "required field missing", "unknown topic",
    "no route for sensor type", "no valid policy",        "policy error"};

const char *fgp_reject_name(fgp_reject r)
{
    return (unsigned)r < FGP_REJ__COUNT ? names[r] : "?";
}

static fgp_reject reason_of(fg_err e)
{
    switch (e) {
    case FG_ERR_TYPE:
        return FGP_REJ_WRONG_TYPE;
    case FG_ERR_RANGE:
    case FG_ERR_TOO_BIG:
        return FGP_REJ_OUT_OF_RANGE;
    case FG_ERR_MISSING:
        return FGP_REJ_MISSING_FIELD;
    case FG_ERR_UNKNOWN_TOPIC:
        return FGP_REJ_UNKNOWN_TOPIC;
    default:
        return FGP_REJ_MALFORMED;
    }
}

static fg_err emit_out(void *ctx, const struct policy_output *o)
{
    struct fgp_core *c = ctx;
    struct fgp_message m = {.route = o->route,
                            .purpose = o->purpose,
                            .topic = o->topic,
                            .payload = o->payload,
                            .len = o->len,
                            .retention_ms = o->retention_ms,
                            .categories = o->categories,
                            .policy_name = o->policy_name,
                            .policy_version = o->policy_version};
    return c->emit(c->ctx, &m);
}

fg_err fgp_core_input(struct fgp_core *c, const char *topic, const void *payload, size_t len,
                      int64_t now_ms, fgp_reject *reject, int *emitted, char *why, size_t why_len)
{
    /* The record is large (8 KiB arena): one, reused on the broker's thread. */
    static struct sensor_record rec;
    *reject = FGP_REJ_NONE;
    *emitted = 0;
    if (why_len)
        why[0] = '\0';
    if (c->max_payload && len > c->max_payload) {
        *reject = FGP_REJ_OVERSIZE;
        return FG_OK;
    }
    /* Fail closed: no policy, or one whose validity ended, refuses raw input
     * rather than letting it count as accepted. */
    if (!c->policy || policy_expired(c->policy, now_ms)) {
        *reject = FGP_REJ_NO_POLICY;
        return FG_OK;
    }
    fg_err e = sensor_decode(c->sensors, topic, payload, len, &rec, why, why_len);
    if (e) {
        *reject = reason_of(e);
        goto done;
    }
    rec.received_ms = now_ms;
    if (!policy_reads_type(c->policy, rec.type)) {
        *reject = FGP_REJ_NO_ROUTE;
        goto done;
    }
    e = policy_apply(c->policy, c->keys, &rec, now_ms, emit_out, c, emitted);
    if (e) {
        *reject = FGP_REJ_POLICY_ERROR;
        snprintf(why, why_len, "%s", fg_strerror(e));
    }
done:
    /* Raw telemetry lives only in memory and only this long. */
    sodium_memzero(rec.arena, rec.arena_used);
    return FG_OK;
}

fg_err fgp_core_tick(struct fgp_core *c, int64_t now_ms, bool flush)
{
    return c->policy ? policy_tick(c->policy, now_ms, flush, emit_out, c) : FG_OK;
}

fg_err fgp_core_set_policy(struct fgp_core *c, struct policy *p, int64_t now_ms)
{
    struct policy *old = c->policy;
    c->policy = p;
    fg_err e = FG_OK;
    if (old) {
        /* Aggregation windows of the old policy close now, under its rules. */
        e = policy_tick(old, now_ms, true, emit_out, c);
        policy_free(old);
    }
    return e;
}
