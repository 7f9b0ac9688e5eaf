/* The input path, on Paho's receive thread: one message from the local broker
 * goes through the pipeline (decode, policy; no I/O there), then its outputs
 * are written to the outbox here, in one place, before Paho acknowledges the
 * input (it does when gw_on_message returns, whatever it returns). */
#include <errno.h>
#include <stdlib.h>
#include <sodium.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/fg_log.h"
#include "common/fg_util.h"
#include "council/reident.h"
#include "gateway/gateway_internal.h"
#include "outbox/outbox.h"

struct staged_msg {
    size_t topic, payload, route, purpose, policy; /* offsets into batch.buf */
    size_t len;
    int64_t retention_ms;
    uint32_t categories;
    int policy_version;
    int batch_max;
    int64_t batch_delay_ms;
};

/* Set while gw_on_message runs the pipeline: outputs are staged, not written.
 * Outputs from the main thread (window closes, flushes) go straight in. */
static _Thread_local struct staged_batch *tl_batch;

static size_t stage_str(struct staged_batch *b, const char *s, size_t n)
{
    if (b->used + n + 1 > b->bufcap) {
        size_t cap = b->bufcap ? b->bufcap : 4096;
        while (cap < b->used + n + 1)
            cap *= 2;
        char *nb = realloc(b->buf, cap);
        if (!nb) {
            b->nomem = true;
            return 0;
        }
        b->buf = nb;
        b->bufcap = cap;
    }
    size_t at = b->used;
    memcpy(b->buf + at, s, n);
    b->buf[at + n] = '\0';
    b->used += n + 1;
    return at;
}

static fg_err stage(struct staged_batch *b, const struct fg_message *m)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 8;
        struct staged_msg *nm = realloc(b->msgs, cap * sizeof *nm);
        if (!nm)
            return FG_ERR_NOMEM;
        b->msgs = nm;
        b->cap = cap;
    }
    struct staged_msg *s = &b->msgs[b->n];
    s->topic = stage_str(b, m->topic, strlen(m->topic));
    s->payload = stage_str(b, m->payload, m->len);
    s->route = stage_str(b, m->route, strlen(m->route));
    s->purpose = stage_str(b, m->purpose, strlen(m->purpose));
    s->policy = stage_str(b, m->policy_name, strlen(m->policy_name));
    if (b->nomem)
        return FG_ERR_NOMEM;
    s->len = m->len;
    s->retention_ms = m->retention_ms;
    s->categories = m->categories;
    s->policy_version = m->policy_version;
    s->batch_max = m->batch_max;
    s->batch_delay_ms = m->batch_delay_ms;
    b->n++;
    return FG_OK;
}

void gw_batch_free(struct staged_batch *b)
{
    free(b->msgs);
    free(b->buf);
    memset(b, 0, sizeof *b);
}

/* Pipeline observer: emit. */
static fg_err on_emit(void *ctx, const struct fg_message *m)
{
    struct gateway *gw = ctx;
    if (tl_batch)
        return stage(tl_batch, m);
    /* Main thread (aggregation windows closing): a failed write keeps the
     * entry in memory and pauses inputs (gw_manage_local); nothing waits. */
    fg_err e = outbox_put(gw->outbox, m, fg_now_ms());
    if (e == FG_ERR_IO) {
        atomic_store(&gw->write_failing, 1);
        e = FG_OK;
    }
    if (e == FG_OK)
        atomic_fetch_add(&gw->c.forwarded_queued, 1);
    return e;
}

/* Pipeline observer: a pseudonym was made. Queued in memory; the main thread
 * seals and writes it (housekeeping.c). */
static void on_pseudonym(void *ctx, int64_t epoch, const char *route, const char *value, size_t len,
                         const char *pseudonym)
{
    struct gateway *gw = ctx;
    if (gw->reident)
        reident_record(gw->reident, epoch, route, value, len, pseudonym);
}

/* Pipeline observer: an input was rejected (the pipeline counted it). The
 * first of each reason per stats interval is logged with its cause (field
 * names only, never values); the rest are summed in the stats line. */
static void on_reject(void *ctx, pipeline_reject r, fg_err cause, const char *why)
{
    struct gateway *gw = ctx;
    (void)cause;
    uint_fast64_t bit = (uint_fast64_t)1 << r;
    if (!(atomic_fetch_or(&gw->rej_logged_mask, bit) & bit))
        fg_warn("input", "rejected an input: %s%s%s", pipeline_reject_name(r),
                why && *why ? ": " : "", why ? why : "");
}

const struct pipeline_observer gw_pipeline_observer = {
    .emit = on_emit,
    .pseudonym = on_pseudonym,
    .reject = on_reject,
};

