/* The daemon. Two Paho MQTTAsync clients (local in, upstream out) share
 * Paho's one receive thread, so no callback here ever blocks or waits: inputs
 * are decoded, minimised and queued inside messageArrived (Paho sends the
 * PUBACK when it returns), and the main thread feeds the upstream from the
 * outbox, never more than the broker's Receive Maximum at a time. */
#include "gateway/gateway.h"

#include <MQTTAsync.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/fg_log.h"
#include "common/fg_util.h"
#include "certs/certs.h"
#include "audit/audit.h"
#include "audit/flows.h"
#include "gateway/metrics.h"
#include "council/keys.h"
#include "audit/inbox.h"
#include "outbox/outbox.h"
#include "council/reident.h"
#include "council/trust.h"
#include "council/policy_sig.h"
#include "certs/tls_probe.h"
#include "policy/policy.h"
#include "policy/pseudonym.h"
#include "sensors/sensor.h"

#define SEND_BATCH 64

static const char *const reject_names[GW_REJ__COUNT] = {
    "oversize payload",       "malformed payload", "wrong field type",         "value out of range",
    "required field missing", "unknown topic",     "no route for sensor type", "no valid policy",
    "policy error",           "outbox hard limit"};

const char *gw_reject_name(gw_reject_reason r)
{
    return (unsigned)r < GW_REJ__COUNT ? reject_names[r] : "?";
}

typedef enum { LINK_DOWN = 0, LINK_CONNECTING, LINK_UP } link_state;

struct link {
    const char *name; /* "local" or "upstream", for logs */
    MQTTAsync client;
    atomic_int state;
    int64_t next_attempt_ms, backoff_ms;
    atomic_int receive_max; /* upstream: the server's Receive Maximum */
    atomic_int subscribed;
    atomic_bool paused; /* local: disconnected on purpose for back-pressure (metrics read it) */
    atomic_int probe;   /* main thread: explain the last TLS failure */
    bool probed;        /* explained since the last success */
};

struct gateway {
    struct fg_config *cfg;
    struct audit *audit;             /* every flow, policy and key event; opened before any input */
    struct audit_reporter *reporter; /* report.dir: the council's report on a schedule */
    struct flows *flows;
    struct reident *reident; /* NULL without a works council key: nothing kept */
    char audit_dir[4096];
    char upstream_uri[300];
    uint64_t seen_connects, seen_losses, rej_audited[GW_REJ__COUNT];
    int64_t last_flow_ms, last_flow_wall_ms, last_rotate_ms;
    char policy_stamp[128];
    int64_t policy_polled_ms;
    bool expiry_reported;
    struct sensor_registry *sensors;
    struct policy *policy; /* NULL: nothing is forwarded */
    pthread_rwlock_t policy_lock;
    struct pseudonym_keyring *keys;
    struct outbox *outbox;
    struct link local, upstream;
    struct gw_counters c;
    uint64_t rej_last[GW_REJ__COUNT]; /* at last stats line */
    atomic_uint_fast64_t rej_logged_mask;
    atomic_int inflight;
    atomic_uint generation; /* bumped at every upstream connection */
    pthread_mutex_t wake_lock;
    pthread_cond_t wake;
    atomic_int sleeping, work;
    pthread_mutex_t pump_lock;
    int64_t last_stats_ms, last_sync_ms;
    atomic_int write_failing;
    char outdir[4096];
    char instance[40];       /* this gateway's id (state_dir/gateway-id): prefixes message ids */
    struct metrics *metrics; /* NULL unless metrics.port */
    struct metrics_histogram latency;
    int64_t started_ms;
    int cert_days[2]; /* local, upstream client certificate at start; -1: none */
};

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

static volatile sig_atomic_t g_stop, g_reload, g_report;

static void on_signal(int sig)
{
    if (sig == SIGHUP)
        g_reload = 1;
    else if (sig == SIGUSR1)
        g_report = 1; /* the works council's report, now (report.dir) */
    else
        g_stop = 1;
}

/* Callbacks only signal when the main thread really sleeps: one futex wake per
 * loop at most, instead of one per message and per ack (measured: the wake-ups,
 * not the privacy work, dominated the CPU). wait_main re-checks `work` under
 * the lock before sleeping, so no wake-up is lost. */
static void wake_main(struct gateway *gw)
{
    atomic_store(&gw->work, 1);
    if (atomic_load(&gw->sleeping)) {
        pthread_mutex_lock(&gw->wake_lock);
        pthread_cond_signal(&gw->wake);
        pthread_mutex_unlock(&gw->wake_lock);
    }
}

static void pump_from_callback(struct gateway *gw);

/* ---- inputs ------------------------------------------------------------------ */

static void reject(struct gateway *gw, gw_reject_reason r, const char *why)
{
    atomic_fetch_add(&gw->c.rejected[r], 1);
    /* First of each reason per stats interval is logged with its cause (field
     * names only, never values); the rest are summed in the stats line. */
    uint_fast64_t bit = (uint_fast64_t)1 << r;
    if (!(atomic_fetch_or(&gw->rej_logged_mask, bit) & bit))
        fg_warn("input", "rejected an input: %s%s%s", gw_reject_name(r), why && *why ? ": " : "",
                why ? why : "");
}

static gw_reject_reason reason_of(fg_err e)
{
    switch (e) {
    case FG_ERR_TYPE:
        return GW_REJ_WRONG_TYPE;
    case FG_ERR_RANGE:
    case FG_ERR_TOO_BIG:
        return GW_REJ_OUT_OF_RANGE;
    case FG_ERR_MISSING:
        return GW_REJ_MISSING_FIELD;
    case FG_ERR_UNKNOWN_TOPIC:
        return GW_REJ_UNKNOWN_TOPIC;
    default:
        return GW_REJ_MALFORMED;
    }
}

static fg_err emit_to_outbox(void *ctx, const struct policy_output *out)
{
    struct gateway *gw = ctx;
    fg_err e = outbox_put(gw->outbox, out, fg_now_ms());
    if (e == FG_ERR_IO) {
        /* Paho acknowledges the input when this callback returns, so the
         * output must be on disk first: wait here (stalling every input, and
         * upstream acks too) until the write succeeds. Only a stop request
         * ends the wait; the entry is then in memory only. */
        if (!atomic_exchange(&gw->write_failing, 1)) {
            fg_error("outbox",
                     "cannot write the outbox in %s: %s; inputs wait until it can be "
                     "written, what is stored stays intact",
                     gw->outdir, strerror(errno ? errno : EIO));
            wake_main(gw);
        }
        while (outbox_write_failing(gw->outbox) && !g_stop) {
            struct timespec ts = {0, 200000000L};
            nanosleep(&ts, NULL);
            outbox_sync(gw->outbox);
        }
        if (outbox_write_failing(gw->outbox))
            fg_error("outbox",
                     "stopping while the outbox cannot be written: up to %lld "
                     "acknowledged input(s) exist in memory only",
                     (long long)gw->cfg->local_receive_maximum);
        else
            fg_info("outbox", "the outbox can be written again");
        e = FG_OK;
    }
    if (e == FG_OK)
        atomic_fetch_add(&gw->c.forwarded_queued, 1);
    return e;
}

