/* The sender: queued outbox entries go upstream, never more than the server's
 * Receive Maximum in flight (Paho never gets a backlog, design.md section 12).
 * Runs on the main thread, or on Paho's receive thread right after an input
 * was queued when nobody else is sending. */
#include <stdlib.h>
#include <string.h>

#include "audit/flows.h"
#include "common/fg_log.h"
#include "common/fg_util.h"
#include "gateway/gateway_internal.h"
#include "outbox/outbox.h"

/* One publish in flight; freed by its Paho callback. Carries what the flow
 * summary needs, never the payload itself. */
struct send_ctx {
    struct gateway *gw;
    uint64_t id;
    unsigned generation;
    uint32_t categories;
    unsigned char hash[32];
    int64_t sent_us;       /* for the publish latency histogram */
    char *route, *purpose; /* point into the same allocation */
};

static void on_publish_ok(void *context, MQTTAsync_successData5 *r)
{
    struct send_ctx *sc = context;
    struct gateway *gw = sc->gw;
    if (sc->generation == atomic_load(&gw->generation)) {
        if (r->reasonCode >= 0x80) {
            /* The broker refused it (e.g. not authorised): it never arrives
             * by retrying. Quarantined (poison.c), so the queue moves on. */
            atomic_fetch_add(&gw->c.out_failed, 1);
            gw_poison_refused(gw, sc->id, r->reasonCode); /* answered, too */
        } else {
            atomic_store(&gw->last_progress_ms, fg_monotonic_ms());
            atomic_fetch_add(&gw->c.out_acked, 1);
            metrics_observe_latency(&gw->latency, metrics_monotonic_us() - sc->sent_us);
            flows_add(gw->flows, sc->route, sc->purpose, sc->categories, sc->hash);
            outbox_ack(gw->outbox, sc->id);
            gw_poison_acked(gw, sc->id);
            atomic_store(&gw->upstream.flap_backoff_ms, 0); /* the link works */
        }
        atomic_fetch_sub(&gw->inflight, 1);
        gw_wake_main(gw);
    }
    free(sc);
}

static void on_publish_failed(void *context, MQTTAsync_failureData5 *r)
{
    struct send_ctx *sc = context;
    struct gateway *gw = sc->gw;
    if (sc->generation == atomic_load(&gw->generation) && r && r->reasonCode >= 0x80) {
        /* Paho reports a PUBACK with an error reason here, not to onSuccess. */
        atomic_fetch_add(&gw->c.out_failed, 1);
        gw_poison_refused(gw, sc->id, r->reasonCode);
        atomic_fetch_sub(&gw->inflight, 1);
        gw_wake_main(gw);
    } else if (sc->generation == atomic_load(&gw->generation)) {
        outbox_requeue(gw->outbox, sc->id);
        atomic_fetch_sub(&gw->inflight, 1);
        gw_wake_main(gw);
    }
    free(sc);
}

static void add_user_prop(MQTTProperties *props, const char *k, const char *v)
{
    MQTTProperty p = {.identifier = MQTTPROPERTY_CODE_USER_PROPERTY};
    p.value.data.data = (char *)k;
    p.value.data.len = (int)strlen(k);
    p.value.value.data = (char *)v;
    p.value.value.len = (int)strlen(v);
    MQTTProperties_add(props, &p);
}

static void build_properties(struct gateway *gw, const struct outbox_entry *e, int64_t now,
                             MQTTProperties *props)
{
    if (e->deadline_ms) {
        /* Message expiry carries the retention left, so upstream brokers drop
         * it when the policy says the data must be gone. The clock is read once per pump, so an
         * entry queued meanwhile may be younger than `now`: count from its creation then. Rounded
         * to the nearest second and never past the retention itself (1 d -> 86400). */
        int64_t from = now > e->created_ms ? now : e->created_ms;
        int64_t left = (e->deadline_ms - from + 500) / 1000;
        int64_t whole = (e->deadline_ms - e->created_ms) / 1000;
        if (left > whole)
            left = whole;
        MQTTProperty p = {.identifier = MQTTPROPERTY_CODE_MESSAGE_EXPIRY_INTERVAL};
        p.value.integer4 = (unsigned)(left > 0 ? left : 1);
        MQTTProperties_add(props, &p);
    }
    char id[48];
    snprintf(id, sizeof id, "%s-%llu", gw->instance, (unsigned long long)e->id);
    add_user_prop(props, "fairgate-id", id);
    add_user_prop(props, "purpose", e->purpose);
    add_user_prop(props, "policy", e->policy);
    add_user_prop(props, "route", e->route);
}

