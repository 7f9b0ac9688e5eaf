/* Poison never blocks (issue 16): a message the upstream refuses goes to the
 * quarantine (outbox/quarantine.h) and the queue moves on.
 *  - PUBACK with a reason >= 0x80: refused at once.
 *  - The connection dropped while messages were in flight: we cannot tell
 *    which one the broker choked on, so the next connection sends one at a
 *    time (probe mode) until those are through. A message that was alone in
 *    flight when the connection dropped, twice, is the culprit.
 * Paho's thread only records (a small locked queue); the main thread writes
 * the quarantine, audits, re-queues what an operator retried and deletes what
 * outlived its retention. */
#include <stdio.h>
#include <string.h>

#include "common/fg_log.h"
#include "common/fg_util.h"
#include "gateway/gateway_internal.h"
#include "outbox/outbox.h"
#include "outbox/quarantine.h"

static void queue_poison(struct gateway *gw, uint64_t id, const char *reason)
{
    pthread_mutex_lock(&gw->poison_lock);
    bool queued = gw->npoison < GW_POISON_MAX;
    if (queued) {
        gw->poison[gw->npoison].id = id;
        snprintf(gw->poison[gw->npoison].reason, sizeof gw->poison[0].reason, "%s", reason);
        gw->npoison++;
    }
    pthread_mutex_unlock(&gw->poison_lock);
    /* No room to quarantine it now: back into the queue, so it is sent (and refused)
     * again later and its retention still runs, instead of sitting in flight for ever. */
    if (!queued)
        outbox_requeue(gw->outbox, id);
    gw_wake_main(gw);
}

void gw_poison_refused(struct gateway *gw, uint64_t id, int reason_code)
{
    char why[96];
    snprintf(why, sizeof why, "refused by the upstream broker (PUBACK reason %d: %s)", reason_code,
             MQTTReasonCode_toString((enum MQTTReasonCodes)reason_code));
    queue_poison(gw, id, why);
    gw_poison_acked(gw, id);
}

void gw_poison_acked(struct gateway *gw, uint64_t id)
{
    atomic_store(&gw->last_done_id, id);
    if (id == gw->suspect_id)
        gw->strikes = 0;
    int left = atomic_load(&gw->probe_left);
    while (left > 0 && !atomic_compare_exchange_weak(&gw->probe_left, &left, left - 1))
        ;
}

void gw_poison_sent(struct gateway *gw, uint64_t id, unsigned generation)
{
    atomic_store(&gw->last_sent_gen, generation);
    atomic_store(&gw->last_sent_id, id);
}

/* Paho may fail the publishes of a dropped connection before or after it
 * reports the loss, so what was in flight is judged by the last send of that
 * connection and whether it was answered, not by the in-flight count alone. */
void gw_poison_on_loss(struct gateway *gw, int inflight, unsigned generation)
{
    uint64_t id = atomic_load(&gw->last_sent_id);
    bool unanswered =
        id && atomic_load(&gw->last_sent_gen) == generation && atomic_load(&gw->last_done_id) != id;
    if (atomic_load(&gw->probe_left) > 0) {
        if (!unanswered)
            return;
        if (id != gw->suspect_id) {
            gw->suspect_id = id;
            gw->strikes = 0;
        }
        ++gw->strikes;
        fg_log_ratelimited("poison-suspect", FG_LOG_WARN, "upstream",
                           "the connection dropped while only message %s-%llu was in flight "
                           "(%d time(s))",
                           gw->instance, (unsigned long long)id, gw->strikes);
        if (gw->strikes >= 2) {
            gw->strikes = 0;
            queue_poison(gw, id,
                         "the upstream broker dropped the connection right after it, "
                         "twice");
        }
        return;
    }
    if (inflight > 0 || unanswered) /* one of these may be poison: one by one next time */
        atomic_store(&gw->probe_left, (inflight > 0 ? inflight : 1) + 1);
}

int gw_send_window(struct gateway *gw, int window)
{
    return atomic_load(&gw->probe_left) > 0 ? 1 : window;
}