static int on_message(void *context, char *topic, int topic_len, MQTTAsync_message *m)
{
    struct gateway *gw = context;
    (void)topic_len;
    atomic_fetch_add(&gw->c.in, 1);
    char why[256] = "";
    if (m->payloadlen < 0 || m->payloadlen > gw->cfg->max_payload) {
        reject(gw, GW_REJ_OVERSIZE, NULL);
        goto done;
    }
    /* The record is large (8 KiB arena): one per callback thread, reused. */
    static _Thread_local struct sensor_record rec;
    fg_err e =
        sensor_decode(gw->sensors, topic, m->payload, (size_t)m->payloadlen, &rec, why, sizeof why);
    if (e) {
        reject(gw, reason_of(e), why);
        goto done;
    }
    rec.received_ms = fg_now_ms();
    pthread_rwlock_rdlock(&gw->policy_lock);
    if (!gw->policy) {
        pthread_rwlock_unlock(&gw->policy_lock);
        reject(gw, GW_REJ_NO_POLICY, NULL);
        goto done;
    }
    if (!policy_reads_type(gw->policy, rec.type)) {
        pthread_rwlock_unlock(&gw->policy_lock);
        reject(gw, GW_REJ_NO_ROUTE, rec.type->name);
        goto done;
    }
    int emitted = 0;
    e = policy_apply(gw->policy, gw->keys, &rec, rec.received_ms, emit_to_outbox, gw, &emitted);
    pthread_rwlock_unlock(&gw->policy_lock);
    if (e == FG_ERR_FULL) {
        /* Four times the bound: inputs kept coming although we paused them.
         * Paho acknowledges the input whatever we return, so say it plainly. */
        fg_error("outbox", "outbox at its hard limit although inputs are paused: an "
                           "acknowledged input is lost");
        reject(gw, GW_REJ_OVERFLOW, NULL);
        goto done;
    }
    if (e) {
        reject(gw, GW_REJ_POLICY_ERROR, fg_strerror(e));
        goto done;
    }
    if (outbox_full(gw->outbox))
        wake_main(gw); /* to pause inputs at once */
    else if (emitted)
        pump_from_callback(gw);
done:
    /* Raw telemetry lives only in memory and only this long. */
    sodium_memzero(rec.arena, rec.arena_used);
    MQTTAsync_freeMessage(&m);
    MQTTAsync_free(topic);
    return 1; /* Paho acknowledges whatever we return (see emit_to_outbox) */
}

/* We subscribe to nothing upstream; Paho insists on a handler all the same. */
static int on_upstream_message(void *context, char *topic, int topic_len, MQTTAsync_message *m)
{
    (void)context;
    (void)topic_len;
    MQTTAsync_freeMessage(&m);
    MQTTAsync_free(topic);
    return 1;
}

/* ---- connections ---------------------------------------------------------- */

static void link_failed(struct link *l, const char *what, int code, const char *msg)
{
    if (code == MQTTASYNC_FAILURE && !l->probed)
        atomic_store(&l->probe, 1);
    atomic_store(&l->state, LINK_DOWN);
    l->backoff_ms = l->backoff_ms ? l->backoff_ms * 2 : 200;
    if (l->backoff_ms > 30000)
        l->backoff_ms = 30000;
    /* jitter: 75%..125% so many gateways do not reconnect in lockstep */
    int64_t jitter = (int64_t)randombytes_uniform((uint32_t)(l->backoff_ms / 2 + 1));
    l->next_attempt_ms = fg_monotonic_ms() + l->backoff_ms * 3 / 4 + jitter;
    fg_log_ratelimited(l->name, FG_LOG_WARN, l->name, "%s failed (%d%s%s); retrying in %lld ms",
                       what, code, msg ? ": " : "", msg ? msg : "",
                       (long long)(l->next_attempt_ms - fg_monotonic_ms()));
}

static void on_local_lost(void *context, char *cause)
{
    struct gateway *gw = context;
    atomic_store(&gw->local.state, LINK_DOWN);
    atomic_store(&gw->local.subscribed, 0);
    atomic_fetch_add(&gw->c.local_losses, 1);
    if (!gw->local.paused)
        fg_warn("local", "connection to the local broker lost%s%s", cause ? ": " : "",
                cause ? cause : "");
    wake_main(gw);
}

static void on_upstream_lost(void *context, char *cause)
{
    struct gateway *gw = context;
    atomic_store(&gw->upstream.state, LINK_DOWN);
    atomic_fetch_add(&gw->generation, 1);
    atomic_store(&gw->inflight, 0);
    outbox_requeue_all(gw->outbox);
    atomic_fetch_add(&gw->c.upstream_losses, 1);
    fg_warn("upstream", "connection to the upstream broker lost%s%s; queued messages wait",
            cause ? ": " : "", cause ? cause : "");
    wake_main(gw);
}

static void on_sub_ok(void *context, MQTTAsync_successData5 *r)
{
    struct gateway *gw = context;
    if (r->reasonCode >= 0x80) {
        fg_error("local", "the local broker refused the subscription (reason %d)", r->reasonCode);
        return;
    }
    atomic_store(&gw->local.subscribed, 1);
    fg_info("local", "subscribed to %s", gw->cfg->local_subscribe);
}

static void on_sub_fail(void *context, MQTTAsync_failureData5 *r)
{
    (void)context;
    fg_error("local", "subscription failed (%d): %s", r->code, r->message ? r->message : "");
}

static void subscribe_local(struct gateway *gw)
{
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    ro.onSuccess5 = on_sub_ok;
    ro.onFailure5 = on_sub_fail;
    ro.context = gw;
    int rc = MQTTAsync_subscribe(gw->local.client, gw->cfg->local_subscribe, 1, &ro);
    if (rc != MQTTASYNC_SUCCESS)
        fg_error("local", "cannot subscribe: %s", MQTTAsync_strerror(rc));
}

static void on_local_connected(void *context, MQTTAsync_successData5 *r)
{
    struct gateway *gw = context;
    atomic_store(&gw->local.state, LINK_UP);
    gw->local.backoff_ms = 0;
    gw->local.probed = false;
    atomic_fetch_add(&gw->c.local_connects, 1);
    fg_info("local", "connected to %s (session %s)", r->alt.connect.serverURI,
            r->alt.connect.sessionPresent ? "resumed" : "new");
    /* Always (re)subscribe: cheap, and correct if the broker lost the session. */
    subscribe_local(gw);
}

static void on_local_connect_failed(void *context, MQTTAsync_failureData5 *r)
{
    struct gateway *gw = context;
    link_failed(&gw->local, "connecting to the local broker", r->code, r->message);
}

static void on_upstream_connected(void *context, MQTTAsync_successData5 *r)
{
    struct gateway *gw = context;
    int rm = 65535;
    if (MQTTProperties_hasProperty(&r->properties, MQTTPROPERTY_CODE_RECEIVE_MAXIMUM))
        rm = MQTTProperties_getNumericValue(&r->properties, MQTTPROPERTY_CODE_RECEIVE_MAXIMUM);
    int window = (int)gw->cfg->upstream_max_inflight;
    if (rm > 0 && rm < window)
        window = rm;
    atomic_store(&gw->upstream.receive_max, window);
    gw->upstream.backoff_ms = 0;
    gw->upstream.probed = false;
    atomic_fetch_add(&gw->generation, 1);
    atomic_store(&gw->inflight, 0);
    outbox_requeue_all(gw->outbox);
    atomic_store(&gw->upstream.state, LINK_UP);
    atomic_fetch_add(&gw->c.upstream_connects, 1);
    fg_info("upstream", "connected to %s; at most %d publishes in flight (server allows %d)",
            r->alt.connect.serverURI, window, rm);
    wake_main(gw);
}

static void on_upstream_connect_failed(void *context, MQTTAsync_failureData5 *r)
{
    struct gateway *gw = context;
    link_failed(&gw->upstream, "connecting to the upstream broker", r->code, r->message);
}

/* OpenSSL's reasons (e.g. "certificate verify failed", hostname mismatch) so
 * an operator reads why TLS refused the peer. */
static int on_ssl_error(const char *str, size_t len, void *u)
{
    const char *name = u;
    fg_log_ratelimited("tls-error", FG_LOG_ERROR, name, "TLS: %.*s", (int)len, str);
    return 0;
}

static fg_err create_client(struct gateway *gw, struct link *l, const struct config_broker *b,
                            MQTTAsync_connectionLost *lost, MQTTAsync_messageArrived *arrived)
{
    char uri[512];
    snprintf(uri, sizeof uri, "%s://%s:%lld", b->tls.enabled ? "ssl" : "tcp", b->host,
             (long long)b->port);
    MQTTAsync_createOptions co = MQTTAsync_createOptions_initializer5;
    co.sendWhileDisconnected = 0; /* we keep our own queue; Paho never gets a backlog */
    /* Paho 1.3.12 applies this bound while connected too (#1193): it must
     * exceed our own window, which is what really bounds Paho's queue. */
    co.maxBufferedMessages = 65535;
    int rc = MQTTAsync_createWithOptions(&l->client, uri, b->client_id, MQTTCLIENT_PERSISTENCE_NONE,
                                         NULL, &co);
    if (rc != MQTTASYNC_SUCCESS) {
        fg_error(l->name, "cannot create MQTT client for %s: %s", uri, MQTTAsync_strerror(rc));
        return FG_ERR_MQTT;
    }
    rc = MQTTAsync_setCallbacks(l->client, gw, lost, arrived, NULL);
    if (rc != MQTTASYNC_SUCCESS) {
        fg_error(l->name, "cannot set MQTT callbacks: %s", MQTTAsync_strerror(rc));
        return FG_ERR_MQTT;
    }
    return FG_OK;
}

