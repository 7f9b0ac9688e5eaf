/* The pipeline core: decode -> policy -> minimised messages (pipeline.h). */
#include "pipeline/pipeline.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>

#include "common/fg_util.h"

struct pipeline {
    struct pipeline_options opt;
    pthread_rwlock_t lock; /* guards policy: read per input, write to swap */
    struct policy *policy;
    int64_t clock; /* replay clock; the inputs of a replay come one at a time */
    struct pipeline_counters c;
};

static const char *const reject_names[PIPE_REJ__COUNT] = {
    "oversize payload",       "malformed payload", "wrong field type",         "value out of range",
    "required field missing", "unknown topic",     "no route for sensor type", "no valid policy",
    "policy error",           "outbox hard limit", "value not valid in MQTT"};

const char *pipeline_reject_name(pipeline_reject r)
{
    return (unsigned)r < PIPE_REJ__COUNT ? reject_names[r] : "?";
}

static pipeline_reject decode_reason(fg_err e)
{
    switch (e) {
    case FG_ERR_TYPE:
        return PIPE_REJ_WRONG_TYPE;
    case FG_ERR_RANGE:
    case FG_ERR_TOO_BIG:
        return PIPE_REJ_OUT_OF_RANGE;
    case FG_ERR_MISSING:
        return PIPE_REJ_MISSING_FIELD;
    case FG_ERR_UNKNOWN_TOPIC:
        return PIPE_REJ_UNKNOWN_TOPIC;
    default:
        return PIPE_REJ_MALFORMED;
    }
}

/* policy_output -> fg_message: the policy room knows nothing of the pipeline. */
static fg_err emit_adapter(void *ctx, const struct policy_output *o)
{
    struct pipeline *pl = ctx;
    struct fg_message m = {
        .route = o->route,
        .purpose = o->purpose,
        .topic = o->topic,
        .payload = o->payload,
        .len = o->len,
        .retention_ms = o->retention_ms,
        .categories = o->categories,
        .policy_name = o->policy_name,
        .policy_version = o->policy_version,
        .batch_max = o->batch_max,
        .batch_delay_ms = o->batch_delay_ms,
    };
    fg_err e = pl->opt.obs->emit(pl->opt.ctx, &m);
    if (e == FG_OK)
        atomic_fetch_add_explicit(&pl->c.emitted, 1, memory_order_relaxed);
    return e;
}

static void pseudonym_adapter(void *ctx, int64_t epoch, const char *domain, const char *value,
                              size_t len, const char *pseudonym)
{
    struct pipeline *pl = ctx;
    pl->opt.obs->pseudonym(pl->opt.ctx, epoch, domain, value, len, pseudonym);
}

fg_err pipeline_new(const struct pipeline_options *opt, struct pipeline **out)
{
    *out = NULL;
    if (!opt->obs || !opt->obs->emit || !opt->sensors || !opt->keys)
        return FG_ERR_CONFIG;
    struct pipeline *pl = calloc(1, sizeof *pl);
    if (!pl)
        return FG_ERR_NOMEM;
    pl->opt = *opt;
    pl->clock = PIPELINE_TIME_UNKNOWN;
    if (pthread_rwlock_init(&pl->lock, NULL) != 0) {
        free(pl);
        return FG_ERR_NOMEM;
    }
    if (opt->obs->pseudonym)
        pseudonym_keyring_set_observer(opt->keys, pseudonym_adapter, pl);
    *out = pl;
    return FG_OK;
}

void pipeline_free(struct pipeline *pl)
{
    if (!pl)
        return;
    if (pl->opt.obs->pseudonym)
        pseudonym_keyring_set_observer(pl->opt.keys, NULL, NULL);
    policy_free(pl->policy);
    pthread_rwlock_destroy(&pl->lock);
    free(pl);
}

fg_err pipeline_set_policy(struct pipeline *pl, struct policy *p, int64_t now_ms)
{
    pthread_rwlock_wrlock(&pl->lock);
    struct policy *old = pl->policy;
    pl->policy = p;
    pthread_rwlock_unlock(&pl->lock);
    fg_err e = FG_OK;
    if (old) {
        /* Nobody else reaches old any more: no lock needed. */
        e = policy_tick(old, now_ms, true, emit_adapter, pl);
        policy_free(old);
    }
    return e;
}

static void rejected(struct pipeline *pl, pipeline_reject r, fg_err cause, const char *why,
                     pipeline_reject *out)
{
    atomic_fetch_add_explicit(&pl->c.rejected[r], 1, memory_order_relaxed);
    if (pl->opt.obs->reject)
        pl->opt.obs->reject(pl->opt.ctx, r, cause, why);
    if (out)
        *out = r;
}