static void move_to_quarantine(struct gateway *gw, uint64_t id, const char *reason)
{
    struct outbox_entry *e = outbox_copy(gw->outbox, id);
    if (!e)
        return; /* already gone (acknowledged after all, or expired) */
    if (quarantine_put(gw->outdir, e, reason, fg_now_ms()) != FG_OK) {
        fg_log_ratelimited("quarantine-write", FG_LOG_ERROR, "outbox",
                           "cannot write the quarantine in %s: the refused message stays in the "
                           "outbox",
                           gw->outdir);
        outbox_entry_free(e);
        outbox_requeue(gw->outbox, id); /* sent again later; its retention still runs */
        return;
    }
    outbox_ack(gw->outbox, id);                     /* out of the queue: the rest moves on */
    atomic_store(&gw->upstream.flap_backoff_ms, 0); /* the cause is gone: reconnect soon */
    atomic_fetch_add(&gw->quarantined, 1);
    atomic_fetch_add(&gw->quarantined_total, 1);
    fg_log_ratelimited("quarantine", FG_LOG_ERROR, "outbox",
                       "message %s-%llu of route %s quarantined: %s; later messages go on "
                       "(fairgate outbox list)",
                       gw->instance, (unsigned long long)id, e->route, reason);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "route", e->route);
    cJSON_AddStringToObject(o, "destination", gw->upstream_uri);
    cJSON_AddNumberToObject(o, "id", (double)id);
    cJSON_AddStringToObject(o, "reason", reason);
    gw_audit_event(gw, "outbox.quarantined", o);
    outbox_entry_free(e);
}

static void on_retry(void *ctx, const struct quarantine_item *it)
{
    struct gateway *gw = ctx;
    int64_t now = fg_now_ms();
    if (it->deadline_ms && it->deadline_ms <= now)
        return; /* its retention ended meanwhile: gone (counted by the caller) */
    struct fg_message m = {
        .route = it->route,
        .purpose = it->purpose,
        .topic = it->topic,
        .payload = it->payload,
        .len = it->len,
        .retention_ms = it->deadline_ms ? it->deadline_ms - now : 0,
        .categories = it->categories,
        .policy_name = it->policy,
    };
    fg_err e = outbox_put(gw->outbox, &m, now);
    if (e == FG_ERR_IO)
        atomic_store(&gw->write_failing, 1); /* kept in memory until written */
    else if (e)
        fg_error("outbox", "a retried message could not be queued: %s", fg_strerror(e));
}

static void on_expired(void *ctx, const struct quarantine_item *it)
{
    struct gateway *gw = ctx;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "route", it->route);
    cJSON_AddStringToObject(o, "destination", gw->upstream_uri);
    cJSON_AddNumberToObject(o, "count", 1);
    cJSON_AddStringToObject(o, "reason", "retention (quarantined)");
    gw_audit_event(gw, "outbox.purged", o);
}

void gw_poison_housekeeping(struct gateway *gw, int64_t mono)
{
    struct gw_poison_req reqs[GW_POISON_MAX];
    pthread_mutex_lock(&gw->poison_lock);
    size_t n = gw->npoison;
    memcpy(reqs, gw->poison, n * sizeof *reqs);
    gw->npoison = 0;
    pthread_mutex_unlock(&gw->poison_lock);
    for (size_t i = 0; i < n; i++)
        move_to_quarantine(gw, reqs[i].id, reqs[i].reason);
    if (mono - gw->poison_checked_ms < 1000)
        return;
    gw->poison_checked_ms = mono;
    size_t k = 0, expired = 0, count = 0;
    if (quarantine_retries(gw->outdir, on_retry, gw, &k) == FG_OK && k)
        fg_info("outbox", "%zu quarantined message(s) sent back to the queue", k);
    if (quarantine_expire(gw->outdir, fg_now_ms(), on_expired, gw, &expired) == FG_OK && expired)
        fg_info("outbox", "deleted %zu quarantined message(s): retention ended", expired);
    if (quarantine_list(gw->outdir, NULL, NULL, &count) == FG_OK)
        atomic_store(&gw->quarantined, count);
}