static void start_connect(struct gateway *gw, struct link *l, const struct config_broker *b,
                          bool is_local)
{
    MQTTAsync_connectOptions o = MQTTAsync_connectOptions_initializer5;
    MQTTAsync_SSLOptions ssl = MQTTAsync_SSLOptions_initializer;
    MQTTProperties props = MQTTProperties_initializer;
    MQTTAsync_willOptions will = MQTTAsync_willOptions_initializer;
    o.keepAliveInterval = (int)b->keepalive_s;
    o.connectTimeout = 10;
    o.context = gw;
    o.username = b->username;
    o.maxInflight = is_local ? 1 : (int)gw->cfg->upstream_max_inflight;
    if (is_local) {
        /* Persistent session: while we are away (or paused) the local broker
         * keeps our inputs. Receive Maximum bounds unacknowledged inputs. */
        o.cleanstart = 0;
        MQTTProperty p = {.identifier = MQTTPROPERTY_CODE_SESSION_EXPIRY_INTERVAL};
        p.value.integer4 = (unsigned)(gw->cfg->local_session_expiry_ms / 1000);
        MQTTProperties_add(&props, &p);
        MQTTProperty rm = {.identifier = MQTTPROPERTY_CODE_RECEIVE_MAXIMUM};
        rm.value.integer2 = (unsigned short)gw->cfg->local_receive_maximum;
        MQTTProperties_add(&props, &rm);
        o.onSuccess5 = on_local_connected;
        o.onFailure5 = on_local_connect_failed;
        if (*gw->cfg->status_topic) {
            will.topicName = gw->cfg->status_topic;
            will.payload.data = "{\"state\":\"offline\"}";
            will.payload.len = (int)strlen(will.payload.data);
            will.retained = 1;
            will.qos = 1;
            o.will = &will;
        }
    } else {
        /* Clean start upstream: the outbox, not Paho, owns retransmission. */
        o.cleanstart = 1;
        o.onSuccess5 = on_upstream_connected;
        o.onFailure5 = on_upstream_connect_failed;
    }
    o.connectProperties = &props;
    if (b->tls.enabled) {
        ssl.trustStore = b->tls.ca;
        ssl.keyStore = b->tls.cert;
        ssl.privateKey = b->tls.key;
        ssl.enableServerCertAuth = 1;
        /* Paho's default skips the hostname check; verify=1 turns it on. */
        ssl.verify = b->tls.insecure_no_hostname_check ? 0 : 1;
        ssl.sslVersion = MQTT_SSL_VERSION_TLS_1_2;
        ssl.disableDefaultTrustStore = 1;
        ssl.ssl_error_cb = on_ssl_error;
        ssl.ssl_error_context = (void *)l->name;
        o.ssl = &ssl;
    }
    atomic_store(&l->state, LINK_CONNECTING);
    int rc = MQTTAsync_connect(l->client, &o);
    MQTTProperties_free(&props);
    if (rc != MQTTASYNC_SUCCESS)
        link_failed(l, "starting a connection", rc, MQTTAsync_strerror(rc));
}

/* ---- sending ------------------------------------------------------------------- */

static void on_publish_ok(void *context, MQTTAsync_successData5 *r)
{
    struct send_ctx *sc = context;
    struct gateway *gw = sc->gw;
    if (sc->generation == atomic_load(&gw->generation)) {
        if (r->reasonCode >= 0x80) {
            /* The broker refused it (e.g. not authorised): it never arrives
             * by retrying; count it and let it go. */
            atomic_fetch_add(&gw->c.out_failed, 1);
            fg_log_ratelimited("publish-refused", FG_LOG_WARN, "upstream",
                               "the upstream broker refused a publish (reason %d)", r->reasonCode);
        } else {
            atomic_fetch_add(&gw->c.out_acked, 1);
            metrics_observe_latency(&gw->latency, metrics_monotonic_us() - sc->sent_us);
            flows_add(gw->flows, sc->route, sc->purpose, sc->categories, sc->hash);
        }
        outbox_ack(gw->outbox, sc->id);
        atomic_fetch_sub(&gw->inflight, 1);
        wake_main(gw);
    }
    free(sc);
}