/* An output could not be written: Paho acknowledges the input when the
 * callback returns, so the output must be on disk first. Wait here (Paho's
 * receive thread stalls, and with it every Paho call of the main thread) until
 * a retry succeeds; no policy lock is held. A stop request ends the wait by
 * ending the process without returning: the input is never acknowledged and
 * the local broker redelivers it (design.md section 12: returning at all
 * would acknowledge it). */
static void wait_until_written(struct gateway *gw)
{
    if (!atomic_exchange(&gw->write_failing, 1)) {
        fg_error("outbox",
                 "cannot write the outbox in %s: %s; this input waits unacknowledged until it "
                 "can be written (retried every 200 ms), what is stored stays intact",
                 gw->outdir, strerror(errno ? errno : EIO));
        gw_wake_main(gw);
    }
    while (outbox_write_failing(gw->outbox) && !gw_stop) {
        struct timespec ts = {0, 200000000L};
        nanosleep(&ts, NULL);
        outbox_sync(gw->outbox);
    }
    if (!outbox_write_failing(gw->outbox)) {
        fg_info("outbox", "the outbox can be written again");
        return;
    }
    fg_error("gateway",
             "stopping while the outbox cannot be written: 1 input (and up to %lld more in "
             "flight) not acknowledged; the local broker will redeliver them",
             (long long)gw->cfg->local_receive_maximum - 1);
    _exit(3);
}

/* Writes the staged outputs of one input; true if any went in. */
static bool write_staged(struct gateway *gw, struct staged_batch *b)
{
    bool failing = false, any = false;
    int64_t now = fg_now_ms();
    for (size_t i = 0; i < b->n; i++) {
        const struct staged_msg *s = &b->msgs[i];
        struct fg_message m = {
            .route = b->buf + s->route,
            .purpose = b->buf + s->purpose,
            .topic = b->buf + s->topic,
            .payload = b->buf + s->payload,
            .len = s->len,
            .retention_ms = s->retention_ms,
            .categories = s->categories,
            .policy_name = b->buf + s->policy,
            .policy_version = s->policy_version,
            .batch_max = s->batch_max,
            .batch_delay_ms = s->batch_delay_ms,
        };
        fg_err e = outbox_put(gw->outbox, &m, now);
        if (e == FG_ERR_IO)
            failing = true; /* kept in memory, unsaved: written by a later sync */
        else if (e == FG_ERR_FULL) {
            /* Four times the bound: inputs kept coming although we paused
             * them. Paho acknowledges the input whatever we return. */
            fg_error("outbox", "outbox at its hard limit although inputs are paused: an "
                               "acknowledged input is lost");
            pipeline_count_reject(gw->pipe, PIPE_REJ_OVERFLOW, e, NULL);
            continue;
        } else if (e) {
            pipeline_count_reject(gw->pipe, PIPE_REJ_POLICY_ERROR, e, fg_strerror(e));
            continue;
        }
        any = true;
        atomic_fetch_add(&gw->c.forwarded_queued, 1);
    }
    if (failing)
        wait_until_written(gw);
    return any;
}

int gw_on_message(void *context, char *topic, int topic_len, MQTTAsync_message *m)
{
    struct gateway *gw = context;
    (void)topic_len;
    struct staged_batch *b = &gw->batch;
    b->n = b->used = 0;
    b->nomem = false;
    pipeline_reject rej;
    int emitted = 0;
    tl_batch = b;
    fg_err e =
        pipeline_input(gw->pipe, topic, m->payload, m->payloadlen > 0 ? (size_t)m->payloadlen : 0,
                       fg_now_ms(), &rej, &emitted);
    tl_batch = NULL;
    if (e)
        pipeline_count_reject(gw->pipe, PIPE_REJ_POLICY_ERROR, e, fg_strerror(e));
    else if (b->n && write_staged(gw, b)) {
        if (outbox_full(gw->outbox))
            gw_wake_main(gw); /* to pause inputs at once */
        else
            gw_pump_from_callback(gw);
    }
    /* Raw telemetry lives only in memory and only this long: Paho's buffers are
     * wiped before they go back to the allocator (no raw values in freed heap,
     * and so none in a core dump or swap). */
    if (m->payload && m->payloadlen > 0)
        sodium_memzero(m->payload, (size_t)m->payloadlen);
    if (topic)
        sodium_memzero(topic, strlen(topic));
    MQTTAsync_freeMessage(&m);
    MQTTAsync_free(topic);
    return 1; /* Paho acknowledges whatever we return (design.md section 12) */
}
