/* The sender: queued outbox entries go upstream, never more than the server's
 * Receive Maximum in flight (Paho never gets a backlog, design.md section 12).
 * Runs on the main thread, or on Paho's receive thread right after an input
 * was queued when nobody else is sending. Routes with a batch key send several
 * records per publish (a JSON array, their ids in "fairgate-ids"); the outbox
 * keeps one entry per record (docs/performance.md, "Batched upstream"). */
#include <stdlib.h>
#include <string.h>

#include "audit/flows.h"
#include "common/fg_log.h"
#include "common/fg_util.h"
#include "gateway/gateway_internal.h"
#include "outbox/outbox.h"

/* One record of a publish: what the flow summary needs, never the payload. */
struct send_rec {
    uint64_t id;
    uint32_t categories;
    unsigned char hash[32];
};

/* One publish in flight (one record, or a batch of them); freed by its Paho
 * callback. The outbox keeps every record as its own entry: they are
 * acknowledged or requeued together. */
struct send_ctx {
    struct gateway *gw;
    unsigned generation;
    int64_t sent_us;       /* for the publish latency histogram */
    char *route, *purpose; /* point into the same allocation */
    size_t n;
    struct send_rec rec[]; /* n of them */
};

/* Every record of the publish is through: counted per record (the flow
 * summaries count records, not publishes). */
static void acked_all(struct gateway *gw, struct send_ctx *sc)
{
    atomic_fetch_add(&gw->c.out_acked, sc->n);
    metrics_observe_latency(&gw->latency, metrics_monotonic_us() - sc->sent_us);
    for (size_t i = 0; i < sc->n; i++) {
        flows_add(gw->flows, sc->route, sc->purpose, sc->rec[i].categories, sc->rec[i].hash);
        outbox_ack(gw->outbox, sc->rec[i].id);
        gw_poison_acked(gw, sc->rec[i].id);
    }
}

/* The broker refused the publish (PUBACK reason >= 0x80, e.g. not
 * authorised): it never arrives by retrying. One record: quarantined
 * (poison.c), so the queue moves on. A batch: its records go again one per
 * publish (probe mode), so only the ones refused on their own are quarantined. */
static void refused(struct gateway *gw, struct send_ctx *sc, int code)
{
    if (sc->n == 1) {
        atomic_fetch_add(&gw->c.out_failed, 1);
        gw_poison_refused(gw, sc->rec[0].id, code); /* answered, too */
        return;
    }
    for (size_t i = 0; i < sc->n; i++)
        outbox_requeue(gw->outbox, sc->rec[i].id);
    atomic_store(&gw->probe_left, (int)sc->n + 1);
}