static void on_publish_failed(void *context, MQTTAsync_failureData5 *r)
{
    struct send_ctx *sc = context;
    struct gateway *gw = sc->gw;
    (void)r;
    if (sc->generation == atomic_load(&gw->generation)) {
        outbox_requeue(gw->outbox, sc->id);
        atomic_fetch_sub(&gw->inflight, 1);
        wake_main(gw);
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

static bool send_one(struct gateway *gw, struct outbox_entry *e, int64_t now)
{
    MQTTAsync_message m = MQTTAsync_message_initializer;
    MQTTProperties props = MQTTProperties_initializer;
    m.payload = e->payload;
    m.payloadlen = (int)e->len;
    m.qos = (int)gw->cfg->upstream_qos;
    if (e->deadline_ms) {
        /* Message expiry carries the retention left, so upstream brokers drop
         * it when the policy says the data must be gone. */
        int64_t left = (e->deadline_ms - now + 999) / 1000;
        MQTTProperty p = {.identifier = MQTTPROPERTY_CODE_MESSAGE_EXPIRY_INTERVAL};
        p.value.integer4 = (unsigned)(left > 0 ? left : 1);
        MQTTProperties_add(&props, &p);
    }
    char id[48];
    snprintf(id, sizeof id, "%s-%llu", gw->instance, (unsigned long long)e->id);
    add_user_prop(&props, "fairgate-id", id);
    add_user_prop(&props, "purpose", e->purpose);
    add_user_prop(&props, "policy", e->policy);
    add_user_prop(&props, "route", e->route);
    m.properties = props;
    size_t lr = strlen(e->route) + 1, lp = strlen(e->purpose) + 1;
    struct send_ctx *sc = malloc(sizeof *sc + lr + lp);
    if (!sc) {
        MQTTProperties_free(&props);
        return false;
    }
    sc->gw = gw;
    sc->id = e->id;
    sc->generation = atomic_load(&gw->generation);
    sc->categories = e->categories;
    sc->route = memcpy((char *)(sc + 1), e->route, lr);
    sc->purpose = memcpy(sc->route + lr, e->purpose, lp);
    flows_hash(e->topic, e->payload, e->len, sc->hash);
    sc->sent_us = metrics_monotonic_us();
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
            fg_log_ratelimited("send-deferred", FG_LOG_WARN, "upstream", "send deferred: %s",
                               MQTTAsync_strerror(rc));
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
    int rc = MQTTAsync_sendMessage(gw->upstream.client, e->topic, &m, &ro);
    MQTTProperties_free(&props);
    if (rc != MQTTASYNC_SUCCESS) {
        atomic_fetch_sub(&gw->inflight, 1);
        free(sc);
        outbox_requeue(gw->outbox, e->id);
        fg_log_ratelimited("send-deferred", FG_LOG_WARN, "upstream", "send deferred: %s",
                           MQTTAsync_strerror(rc));
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
    int window = atomic_load(&gw->upstream.receive_max);
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

static void pump(struct gateway *gw)
{
    pthread_mutex_lock(&gw->pump_lock);
    pump_locked(gw);
    pthread_mutex_unlock(&gw->pump_lock);
}

/* From Paho's receive thread right after an input was queued: send it now if
 * nobody else is sending, instead of waking the main thread for every message
 * (context switches, not privacy work, were the gateway's main cost). */
static void pump_from_callback(struct gateway *gw)
{
    if (pthread_mutex_trylock(&gw->pump_lock) != 0) {
        wake_main(gw);
        return;
    }
    pump_locked(gw);
    pthread_mutex_unlock(&gw->pump_lock);
}

/* ---- metrics and the status message ----------------------------------------- */

static int cert_days_now(const struct gateway *gw, int i, int64_t now)
{
    if (gw->cert_days[i] < 0)
        return -1;
    int64_t d = gw->cert_days[i] - (now - gw->started_ms) / 86400000;
    return d < 0 ? 0 : (int)d;
}

/* THREAD SAFETY: runs on the metrics server's thread as well as the main
 * thread: it reads atomics, outbox_get_stats (locked) and the policy under its
 * read lock, nothing else. Labels get route names and reasons only. */
static void fill_metrics(void *ctx, struct metrics_snapshot *s)
{
    struct gateway *gw = ctx;
    int64_t now = fg_now_ms();
    s->now_ms = now;
    s->started_ms = gw->started_ms;
    snprintf(s->version, sizeof s->version, "%s", FAIRGATE_VERSION);
    snprintf(s->site, sizeof s->site, "%s", gw->cfg->site);
    s->inputs = atomic_load(&gw->c.in);
    s->queued = atomic_load(&gw->c.forwarded_queued);
    s->sent = atomic_load(&gw->c.out_acked);
    s->refused_upstream = atomic_load(&gw->c.out_failed);
    for (int r = 0; r < GW_REJ__COUNT && s->nreasons < METRICS_MAX_REASONS; r++, s->nreasons++) {
        snprintf(s->rejected[s->nreasons].name, METRICS_NAME_MAX, "%s", reject_names[r]);
        s->rejected[s->nreasons].count = atomic_load(&gw->c.rejected[r]);
    }
    struct outbox_stats os;
    outbox_get_stats(gw->outbox, &os);
    s->outbox_messages = os.depth;
    s->outbox_bytes = os.bytes;
    s->outbox_inflight = os.inflight;
    s->outbox_oldest_age_ms = os.oldest_ms && now > os.oldest_ms ? now - os.oldest_ms : 0;
    s->outbox_write_errors = os.write_errors;
    s->retention_deleted = os.purged;
    s->inputs_paused = atomic_load(&gw->local.paused);
    s->input_pauses = atomic_load(&gw->c.paused);
    s->local.connected = atomic_load(&gw->local.state) == LINK_UP;
    s->local.connects = atomic_load(&gw->c.local_connects);
    s->local.losses = atomic_load(&gw->c.local_losses);
    s->local.cert_days_left = cert_days_now(gw, 0, now);
    s->upstream.connected = atomic_load(&gw->upstream.state) == LINK_UP;
    s->upstream.connects = atomic_load(&gw->c.upstream_connects);
    s->upstream.losses = atomic_load(&gw->c.upstream_losses);
    s->upstream.cert_days_left = cert_days_now(gw, 1, now);
    metrics_histogram_read(&gw->latency, &s->latency);
    s->trust_weakenings = (uint32_t)council_trust_weakenings(
        s->trust_weakening_kinds, sizeof s->trust_weakening_kinds); /* issue 14 */
    pthread_rwlock_rdlock(&gw->policy_lock);
    if (gw->policy) {
        s->policy_loaded = true;
        snprintf(s->policy_name, sizeof s->policy_name, "%s", policy_name(gw->policy));
        s->policy_version = policy_version(gw->policy);
        int64_t until = policy_valid_until_ms(gw->policy);
        s->policy_valid_until_s = until == INT64_MAX ? 0 : until / 1000;
        s->policy_expired = policy_expired(gw->policy, now);
        size_t n = policy_route_count(gw->policy);
        for (size_t i = 0; i < n && s->nroutes < METRICS_MAX_ROUTES; i++) {
            struct policy_route_stats rs;
            struct metrics_route *m = &s->routes[s->nroutes++];
            policy_route_stats(gw->policy, i, &rs);
            snprintf(m->name, sizeof m->name, "%s", rs.name);
            m->matched = rs.matched;
            m->filtered = rs.filtered;
            m->emitted = rs.emitted;
            m->late = rs.late;
            m->groups_published = rs.groups_published;
            m->groups_suppressed = rs.groups_suppressed;
            m->groups_secondary = rs.groups_secondary;
            m->totals_published = rs.totals_published;
            m->totals_suppressed = rs.totals_suppressed;
        }
    }
    pthread_rwlock_unlock(&gw->policy_lock);
}

/* Main thread, every stats interval: the retained status on the local broker
 * (QoS 1; fire and forget: the next one follows within an interval). */
static void publish_status(struct gateway *gw)
{
    if (!*gw->cfg->status_topic || atomic_load(&gw->local.state) != LINK_UP)
        return;
    struct metrics_snapshot *s = calloc(1, sizeof *s);
    char buf[2048];
    if (!s)
        return;
    fill_metrics(gw, s);
    size_t n = metrics_render_status_json(s, buf, sizeof buf);
    free(s);
    if (n >= sizeof buf)
        return;
    MQTTAsync_message m = MQTTAsync_message_initializer;
    m.payload = buf;
    m.payloadlen = (int)n;
    m.qos = 1;
    m.retained = 1;
    int rc = MQTTAsync_sendMessage(gw->local.client, gw->cfg->status_topic, &m, NULL);
    if (rc != MQTTASYNC_SUCCESS)
        fg_debug("local", "status not published: %s", MQTTAsync_strerror(rc));
}

/* ---- lifecycle -------------------------------------------------------------- */

static void log_stats(struct gateway *gw, bool final)
{
    fg_log_ratelimit_flush(); /* bursts that stopped: say how many lines were held back */
    struct outbox_stats os;
    outbox_get_stats(gw->outbox, &os);
    char rej[512] = "";
    size_t o = 0;
    uint64_t rej_total = 0;
    for (int r = 0; r < GW_REJ__COUNT; r++) {
        uint64_t v = atomic_load(&gw->c.rejected[r]);
        rej_total += v;
        uint64_t d = final ? v : v - gw->rej_last[r];
        if (d && o < sizeof rej)
            o += (size_t)snprintf(rej + o, sizeof rej - o, "%s%llu %s", o ? ", " : "",
                                  (unsigned long long)d, reject_names[r]);
        gw->rej_last[r] = v;
    }
    atomic_store(&gw->rej_logged_mask, 0);
    fg_info("stats",
            "%sin=%llu queued=%llu out=%llu rejected=%llu outbox=%llu inflight=%llu purged=%llu "
            "upstream=%s",
            final ? "final: " : "", (unsigned long long)atomic_load(&gw->c.in),
            (unsigned long long)atomic_load(&gw->c.forwarded_queued),
            (unsigned long long)atomic_load(&gw->c.out_acked), (unsigned long long)rej_total,
            (unsigned long long)os.depth, (unsigned long long)os.inflight,
            (unsigned long long)os.purged,
            atomic_load(&gw->upstream.state) == LINK_UP ? "up" : "down");
    if (*rej)
        fg_warn("input", "rejected %s: %s", final ? "in total" : "since the last report", rej);
}

static void audit_event(struct gateway *gw, const char *action, cJSON *object)
{
    if (audit_append(gw->audit, "gateway", action, object) != FG_OK)
        fg_log_ratelimited("audit-write", FG_LOG_ERROR, "audit",
                           "cannot write a %s event to the audit log", action);
    cJSON_Delete(object);
}

/* Retention deletions, summed per route and written once per sweep: after a
 * long outage thousands of entries may expire at once. */
struct purge_sum {
    struct gateway *gw;
    char route[64][64];
    uint64_t count[64];
    size_t n;
};

static void on_purge(void *ctx, const char *route, uint64_t count)
{
    struct purge_sum *ps = ctx;
    size_t i = 0;
    while (i < ps->n && strcmp(ps->route[i], route))
        i++;
    if (i == ps->n && ps->n < 64)
        snprintf(ps->route[ps->n++], sizeof ps->route[0], "%s", route);
    if (i < ps->n)
        ps->count[i] += count;
}

static void purge_expired(struct gateway *gw, int64_t now)
{
    struct purge_sum ps = {.gw = gw};
    if (!outbox_purge_expired(gw->outbox, now, on_purge, &ps))
        return;
    for (size_t i = 0; i < ps.n; i++) {
        fg_info("outbox", "deleted %llu unsent message(s) of route %s: retention ended",
                (unsigned long long)ps.count[i], ps.route[i]);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "route", ps.route[i]);
        cJSON_AddStringToObject(o, "destination", gw->upstream_uri);
        cJSON_AddNumberToObject(o, "count", (double)ps.count[i]);
        cJSON_AddStringToObject(o, "reason", "retention");
        audit_event(gw, "outbox.purged", o);
    }
}

static void on_pseudonym(void *ctx, int64_t epoch, const char *domain, const char *value,
                         size_t len, const char *pseudonym)
{
    struct gateway *gw = ctx;
    reident_record(gw->reident, epoch, domain, value, len, pseudonym);
}

static void on_key_event(void *ctx, const char *action, int64_t epoch)
{
    struct gateway *gw = ctx;
    /* The sealed table goes with the key: afterwards nobody can re-identify. */
    if (gw->reident && !strcmp(action, "pseudonym.key_destroyed"))
        reident_destroy_epoch(gw->reident, epoch);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "epoch", (double)epoch);
    audit_event(gw, action, o);
}

/* Events raised by Paho callbacks are written here, on the main thread, so no
 * callback ever waits for the disk. */
static void audit_housekeeping(struct gateway *gw, int64_t mono, bool final)
{
    uint64_t c = atomic_load(&gw->c.upstream_connects), l = atomic_load(&gw->c.upstream_losses);
    if (c != gw->seen_connects) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "broker", gw->upstream_uri);
        cJSON_AddNumberToObject(o, "count", (double)(c - gw->seen_connects));
        audit_event(gw, "upstream.connected", o);
        gw->seen_connects = c;
    }
    if (l != gw->seen_losses) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "broker", gw->upstream_uri);
        cJSON_AddNumberToObject(o, "count", (double)(l - gw->seen_losses));
        audit_event(gw, "upstream.lost", o);
        gw->seen_losses = l;
    }
    if (final || mono - gw->last_flow_ms >= gw->cfg->audit_flow_interval_ms) {
        int64_t now = fg_now_ms();
        flows_flush(gw->flows, gw->audit, gw->upstream_uri, gw->last_flow_wall_ms, now);
        gw->last_flow_ms = mono;
        gw->last_flow_wall_ms = now;
        /* Rejected inputs: counts by reason, never content. */
        cJSON *o = NULL;
        for (int r = 0; r < GW_REJ__COUNT; r++) {
            uint64_t v = atomic_load(&gw->c.rejected[r]);
            if (v == gw->rej_audited[r])
                continue;
            if (!o)
                o = cJSON_CreateObject();
            cJSON_AddNumberToObject(o, reject_names[r], (double)(v - gw->rej_audited[r]));
            gw->rej_audited[r] = v;
        }
        if (o)
            audit_event(gw, "input.rejected", o);
    }
    if (mono - gw->last_rotate_ms >= gw->cfg->audit_rotate_ms) {
        gw->last_rotate_ms = mono;
        if (audit_rotate_epoch(gw->audit) != FG_OK)
            fg_error("audit", "cannot hand the audit log over to a new signing key");
    }
    audit_inbox_ingest(gw->audit, gw->audit_dir);
    audit_reporter_tick(gw->reporter, gw->audit, gw->policy, mono, g_report);
    g_report = 0;
    audit_tick(gw->audit, mono);
}