static int64_t record_time(const struct sensor_record *rec)
{
    const struct sensor_type *t = rec->type;
    for (size_t i = 0; i < t->nfields; i++)
        if (t->fields[i].type == SENSOR_TIMESTAMP && rec->values[i].present)
            return rec->values[i].v.i;
    return INT64_MIN;
}

/* Replay: the input's time moves the clock (never backwards); keys and
 * windows follow it before the input is applied. Write lock not needed: a
 * replay feeds one input at a time. */
static fg_err replay_clock(struct pipeline *pl, const struct sensor_record *rec, int64_t *now)
{
    int64_t t = *now;
    if (t == PIPELINE_TIME_UNKNOWN)
        t = record_time(rec);
    if (t == PIPELINE_TIME_UNKNOWN)
        t = pl->clock == PIPELINE_TIME_UNKNOWN ? fg_now_ms() : pl->clock;
    if (t > pl->clock)
        pl->clock = t;
    *now = pl->clock;
    if (pseudonym_keyring_tick(pl->opt.keys, pl->clock) != FG_OK)
        return FG_ERR_CRYPTO;
    return pl->policy ? policy_tick(pl->policy, pl->clock, false, emit_adapter, pl) : FG_OK;
}

static fg_err apply(struct pipeline *pl, struct sensor_record *rec, int64_t now,
                    pipeline_reject *reject, int *emitted)
{
    if (pl->opt.replay_clock) {
        fg_err e = replay_clock(pl, rec, &now);
        if (e)
            return e;
    }
    rec->received_ms = now;
    if (!pl->policy) {
        rejected(pl, PIPE_REJ_NO_POLICY, FG_ERR_DENIED, NULL, reject);
        return FG_OK;
    }
    if (!policy_reads_type(pl->policy, rec->type)) {
        rejected(pl, PIPE_REJ_NO_ROUTE, FG_ERR_DENIED, rec->type->name, reject);
        return FG_OK;
    }
    fg_err e = policy_apply(pl->policy, pl->opt.keys, rec, now, emit_adapter, pl, emitted);
    if (e == FG_ERR_FULL)
        rejected(pl, PIPE_REJ_OVERFLOW, e, NULL, reject);
    else if (e == FG_ERR_PARSE)
        rejected(pl, PIPE_REJ_INVALID_TEXT, e, NULL, reject);
    else if (e)
        rejected(pl, PIPE_REJ_POLICY_ERROR, e, fg_strerror(e), reject);
    return FG_OK;
}

fg_err pipeline_input(struct pipeline *pl, const char *topic, const void *payload, size_t len,
                      int64_t now_ms, pipeline_reject *reject, int *emitted)
{
    if (reject)
        *reject = PIPE_REJ_NONE;
    if (emitted)
        *emitted = 0;
    atomic_fetch_add_explicit(&pl->c.in, 1, memory_order_relaxed);
    if (pl->opt.max_payload && len > pl->opt.max_payload) {
        rejected(pl, PIPE_REJ_OVERSIZE, FG_ERR_TOO_BIG, NULL, reject);
        return FG_OK;
    }
    /* The record is large (8 KiB arena): one per thread, reused. */
    static _Thread_local struct sensor_record rec;
    char why[256] = "";
    fg_err e = sensor_decode(pl->opt.sensors, topic, payload, len, &rec, why, sizeof why);
    if (e) {
        rejected(pl, decode_reason(e), e, why, reject);
        return FG_OK;
    }
    pthread_rwlock_rdlock(&pl->lock);
    e = apply(pl, &rec, now_ms, reject, emitted);
    pthread_rwlock_unlock(&pl->lock);
    /* Raw telemetry lives only in memory and only this long. */
    sodium_memzero(rec.arena, rec.arena_used);
    return e;
}

fg_err pipeline_tick(struct pipeline *pl, int64_t now_ms, bool flush)
{
    pthread_rwlock_rdlock(&pl->lock);
    fg_err e = pl->policy ? policy_tick(pl->policy, now_ms, flush, emit_adapter, pl) : FG_OK;
    pthread_rwlock_unlock(&pl->lock);
    return e;
}

void pipeline_count_reject(struct pipeline *pl, pipeline_reject r, fg_err cause, const char *why)
{
    if ((unsigned)r < PIPE_REJ__COUNT)
        rejected(pl, r, cause, why, NULL);
}

const struct pipeline_counters *pipeline_counters(const struct pipeline *pl)
{
    return &pl->c;
}

int64_t pipeline_clock(const struct pipeline *pl)
{
    return pl->clock;
}

void pipeline_with_policy(struct pipeline *pl, void (*fn)(void *ctx, const struct policy *p),
                          void *ctx)
{
    pthread_rwlock_rdlock(&pl->lock);
    fn(ctx, pl->policy);
    pthread_rwlock_unlock(&pl->lock);
}