static void on_publish_ok(void *context, MQTTAsync_successData5 *r)
{
    struct send_ctx *sc = context;
    struct gateway *gw = sc->gw;
    if (sc->generation == atomic_load(&gw->generation)) {
        if (r->reasonCode >= 0x80)
            refused(gw, sc, r->reasonCode);
        else {
            atomic_store(&gw->last_progress_ms, fg_monotonic_ms());
            acked_all(gw, sc);
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
    if (sc->generation == atomic_load(&gw->generation)) {
        if (r && r->reasonCode >= 0x80) /* Paho reports a refusing PUBACK here */
            refused(gw, sc, r->reasonCode);
        else
            for (size_t i = 0; i < sc->n; i++)
                outbox_requeue(gw->outbox, sc->rec[i].id);
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

/* Seconds of retention left, for the message expiry. The clock is read once per
 * pump, so an entry queued meanwhile may be younger than `now`: count from its
 * creation then. Rounded to the nearest second and never past the retention
 * itself (1 d -> 86400). */
static int64_t expiry_left(const struct outbox_entry *e, int64_t now)
{
    int64_t from = now > e->created_ms ? now : e->created_ms;
    int64_t left = (e->deadline_ms - from + 500) / 1000;
    int64_t whole = (e->deadline_ms - e->created_ms) / 1000;
    if (left > whole)
        left = whole;
    return left > 0 ? left : 1;
}

/* ids: "fairgate-id" (one record) or "fairgate-ids" (a batch, comma separated,
 * in the order of the array). */
static void build_properties(struct outbox_entry **e, size_t n, bool batch, int64_t now,
                             const char *ids, MQTTProperties *props)
{
    /* Message expiry carries the retention left, so upstream brokers drop it
     * when the policy says the data must be gone: a batch expires with its
     * record that has the least left. */
    int64_t left = 0;
    for (size_t i = 0; i < n; i++)
        if (e[i]->deadline_ms) {
            int64_t l = expiry_left(e[i], now);
            if (!left || l < left)
                left = l;
        }
    if (left) {
        MQTTProperty p = {.identifier = MQTTPROPERTY_CODE_MESSAGE_EXPIRY_INTERVAL};
        p.value.integer4 = (unsigned)left;
        MQTTProperties_add(props, &p);
    }
    add_user_prop(props, batch ? "fairgate-ids" : "fairgate-id", ids);
    add_user_prop(props, "purpose", e[0]->purpose);
    add_user_prop(props, "policy", e[0]->policy);
    add_user_prop(props, "route", e[0]->route);
}

static struct send_ctx *send_ctx_new(struct gateway *gw, struct outbox_entry **e, size_t n)
{
    size_t lr = strlen(e[0]->route) + 1, lp = strlen(e[0]->purpose) + 1;
    struct send_ctx *sc = malloc(sizeof *sc + n * sizeof sc->rec[0] + lr + lp);
    if (!sc)
        return NULL;
    sc->gw = gw;
    sc->n = n;
    sc->generation = atomic_load(&gw->generation);
    for (size_t i = 0; i < n; i++) {
        sc->rec[i].id = e[i]->id;
        sc->rec[i].categories = e[i]->categories;
        flows_hash(e[i]->topic, e[i]->payload, e[i]->len, sc->rec[i].hash);
    }
    sc->route = memcpy((char *)&sc->rec[n], e[0]->route, lr);
    sc->purpose = memcpy(sc->route + lr, e[0]->purpose, lp);
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

/* The payload of a batch: a JSON array of the records' payloads (each a JSON
 * object), in queue order. The ids, comma separated, in the same order. */
static char *batch_payload(struct gateway *gw, struct outbox_entry **e, size_t n, size_t *len,
                           char **ids)
{
    size_t total = 2, idlen = 1;
    for (size_t i = 0; i < n; i++) {
        total += e[i]->len + 1;
        idlen += sizeof gw->instance + 22;
    }
    char *buf = malloc(total + idlen);
    if (!buf)
        return NULL;
    char *p = buf, *q = buf + total;
    *ids = q;
    *p++ = '[';
    for (size_t i = 0; i < n; i++) {
        if (i) {
            *p++ = ',';
            *q++ = ',';
        }
        memcpy(p, e[i]->payload, e[i]->len);
        p += e[i]->len;
        q += sprintf(q, "%s-%llu", gw->instance, (unsigned long long)e[i]->id);
    }
    *p++ = ']';
    *q = '\0';
    *len = (size_t)(p - buf);
    return buf;
}

/* One publish: e[0] alone, or (route with a batch key) e[0..n) as one array. */
static bool send_run(struct gateway *gw, struct outbox_entry **e, size_t n, int64_t now)
{
    bool batch = e[0]->batch_max >= 2;
    MQTTAsync_message m = MQTTAsync_message_initializer;
    MQTTProperties props = MQTTProperties_initializer;
    char one_id[64], *ids = one_id, *buf = NULL;
    if (batch) {
        size_t len;
        if (!(buf = batch_payload(gw, e, n, &len, &ids)))
            return false;
        m.payload = buf;
        m.payloadlen = (int)len;
    } else {
        snprintf(one_id, sizeof one_id, "%s-%llu", gw->instance, (unsigned long long)e[0]->id);
        m.payload = e[0]->payload;
        m.payloadlen = (int)e[0]->len;
    }
    m.qos = (int)gw->cfg->upstream_qos;
    build_properties(e, n, batch, now, ids, &props);
    m.properties = props;
    struct send_ctx *sc = send_ctx_new(gw, e, n);
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    int rc = MQTTASYNC_FAILURE;
    if (sc && m.qos > 0) {
        ro.onSuccess5 = on_publish_ok;
        ro.onFailure5 = on_publish_failed;
        ro.context = sc;
        atomic_fetch_add(&gw->inflight, 1);
        gw_poison_sent(gw, e[n - 1]->id, sc->generation);
    }
    if (sc)
        rc = MQTTAsync_sendMessage(gw->upstream.client, e[0]->topic, &m, &ro);
    MQTTProperties_free(&props);
    free(buf);
    if (rc != MQTTASYNC_SUCCESS) {
        if (sc && m.qos > 0)
            atomic_fetch_sub(&gw->inflight, 1);
        free(sc);
        for (size_t i = 0; i < n; i++)
            outbox_requeue(gw->outbox, e[i]->id);
        if (sc)
            send_failed(gw, rc);
        return false;
    }
    if (m.qos == 0) {
        /* At most once: handed to Paho is done. Paho reports QoS 0 success
         * only when its receive thread next wakes, which with no traffic
         * coming back can be long after: do not let that hold the window. */
        acked_all(gw, sc);
        free(sc);
    }
    return true;
}

/* Which queued entries go in one publish: a run of single-record entries (each
 * its own publish, up to the window), or the entries of one route and topic
 * with a batch key (other routes' entries in between are passed over, so a
 * batch keeps the order of its topic, not across topics). Batches held back
 * for more records are skipped by the following runs. */
#define HELD_MAX 8
struct run_rule {
    size_t room;  /* publishes the window allows: singles taken at once */
    bool probing; /* one record per publish */
    /* the run's first entry */
    int batch_max;
    int64_t created_ms, delay_ms;
    bool key_fits; /* route and topic fit the held_ buffers */
    char route[64], topic[192];
    /* batches waiting for more records: route and topic */
    size_t nheld;
    char held_route[HELD_MAX][64], held_topic[HELD_MAX][192];
};

static bool same_key(const struct outbox_entry *a, const char *route, const char *topic)
{
    return strcmp(a->route, route) == 0 && strcmp(a->topic, topic) == 0;
}

static enum outbox_join joins(void *ctx, const struct outbox_entry *first,
                              const struct outbox_entry *e, size_t n)
{
    struct run_rule *rr = ctx;
    if (e->batch_max >= 2 && !rr->probing)
        for (size_t i = 0; i < rr->nheld; i++)
            if (same_key(e, rr->held_route[i], rr->held_topic[i]))
                return OUTBOX_SKIP;
    if (!first) {
        rr->batch_max = rr->probing ? 0 : e->batch_max;
        rr->created_ms = e->created_ms;
        rr->delay_ms = e->batch_delay_ms;
        rr->key_fits =
            rr->batch_max >= 2 &&
            snprintf(rr->route, sizeof rr->route, "%s", e->route) < (int)sizeof rr->route &&
            snprintf(rr->topic, sizeof rr->topic, "%s", e->topic) < (int)sizeof rr->topic;
        return OUTBOX_JOIN;
    }
    if (rr->probing)
        return OUTBOX_STOP;
    if (rr->batch_max < 2) /* a run of singles stops at the first batched entry */
        return e->batch_max < 2 && n < rr->room ? OUTBOX_JOIN : OUTBOX_STOP;
    if (e->batch_max == rr->batch_max && same_key(e, first->route, first->topic))
        return (int)n < rr->batch_max ? OUTBOX_JOIN : OUTBOX_STOP;
    return OUTBOX_SKIP;
}

/* A batch not yet full waits for more records while its oldest is younger
 * than max_delay. Counts the run without taking it; true: hold it back (its
 * key is noted, the main loop comes back when it is due). */
static bool hold_batch(struct gateway *gw, struct run_rule *rr, int64_t now, size_t *n)
{
    /* the first entry alone first: routes without a batch key pay one step */
    *n = outbox_take_run(gw->outbox, NULL, 1, joins, rr);
    if (*n == 0 || rr->batch_max < 2)
        return false;
    *n = outbox_take_run(gw->outbox, NULL, 256, joins, rr);
    if ((int)*n >= rr->batch_max)
        return false;
    int64_t due = rr->created_ms + rr->delay_ms;
    if (now < rr->created_ms || now >= due || rr->nheld == HELD_MAX || !rr->key_fits)
        return false;
    memcpy(rr->held_route[rr->nheld], rr->route, sizeof rr->route);
    memcpy(rr->held_topic[rr->nheld], rr->topic, sizeof rr->topic);
    rr->nheld++;
    int64_t was = atomic_load(&gw->batch_due_ms);
    if (!was || due < was)
        atomic_store(&gw->batch_due_ms, due);
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
    struct run_rule rr = {.probing = atomic_load(&gw->probe_left) > 0};
    atomic_store(&gw->batch_due_ms, 0);
    for (;;) {
        int room = window - atomic_load(&gw->inflight);
        if (room <= 0)
            return;
        rr.room = (size_t)(room < SEND_BATCH ? room : SEND_BATCH);
        size_t n;
        if (hold_batch(gw, &rr, now, &n))
            continue;
        if (n == 0)
            return;
        struct outbox_entry *run[256];
        n = outbox_take_run(gw->outbox, run, 256, joins, &rr);
        if (n == 0)
            return;
        bool ok = true;
        if (rr.batch_max >= 2)
            ok = send_run(gw, run, n, now);
        else
            for (size_t i = 0; i < n; i++) {
                if (!send_run(gw, run + i, 1, now)) {
                    for (size_t k = i + 1; k < n; k++)
                        outbox_requeue(gw->outbox, run[k]->id);
                    ok = false;
                    break;
                }
            }
        for (size_t i = 0; i < n; i++)
            outbox_entry_free(run[i]);
        if (!ok)
            return;
    }
}

/* How long the main loop may sleep: up to max_ms, less when a held batch is due. */
int gw_send_wait_ms(struct gateway *gw, int max_ms)
{
    int64_t due = atomic_load(&gw->batch_due_ms);
    if (!due)
        return max_ms;
    int64_t left = due - fg_now_ms();
    return left <= 0 ? 1 : left < max_ms ? (int)left : max_ms;
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