static fg_err load_sensors(struct gateway *gw)
{
    char why[512];
    fg_err e = sensor_registry_new(&gw->sensors);
    if (e)
        return e;
    if (gw->cfg->sensors_builtin &&
        (e = sensor_registry_load_builtin(gw->sensors, why, sizeof why))) {
        fg_error("sensors", "%s", why);
        return e;
    }
    for (size_t i = 0; i < gw->cfg->nsensor_dirs; i++)
        if ((e = sensor_registry_load_dir(gw->sensors, gw->cfg->sensor_dirs[i], why, sizeof why))) {
            fg_error("sensors", "%s", why);
            return e;
        }
    fg_info("sensors", "%zu sensor types loaded", sensor_registry_count(gw->sensors));
    return FG_OK;
}

static void log_policy_warning(void *ctx, const char *msg)
{
    (void)ctx;
    fg_warn("policy", "%s", msg);
}

/* Co-determination: every required role must have signed these exact bytes
 * with the key the configuration trusts for it. */
fg_err gateway_check_policy_signatures(const struct fg_config *cfg, const char *text, size_t len,
                                       cJSON *signers, char *why, size_t why_len)
{
    struct policysig_setup su;
    if (policysig_setup_from_config(&su, cfg, why, why_len) != FG_OK)
        return FG_ERR_CONFIG;
    if (!su.nrequired) {
        fg_warn("policy", "policy.required_roles is empty: the policy takes effect unsigned "
                          "(lab use only)");
        return FG_OK;
    }
    if (policysig_setup_complete(&su, why, why_len) != FG_OK)
        return FG_ERR_CONFIG;
    struct policysig_result res;
    if (policysig_verify(text, len, su.sig_path, su.trust, su.ntrust, su.required, su.nrequired,
                         &res) != FG_OK) {
        snprintf(why, why_len, "cannot read the policy signatures");
        return FG_ERR_IO;
    }
    for (size_t i = 0; i < res.nsigners; i++) {
        if (!res.signers[i].valid || !res.signers[i].trusted)
            continue;
        cJSON *s = cJSON_CreateObject();
        cJSON_AddStringToObject(s, "role", res.signers[i].role);
        cJSON_AddStringToObject(s, "key", res.signers[i].key_fp);
        cJSON_AddStringToObject(s, "signed", res.signers[i].time);
        cJSON_AddItemToArray(signers, s);
    }
    if (!res.ok) {
        snprintf(why, why_len, "%s", res.reason);
        return FG_ERR_SIGNATURE;
    }
    return FG_OK;
}

/* Loads the policy file; on failure the old policy (or none) stays in force. */
static void load_policy(struct gateway *gw, bool reload)
{
    char why[512];
    struct policy *p = NULL;
    if (!gw->cfg->policy_file) {
        fg_error("policy", "no policy.file configured: nothing will be forwarded");
        return;
    }
    char *text = NULL;
    size_t tlen = 0;
    cJSON *signers = cJSON_CreateArray();
    fg_err e = FG_OK;
    if (fg_read_file(gw->cfg->policy_file, 4u << 20, &text, &tlen) != FG_OK) {
        snprintf(why, sizeof why, "%s cannot be read", gw->cfg->policy_file);
        e = FG_ERR_IO;
    }
    /* The signatures are checked over the very bytes that are then parsed. */
    if (!e)
        e = gateway_check_policy_signatures(gw->cfg, text, tlen, signers, why, sizeof why);
    if (!e)
        e = policy_load_string(gw->cfg->policy_file, text, tlen, gw->sensors, gw->cfg->site, &p,
                               why, sizeof why);
    if (!e && policy_needs_signatures(p) && cJSON_GetArraySize(signers) == 0) {
        /* Health data and exceptions only under a policy both sides signed. */
        snprintf(why, sizeof why,
                 policy_names_health(p)
                     ? "the policy lets health data leave the site but is not signed"
                     : "the policy declares exceptions (worker ids kept, persons behind things, "
                       "small groups) but is not signed");
        policy_free(p);
        p = NULL;
        e = FG_ERR_DENIED;
    }
    char digest[65] = "";
    if (text) {
        unsigned char h[32];
        crypto_generichash(h, sizeof h, (unsigned char *)text, tlen, NULL, 0);
        sodium_bin2hex(digest, sizeof digest, h, sizeof h);
        free(text);
    }
    if (e) {
        cJSON_Delete(signers);
        fg_error("policy", "policy refused: %s; %s", why,
                 gw->policy ? "the previous policy stays in force" : "nothing will be forwarded");
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "file", gw->cfg->policy_file);
        cJSON_AddStringToObject(o, "reason", why);
        cJSON_AddStringToObject(o, "digest", digest);
        cJSON_AddBoolToObject(o, "previous_stays", gw->policy != NULL);
        audit_event(gw, "policy.refused", o);
        return;
    }
    int64_t now = fg_now_ms();
    char until[40] = "never";
    if (policy_valid_until_ms(p) != INT64_MAX)
        fg_format_time(policy_valid_until_ms(p), until, sizeof until);
    if (policy_expired(p, now)) {
        /* A pilot that ended forwards nothing; an older valid policy, if any,
         * stays in force, exactly as for an unsigned one. */
        fg_error("policy", "policy refused: %s version %d expired on %s; %s", policy_name(p),
                 policy_version(p), until,
                 gw->policy ? "the previous policy stays in force" : "nothing will be forwarded");
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "policy", policy_name(p));
        cJSON_AddNumberToObject(o, "version", policy_version(p));
        cJSON_AddStringToObject(o, "valid_until", until);
        cJSON_AddStringToObject(o, "digest", digest);
        cJSON_AddBoolToObject(o, "previous_stays", gw->policy != NULL);
        audit_event(gw, "policy.expired", o);
        cJSON_Delete(signers);
        policy_free(p);
        return;
    }
    /* issue 14: versions only go up (a lower, or equal but different, one is refused) */
    int highest = 0;
    if (council_policy_version_gate(gw->cfg, policy_name(p), policy_version(p), digest, &highest,
                                    why, sizeof why) != FG_OK) {
        fg_error("policy", "policy refused: %s; %s", why,
                 gw->policy ? "the previous policy stays in force" : "nothing will be forwarded");
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "policy", policy_name(p));
        cJSON_AddNumberToObject(o, "version", policy_version(p));
        cJSON_AddNumberToObject(o, "highest_version", highest);
        cJSON_AddStringToObject(o, "reason", why);
        cJSON_AddStringToObject(o, "digest", digest);
        cJSON_AddBoolToObject(o, "previous_stays", gw->policy != NULL);
        audit_event(gw, "policy.refused", o);
        cJSON_Delete(signers);
        policy_free(p);
        return;
    }
    {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "policy", policy_name(p));
        cJSON_AddNumberToObject(o, "version", policy_version(p));
        cJSON_AddNumberToObject(o, "highest_version", highest);
        cJSON_AddStringToObject(o, "valid_until", until);
        cJSON_AddStringToObject(o, "digest", digest);
        cJSON_AddStringToObject(o, "file", gw->cfg->policy_file);
        cJSON_AddItemToObject(o, "signers", signers);
        audit_event(gw, reload ? "policy.reloaded" : "policy.loaded", o);
    }
    policy_check_warnings(p, log_policy_warning, gw);
    pthread_rwlock_wrlock(&gw->policy_lock);
    struct policy *old = gw->policy;
    gw->policy = p;
    gw->expiry_reported = false;
    pthread_rwlock_unlock(&gw->policy_lock);
    if (old) {
        /* Aggregation windows of the old policy close now, under its rules. */
        fg_err te = policy_tick(old, now, true, emit_to_outbox, gw);
        if (te)
            fg_warn("policy", "closing the old policy's windows: %s", fg_strerror(te));
        policy_free(old);
    }
    fg_info("policy", "%s policy %s version %d", reload ? "reloaded" : "loaded", policy_name(p),
            policy_version(p));
}