static struct send_ctx *send_ctx_new(struct gateway *gw, const struct outbox_entry *e)
{
    size_t lr = strlen(e->route) + 1, lp = strlen(e->purpose) + 1;
    struct send_ctx *sc = malloc(sizeof *sc + lr + lp);
    if (!sc)
        return NULL;
    sc->gw = gw;
    sc->id = e->id;
    sc->generation = atomic_load(&gw->generation);
    sc->categories = e->categories;
    sc->route = memcpy((char *)(sc + 1), e->route, lr);
    sc->purpose = memcpy(sc->route + lr, e->purpose, lp);
    flows_hash(e->topic, e->payload, e->len, sc->hash);
    sc->sent_us = metrics_monotonic_us();
    return sc;
}

/* A lost connection is never "deferred": the link goes down and reconnects. */
static void send_failed(struct gateway *gw, int rc)
{
    if (rc == MQTTASYNC_DISCONNECTED)
        gw_link_down(gw, &gw->upstream, "a send found the connection gone");
    else
        fg_log_ratelimited("send-deferred", FG_LOG_WARN, "upstream", "send deferred: %s",
                           MQTTAsync_strerror(rc));
}

static bool send_one(struct gateway *gw, struct outbox_entry *e, int64_t now)
{
    MQTTAsync_message m = MQTTAsync_message_initializer;
    MQTTProperties props = MQTTProperties_initializer;
    m.payload = e->payload;
    m.payloadlen = (int)e->len;
    m.qos = (int)gw->cfg->upstream_qos;
    build_properties(gw, e, now, &props);
    m.properties = props;
    struct send_ctx *sc = send_ctx_new(gw, e);
    if (!sc) {
        MQTTProperties_free(&props);
        return false;
    }
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    if (m.qos == 0) {
        /* At most once: handed to Paho is done. Paho reports QoS 0 success
         * only when its receive thread next wakes, which with no traffic
         * coming back can be long after: do not let that hold the window. */
        int rc = MQTTAsync_sendMessage(gw->upstream.client, e->topic, &m, &ro);
        MQTTProperties_free(&props);
        if (rc != MQTTASYNC_SUCCESS) {
            free(sc);
            outbox_requeue(gw->outbox, e->id);
            send_failed(gw, rc);
            return false;
        }
        atomic_fetch_add(&gw->c.out_acked, 1);
        flows_add(gw->flows, sc->route, sc->purpose, sc->categories, sc->hash);
        metrics_observe_latency(&gw->latency, metrics_monotonic_us() - sc->sent_us);
        outbox_ack(gw->outbox, sc->id);
        free(sc);
        return true;
    }
    ro.onSuccess5 = on_publish_ok;
    ro.onFailure5 = on_publish_failed;
    ro.context = sc;
    atomic_fetch_add(&gw->inflight, 1);
    gw_poison_sent(gw, e->id, sc->generation);
    int rc = MQTTAsync_sendMessage(gw->upstream.client, e->topic, &m, &ro);
    MQTTProperties_free(&props);
    if (rc != MQTTASYNC_SUCCESS) {
        atomic_fetch_sub(&gw->inflight, 1);
        free(sc);
        outbox_requeue(gw->outbox, e->id);
        send_failed(gw, rc);
        return false;
    }
    return true;
}

/* Sends queued entries while the window allows. One pumper at a time (the
 * lock keeps the upstream order); callers hold pump_lock. */
static void pump_locked(struct gateway *gw)
{
    if (atomic_load(&gw->upstream.state) != LINK_UP)
        return;
    int window = gw_send_window(gw, atomic_load(&gw->upstream.receive_max));
    int64_t now = fg_now_ms();
    for (;;) {
        int room = window - atomic_load(&gw->inflight);
        if (room <= 0)
            return;
        struct outbox_entry *batch[SEND_BATCH];
        size_t n = outbox_take(gw->outbox, batch, (size_t)(room < SEND_BATCH ? room : SEND_BATCH));
        if (n == 0)
            return;
        size_t i = 0;
        for (; i < n; i++) {
            bool ok = send_one(gw, batch[i], now);
            outbox_entry_free(batch[i]);
            if (!ok)
                break;
        }
        for (size_t k = i + 1; k < n; k++) {
            outbox_requeue(gw->outbox, batch[k]->id);
            outbox_entry_free(batch[k]);
        }
        if (i < n)
            return;
    }
}

void gw_pump(struct gateway *gw)
{
    pthread_mutex_lock(&gw->pump_lock);
    pump_locked(gw);
    pthread_mutex_unlock(&gw->pump_lock);
}

/* From Paho's receive thread right after an input was queued: send it now if
 * nobody else is sending, instead of waking the main thread for every message
 * (context switches, not privacy work, were the gateway's main cost). */
void gw_pump_from_callback(struct gateway *gw)
{
    if (pthread_mutex_trylock(&gw->pump_lock) != 0) {
        gw_wake_main(gw);
        return;
    }
    pump_locked(gw);
    pthread_mutex_unlock(&gw->pump_lock);
}