/* The audit log opens before anything else happens, and a changed
 * configuration file is recorded (its digest, not its content). */
static fg_err open_audit(struct gateway *gw)
{
    const struct fg_config *cfg = gw->cfg;
    char logpath[4096], rdir[4096], why[512];
    const char *dir = gw->audit_dir;
    config_state_paths(cfg, logpath, gw->audit_dir, rdir, sizeof logpath);
    struct audit_options ao = {
        .log_path = logpath,
        .state_dir = dir,
        .checkpoint_every_events = (int)cfg->audit_checkpoint_events,
        .checkpoint_every_ms = (int)cfg->audit_checkpoint_ms,
        .fsync_mode = !strcmp(cfg->audit_fsync, "always")  ? AUDIT_FSYNC_ALWAYS
                      : !strcmp(cfg->audit_fsync, "never") ? AUDIT_FSYNC_NEVER
                                                           : AUDIT_FSYNC_INTERVAL,
        .fsync_interval_ms = (int)cfg->audit_fsync_interval_ms,
        .rotate_every_ms = cfg->audit_rotate_ms, /* a sealing bound stated in the log */
    };
    if (fg_mkdirs(dir, 0700) != FG_OK || audit_open(&ao, &gw->audit, why, sizeof why) != FG_OK) {
        fg_error("audit", "cannot open the audit log: %s", why);
        return FG_ERR_IO;
    }
    if (flows_new(&gw->flows) != FG_OK ||
        audit_reporter_new(gw->audit, logpath, cfg->report_dir, cfg->report_every_ms,
                           &gw->reporter) != FG_OK)
        return FG_ERR_NOMEM;
    unsigned char pk[32];
    char fp[40];
    audit_first_pubkey(gw->audit, pk);
    audit_fingerprint(pk, fp, sizeof fp);
    fg_info("audit", "audit log %s, first key fingerprint %s", logpath, fp);
    /* configuration changes: compare the file's digest with the last run's */
    char *text = NULL, *old = NULL, path[4200];
    size_t len = 0;
    if (fg_read_file(cfg->file, 1u << 20, &text, &len) == FG_OK) {
        unsigned char h[32];
        char hex[65];
        crypto_generichash(h, sizeof h, (unsigned char *)text, len, NULL, 0);
        sodium_bin2hex(hex, sizeof hex, h, sizeof h);
        snprintf(path, sizeof path, "%s/config.digest", dir);
        if (fg_read_file(path, 128, &old, NULL) != FG_OK || strcmp(old, hex) != 0) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "file", cfg->file);
            cJSON_AddStringToObject(o, "digest", hex);
            cJSON_AddStringToObject(o, "previous", old ? old : "");
            audit_event(gw, "config.changed", o);
            if (fg_write_file_atomic(path, hex, strlen(hex), 0600) != FG_OK)
                fg_warn("audit", "cannot record the configuration digest");
        }
        free(old);
        free(text);
    }
    return FG_OK;
}

/* A random id made once per state directory: message ids stay unique across
 * restarts, and never name the site or the box. */
static fg_err load_gateway_id(struct gateway *gw)
{
    char path[4096], *text = NULL;
    snprintf(path, sizeof path, "%s/gateway-id", gw->cfg->state_dir);
    if (fg_read_file(path, 64, &text, NULL) == FG_OK && strlen(text) >= 16) {
        snprintf(gw->instance, sizeof gw->instance, "%.16s", text);
        free(text);
        return FG_OK;
    }
    free(text);
    unsigned char raw[8];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(gw->instance, sizeof gw->instance, raw, sizeof raw);
    if (fg_write_file_atomic(path, gw->instance, strlen(gw->instance), 0600) != FG_OK) {
        fg_error("gateway", "cannot write %s: %s", path, strerror(errno));
        return FG_ERR_IO;
    }
    return FG_OK;
}

/* policy.watch: a changed policy or signature file goes through the same
 * checks as a SIGHUP. Polled every 2 s: no inotify dependency, no races with
 * editors that replace files. */
static bool policy_files_changed(struct gateway *gw, int64_t mono)
{
    if (!gw->cfg->policy_watch || !gw->cfg->policy_file || mono - gw->policy_polled_ms < 2000)
        return false;
    gw->policy_polled_ms = mono;
    char sigpath[4200];
    if (gw->cfg->policy_signatures)
        snprintf(sigpath, sizeof sigpath, "%s", gw->cfg->policy_signatures);
    else
        policysig_default_path(gw->cfg->policy_file, sigpath, sizeof sigpath);
    struct stat a, b;
    char stamp[128];
    bool ha = stat(gw->cfg->policy_file, &a) == 0, hb = stat(sigpath, &b) == 0;
    snprintf(stamp, sizeof stamp, "%lld.%ld/%lld:%lld.%ld/%lld",
             ha ? (long long)a.st_mtim.tv_sec : 0LL, ha ? a.st_mtim.tv_nsec : 0L,
             ha ? (long long)a.st_size : -1LL, hb ? (long long)b.st_mtim.tv_sec : 0LL,
             hb ? b.st_mtim.tv_nsec : 0L, hb ? (long long)b.st_size : -1LL);
    if (!gw->policy_stamp[0]) {
        snprintf(gw->policy_stamp, sizeof gw->policy_stamp, "%s", stamp);
        return false;
    }
    if (!strcmp(stamp, gw->policy_stamp))
        return false;
    snprintf(gw->policy_stamp, sizeof gw->policy_stamp, "%s", stamp);
    fg_info("policy", "policy or signature file changed: checking it");
    return true;
}

static void wait_main(struct gateway *gw, int ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_nsec += (long)ms * 1000000L;
    ts.tv_sec += ts.tv_nsec / 1000000000L;
    ts.tv_nsec %= 1000000000L;
    pthread_mutex_lock(&gw->wake_lock);
    atomic_store(&gw->sleeping, 1);
    if (!atomic_exchange(&gw->work, 0) && !g_stop && !g_reload)
        pthread_cond_timedwait(&gw->wake, &gw->wake_lock, &ts);
    atomic_store(&gw->sleeping, 0);
    atomic_store(&gw->work, 0);
    pthread_mutex_unlock(&gw->wake_lock);
}

/* Runs on the main thread (it blocks): Paho's failure code does not say why. */
static void explain_tls_failure(struct link *l, const struct config_broker *b)
{
    if (!atomic_exchange(&l->probe, 0) || !b->tls.enabled || l->probed)
        return;
    l->probed = true;
    char why[512];
    if (tls_probe(b->host, (int)b->port, b->tls.ca, 3000, why, sizeof why) != FG_OK)
        fg_error(l->name, "cannot connect securely: %s", why);
}

/* Pre-flight: the TLS material we hold, checked before the first connection. */
static bool preflight(const char *name, const struct config_broker *b, int *days_left)
{
    *days_left = -1;
    if (!b->tls.enabled)
        return true;
    struct certs_preflight_req req = {.ca_file = b->tls.ca,
                                      .cert_file = b->tls.cert,
                                      .key_file = b->tls.key,
                                      .now_ms = fg_now_ms()};
    char why[512];
    if (certs_preflight(&req, why, sizeof why) != FG_OK) {
        fg_error(name, "TLS pre-flight failed: %s", why);
        return false;
    }
    if (b->tls.cert)
        *days_left = req.days_left;
    if (b->tls.cert && req.days_left >= 0 && req.days_left < 30)
        fg_warn(name, "the client certificate %s expires in %d day(s): renew it", b->tls.cert,
                req.days_left);
    return true;
}

static void manage_local(struct gateway *gw, int64_t mono)
{
    struct link *l = &gw->local;
    explain_tls_failure(l, &gw->cfg->local);
    int st = atomic_load(&l->state);
    /* Back-pressure: at the outbox bound stop taking inputs (the broker keeps
     * them in our session); resume below half. */
    struct outbox_stats os;
    outbox_get_stats(gw->outbox, &os);
    bool failing = atomic_load(&gw->write_failing) && outbox_write_failing(gw->outbox);
    if (!failing)
        atomic_store(&gw->write_failing, 0);
    if (!l->paused && (failing || outbox_full(gw->outbox))) {
        l->paused = true;
        atomic_fetch_add(&gw->c.paused, 1);
        if (failing)
            fg_error("outbox",
                     "cannot write the outbox (disk full or I/O error): inputs paused, "
                     "what is stored stays intact, retrying every %lld ms",
                     (long long)gw->cfg->outbox_sync_interval_ms);
        else
            fg_warn("local",
                    "outbox full (%llu messages): pausing inputs; the local broker "
                    "keeps them",
                    (unsigned long long)os.depth);
        if (st == LINK_UP) {
            MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer5;
            d.timeout = 1000; /* let PUBACKs already due go out: fewer duplicates */
            MQTTAsync_disconnect(l->client, &d);
            atomic_store(&l->state, LINK_DOWN);
        }
        return;
    }
    if (l->paused) {
        if (failing || os.depth > (uint64_t)gw->cfg->queue_max_messages / 2 ||
            os.bytes > (uint64_t)gw->cfg->queue_max_bytes / 2)
            return;
        l->paused = false;
        fg_info("local", "outbox %s (%llu messages): resuming inputs",
                os.write_errors ? "writable again" : "drained", (unsigned long long)os.depth);
        l->next_attempt_ms = 0;
    }
    if (atomic_load(&l->state) == LINK_DOWN && mono >= l->next_attempt_ms &&
        !MQTTAsync_isConnected(l->client))
        start_connect(gw, l, &gw->cfg->local, true);
}

static void manage_upstream(struct gateway *gw, int64_t mono)
{
    struct link *l = &gw->upstream;
    explain_tls_failure(l, &gw->cfg->upstream);
    if (atomic_load(&l->state) == LINK_DOWN && mono >= l->next_attempt_ms)
        start_connect(gw, l, &gw->cfg->upstream, false);
}

static void drain(struct gateway *gw)
{
    /* Stop inputs first, then give queued messages a bounded time to leave. */
    MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer5;
    d.timeout = 1000;
    d.reasonCode = MQTTREASONCODE_DISCONNECT_WITH_WILL_MESSAGE; /* status: offline */
    if (MQTTAsync_isConnected(gw->local.client))
        MQTTAsync_disconnect(gw->local.client, &d);
    d.reasonCode = MQTTREASONCODE_NORMAL_DISCONNECTION;
    pthread_rwlock_rdlock(&gw->policy_lock);
    if (gw->policy && policy_tick(gw->policy, fg_now_ms(), true, emit_to_outbox, gw) != FG_OK)
        fg_warn("policy", "could not close all aggregation windows");
    pthread_rwlock_unlock(&gw->policy_lock);
    int64_t deadline = fg_monotonic_ms() + gw->cfg->drain_timeout_ms;
    while (fg_monotonic_ms() < deadline) {
        struct outbox_stats os;
        outbox_get_stats(gw->outbox, &os);
        if (os.depth == 0)
            break;
        pump(gw);
        wait_main(gw, 20);
    }
    struct outbox_stats os;
    outbox_get_stats(gw->outbox, &os);
    if (os.depth)
        fg_warn("outbox", "stopping with %llu message(s) not yet acknowledged upstream",
                (unsigned long long)os.depth);
    if (MQTTAsync_isConnected(gw->upstream.client))
        MQTTAsync_disconnect(gw->upstream.client, &d);
}

int gateway_run(struct fg_config *cfg)
{
    struct gateway *gw = calloc(1, sizeof *gw);
    if (!gw || sodium_init() < 0)
        return 1;
    int rc = 1;
    gw->cfg = cfg;
    gw->local.name = "local";
    gw->upstream.name = "upstream";
    pthread_rwlock_init(&gw->policy_lock, NULL);
    pthread_mutex_init(&gw->wake_lock, NULL);
    pthread_mutex_init(&gw->pump_lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&gw->wake, &ca);
    pthread_condattr_destroy(&ca);
    char why[512], keydir[4096];
    if (fg_mkdirs(cfg->state_dir, 0700) != FG_OK) {
        fg_error("gateway", "cannot create state directory %s: %s", cfg->state_dir,
                 strerror(errno));
        goto out;
    }
    if (load_gateway_id(gw) != FG_OK)
        goto out;
    if (load_sensors(gw) != FG_OK)
        goto out;
    if (open_audit(gw) != FG_OK)
        goto out; /* no audit log, no forwarding */
    /* issue 14: trust and weakenings, audited at every start */
    council_trust_audit(gw->audit, cfg, false);
    load_policy(gw, false);
    snprintf(keydir, sizeof keydir, "%s/keys", cfg->state_dir);
    int64_t rotate = gw->policy ? policy_rotate_ms(gw->policy) : 86400000LL;
    int64_t keep = gw->policy ? policy_keep_keys_ms(gw->policy) : 30 * 86400000LL;
    if (pseudonym_keyring_open(keydir, rotate, keep, &gw->keys, why, sizeof why) != FG_OK) {
        fg_error("pseudonym", "%s", why);
        goto out;
    }
    pseudonym_keyring_set_hook(gw->keys, on_key_event, gw);
    if (cfg->trust_works_council) {
        unsigned char wc[32];
        char role[KEYS_ROLE_MAX + 1], rdir[4200];
        snprintf(rdir, sizeof rdir, "%s/reident", cfg->state_dir);
        if (keys_load_public(cfg->trust_works_council, wc, role, sizeof role, why, sizeof why) ||
            council_trust_require_role(cfg->trust_works_council, role, "works-council", why,
                                       sizeof why) != FG_OK || /* issue 14 */
            reident_open(rdir, wc, &gw->reident, why, sizeof why)) {
            fg_error("reident", "%s", why);
            goto out;
        }
        pseudonym_keyring_set_observer(gw->keys, on_pseudonym, gw);
    } else
        fg_warn("reident", "no works council key (trust.works_council): pseudonyms cannot be "
                           "re-identified by anyone, not even in an emergency");
    if (pseudonym_keyring_tick(gw->keys, fg_now_ms()) != FG_OK)
        goto out;
    char *outdir = gw->outdir;
    snprintf(gw->outdir, sizeof gw->outdir, "%s", cfg->outbox_dir ? cfg->outbox_dir : "");
    if (!cfg->outbox_dir)
        snprintf(gw->outdir, sizeof gw->outdir, "%s/outbox", cfg->state_dir);
    struct outbox_options oo = {
        .max_messages = cfg->queue_max_messages,
        .max_bytes = cfg->queue_max_bytes,
        .slack_messages = cfg->local_receive_maximum * 4,
        .dir = outdir,
        .sync = !strcmp(cfg->outbox_sync, "always")  ? OUTBOX_SYNC_ALWAYS
                : !strcmp(cfg->outbox_sync, "never") ? OUTBOX_SYNC_NEVER
                                                     : OUTBOX_SYNC_INTERVAL,
    };
    why[0] = '\0';
    if (outbox_open(&oo, &gw->outbox, why, sizeof why) != FG_OK) {
        fg_error("outbox", "%s", why);
        goto out;
    }
    if (why[0])
        fg_warn("outbox", "%s", why);
    if (outbox_recovered(gw->outbox))
        fg_info("outbox",
                "recovered %llu message(s) not yet acknowledged upstream; they will be "
                "resent with their original ids",
                (unsigned long long)outbox_recovered(gw->outbox));
    if (!preflight("upstream", &cfg->upstream, &gw->cert_days[1]) ||
        !preflight("local", &cfg->local, &gw->cert_days[0]))
        goto out;
    for (int i = 0; i < 2; i++)
        if (gw->cert_days[i] >= 0 && gw->cert_days[i] < 30) {
            /* counted in the metrics (certificate expiry days), audited here */
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "link", i ? "upstream" : "local");
            cJSON_AddStringToObject(o, "certificate",
                                    i ? cfg->upstream.tls.cert : cfg->local.tls.cert);
            cJSON_AddNumberToObject(o, "days_left", gw->cert_days[i]);
            audit_event(gw, "certificate.expiring", o);
        }
    if (cfg->upstream.tls.enabled && cfg->upstream.tls.insecure_no_hostname_check)
        fg_warn("upstream", "hostname check of the upstream broker is OFF "
                            "(upstream.tls.insecure_no_hostname_check): a forged broker with "
                            "any certificate from the CA would receive the data");
    if (!cfg->upstream.tls.enabled)
        fg_warn("upstream", "upstream TLS is off: minimised data leaves in clear text");
    if (create_client(gw, &gw->local, &cfg->local, on_local_lost, on_message) != FG_OK ||
        create_client(gw, &gw->upstream, &cfg->upstream, on_upstream_lost, on_upstream_message) !=
            FG_OK)
        goto out;

    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    gw->started_ms = fg_now_ms();
    if (cfg->metrics_port) {
        if (metrics_start(cfg->metrics_bind, (int)cfg->metrics_port, fill_metrics, gw, &gw->metrics,
                          why, sizeof why) != FG_OK) {
            fg_error("metrics", "%s", why);
            goto out;
        }
        fg_info("metrics", "serving /metrics and /status on %s port %d", cfg->metrics_bind,
                metrics_port(gw->metrics));
    }
    fg_info("gateway", "fairgate %s started (site %s)", FAIRGATE_VERSION, cfg->site);
    snprintf(gw->upstream_uri, sizeof gw->upstream_uri, "%s://%s:%lld",
             cfg->upstream.tls.enabled ? "mqtts" : "mqtt", cfg->upstream.host,
             (long long)cfg->upstream.port);
    {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "version", FAIRGATE_VERSION);
        cJSON_AddStringToObject(o, "site", cfg->site);
        cJSON_AddStringToObject(o, "upstream", gw->upstream_uri);
        cJSON_AddNumberToObject(o, "recovered", (double)outbox_recovered(gw->outbox));
        audit_event(gw, "gateway.start", o);
    }

    gw->last_stats_ms = fg_monotonic_ms();
    gw->last_flow_ms = gw->last_rotate_ms = gw->last_stats_ms;
    gw->last_flow_wall_ms = fg_now_ms();
    int64_t last_tick = 0;
    while (!g_stop) {
        int64_t mono = fg_monotonic_ms();
        if (g_reload || policy_files_changed(gw, mono)) {
            g_reload = 0;
            council_trust_audit(gw->audit, gw->cfg, true); /* issue 14: every reload */
            load_policy(gw, true);
            if (gw->policy) /* issue 14: key lifetimes follow the active signed policy */
                pseudonym_keyring_configure(gw->keys, policy_rotate_ms(gw->policy),
                                            policy_keep_keys_ms(gw->policy), fg_now_ms());
        }
        /* issue 14: keys are destroyed at their exact deadline, not at the next rotation */
        if (fg_now_ms() >= pseudonym_keyring_next_deadline(gw->keys) &&
            pseudonym_keyring_tick(gw->keys, fg_now_ms()) != FG_OK)
            fg_error("pseudonym", "cannot rotate pseudonym keys");
        manage_upstream(gw, mono);
        manage_local(gw, mono);
        pump(gw);
        if (mono - gw->last_sync_ms >= cfg->outbox_sync_interval_ms ||
            atomic_load(&gw->write_failing)) {
            gw->last_sync_ms = mono;
            outbox_sync(gw->outbox);
        }
        if (mono - last_tick >= 1000) {
            int64_t now = fg_now_ms();
            last_tick = mono;
            if (pseudonym_keyring_tick(gw->keys, now) != FG_OK)
                fg_error("pseudonym", "cannot rotate pseudonym keys");
            pthread_rwlock_rdlock(&gw->policy_lock);
            if (gw->policy && policy_tick(gw->policy, now, false, emit_to_outbox, gw) != FG_OK)
                fg_warn("policy", "could not close an aggregation window");
            if (gw->policy && policy_expired(gw->policy, now) && !gw->expiry_reported) {
                gw->expiry_reported = true;
                fg_error("policy",
                         "policy %s version %d has expired: nothing is forwarded until "
                         "a new signed policy arrives",
                         policy_name(gw->policy), policy_version(gw->policy));
                cJSON *o = cJSON_CreateObject();
                cJSON_AddStringToObject(o, "policy", policy_name(gw->policy));
                cJSON_AddNumberToObject(o, "version", policy_version(gw->policy));
                audit_event(gw, "policy.expired", o);
            }
            pthread_rwlock_unlock(&gw->policy_lock);
            purge_expired(gw, now);
        }
        if (mono - gw->last_stats_ms >= cfg->stats_interval_ms) {
            gw->last_stats_ms = mono;
            log_stats(gw, false);
            publish_status(gw);
        }
        audit_housekeeping(gw, mono, false);
        wait_main(gw, 50);
    }
    fg_info("gateway", "stopping: draining for up to %lld ms", (long long)cfg->drain_timeout_ms);
    drain(gw);
    log_stats(gw, true);
    audit_housekeeping(gw, fg_monotonic_ms(), true);
    {
        struct outbox_stats os;
        outbox_get_stats(gw->outbox, &os);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "inputs", (double)atomic_load(&gw->c.in));
        cJSON_AddNumberToObject(o, "delivered", (double)atomic_load(&gw->c.out_acked));
        cJSON_AddNumberToObject(o, "left_in_outbox", (double)os.depth);
        audit_event(gw, "gateway.stop", o);
    }
    rc = 0;
out:
    metrics_stop(gw->metrics); /* first: its thread reads everything below */
    if (gw->local.client)
        MQTTAsync_destroy(&gw->local.client);
    if (gw->upstream.client)
        MQTTAsync_destroy(&gw->upstream.client);
    outbox_close(gw->outbox);
    pseudonym_keyring_close(gw->keys);
    audit_reporter_free(gw->reporter);
    audit_close(gw->audit);
    flows_free(gw->flows);
    reident_close(gw->reident);
    policy_free(gw->policy);
    sensor_registry_free(gw->sensors);
    pthread_rwlock_destroy(&gw->policy_lock);
    pthread_cond_destroy(&gw->wake);
    pthread_mutex_destroy(&gw->wake_lock);
    pthread_mutex_destroy(&gw->pump_lock);
    free(gw);
    fg_info("gateway", "stopped");
    return rc;
}
