/* The two MQTT links: local broker in (persistent session, Receive Maximum
 * bounds unacknowledged inputs), upstream broker out (clean start: the outbox,
 * not Paho, owns retransmission). Connection callbacks run on Paho's thread
 * and only set atomics; connects, back-off, TLS explanations and input pauses
 * run on the main thread (gw_manage_local, gw_manage_upstream). */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "certs/certs.h"
#include "certs/tls_probe.h"
#include "common/fg_log.h"
#include "common/fg_util.h"
#include "gateway/gateway_internal.h"
#include "outbox/outbox.h"

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
    atomic_store(&l->next_attempt_ms, fg_monotonic_ms() + l->backoff_ms * 3 / 4 + jitter);
    fg_log_ratelimited(l->name, FG_LOG_WARN, l->name, "%s failed (%d%s%s); retrying in %lld ms",
                       what, code, msg ? ": " : "", msg ? msg : "",
                       (long long)(atomic_load(&l->next_attempt_ms) - fg_monotonic_ms()));
}

/* A connection that ends soon after it began (a broker that drops us for
 * what we send, a flapping network) is retried with back-off too, never in a
 * tight loop; one that lasted FLAP_MS resets it. */
#define FLAP_MS 10000

static void schedule_reconnect(struct link *l)
{
    int64_t now = fg_monotonic_ms();
    bool lasted = now - atomic_load(&l->up_since_ms) >= FLAP_MS;
    int64_t b = lasted ? 0 : atomic_load(&l->flap_backoff_ms);
    b = b ? b * 2 : 200;
    if (b > 30000)
        b = 30000;
    atomic_store(&l->flap_backoff_ms, b);
    atomic_store(&l->next_attempt_ms, now + (lasted ? 0 : b));
}

/* Whatever told us (connectionLost, a DISCONNECT from the server, a send that
 * found no connection), the link is down once and reconnects: never
 * "deferred". Only the first report of a connection counts. */
void gw_link_down(struct gateway *gw, struct link *l, const char *cause)
{
    int up = LINK_UP;
    if (!atomic_compare_exchange_strong(&l->state, &up, LINK_DOWN))
        return;
    schedule_reconnect(l);
    if (l == &gw->upstream) {
        atomic_store(&gw->upstream_recreate, 1);
        unsigned gen = atomic_fetch_add(&gw->generation, 1);
        gw_poison_on_loss(gw, atomic_exchange(&gw->inflight, 0), gen);
        outbox_requeue_all(gw->outbox);
        atomic_fetch_add(&gw->c.upstream_losses, 1);
        fg_warn("upstream",
                "connection to the upstream broker lost%s%s; reconnecting, queued messages wait",
                cause ? ": " : "", cause ? cause : "");
    } else {
        atomic_store(&gw->local.subscribed, 0);
        atomic_fetch_add(&gw->c.local_losses, 1);
        if (!atomic_load(&gw->local.paused))
            fg_warn("local", "connection to the local broker lost%s%s; reconnecting",
                    cause ? ": " : "", cause ? cause : "");
    }
    gw_wake_main(gw);
}

static void on_local_lost(void *context, char *cause)
{
    struct gateway *gw = context;
    gw_link_down(gw, &gw->local, cause);
}

static void on_upstream_lost(void *context, char *cause)
{
    struct gateway *gw = context;
    gw_link_down(gw, &gw->upstream, cause);
}

/* MQTT v5: a server that sends DISCONNECT (e.g. 0x81 malformed packet) is
 * reported here, not to connectionLost. */
static void say_disconnected(struct gateway *gw, struct link *l, enum MQTTReasonCodes rc)
{
    char cause[96];
    snprintf(cause, sizeof cause, "the broker disconnected us (reason %d: %s)", (int)rc,
             MQTTReasonCode_toString(rc));
    gw_link_down(gw, l, cause);
}

static void on_local_disconnected(void *context, MQTTProperties *props, enum MQTTReasonCodes rc)
{
    struct gateway *gw = context;
    (void)props;
    say_disconnected(gw, &gw->local, rc);
}

static void on_upstream_disconnected(void *context, MQTTProperties *props, enum MQTTReasonCodes rc)
{
    struct gateway *gw = context;
    (void)props;
    say_disconnected(gw, &gw->upstream, rc);
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
    atomic_store(&gw->local.up_since_ms, fg_monotonic_ms());
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
    atomic_store(&gw->upstream.up_since_ms, fg_monotonic_ms());
    atomic_store(&gw->last_progress_ms, fg_monotonic_ms());
    atomic_store(&gw->upstream.state, LINK_UP);
    atomic_fetch_add(&gw->c.upstream_connects, 1);
    fg_info("upstream", "connected to %s; at most %d publishes in flight (server allows %d)",
            r->alt.connect.serverURI, window, rm);
    gw_wake_main(gw);
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
                            MQTTAsync_connectionLost *lost, MQTTAsync_messageArrived *arrived,
                            MQTTAsync_disconnected *disconnected)
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
    if (rc == MQTTASYNC_SUCCESS)
        rc = MQTTAsync_setDisconnected(l->client, gw, disconnected);
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
        /* Paho cannot refuse what OpenSSL accepts at its level (weak keys, SHA-1, a CN
         * without subjectAltName): mbedTLS checks the peer first, and we do not connect. */
        char why[512];
        struct tls_peer_req pr = {.host = b->host,
                                  .port = (int)b->port,
                                  .ca_file = b->tls.ca,
                                  .cert_file = b->tls.cert,
                                  .key_file = b->tls.key,
                                  .check_host = !b->tls.insecure_no_hostname_check,
                                  .timeout_ms = 3000};
        fg_err pe = tls_peer_check(&pr, why, sizeof why);
        if (pe != FG_OK && pe != FG_ERR_IO) {
            MQTTProperties_free(&props);
            l->probed = true; /* the reason is said here */
            fg_log_ratelimited(is_local ? "local.refused" : "upstream.refused", FG_LOG_ERROR,
                               l->name, "cannot connect securely: %s (not connecting)", why);
            link_failed(l, "checking the TLS peer", MQTTASYNC_FAILURE, "refused");
            return;
        }
        ssl.trustStore = b->tls.ca;
        ssl.keyStore = b->tls.cert;
        ssl.privateKey = b->tls.key;
        ssl.enableServerCertAuth = 1;
        /* Paho's default skips the hostname check; verify=1 turns it on. */
        ssl.verify = b->tls.insecure_no_hostname_check ? 0 : 1;
        ssl.sslVersion = MQTT_SSL_VERSION_TLS_1_2;
        ssl.disableDefaultTrustStore = 1;
        /* Paho 1.3.12 lowers OpenSSL to security level 1 (RSA-1024, SHA-1): raise it. */
        ssl.enabledCipherSuites = "DEFAULT:@SECLEVEL=2";
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

/* Runs on the main thread (it blocks): Paho's failure code does not say why. */
static void explain_tls_failure(struct link *l, const struct config_broker *b)
{
    if (!atomic_exchange(&l->probe, 0) || !b->tls.enabled || l->probed)
        return;
    l->probed = true;
    char why[512];
    fg_err e = tls_probe(b->host, (int)b->port, b->tls.ca, 3000, why, sizeof why);
    if (e == FG_ERR_IO) /* nothing listens: down, not insecure; back-off retries it */
        fg_warn(l->name, "the broker is not reachable: %s; retrying with back-off", why);
    else if (e)
        fg_error(l->name, "cannot connect securely: %s", why);
}

static void preflight_log(void *ctx, bool error, const char *msg)
{
    if (error)
        fg_error((const char *)ctx, "%s", msg);
    else
        fg_warn((const char *)ctx, "%s", msg);
}

/* Pre-flight: the TLS material we hold, checked before the first connection;
 * the same sentences as `fairgate config check` (certs_preflight_report). */
bool gw_preflight(const char *name, const struct config_broker *b, int *days_left)
{
    *days_left = -1;
    return !b->tls.enabled ||
           certs_preflight_report(b->tls.ca, b->tls.cert, b->tls.key, fg_now_ms(), preflight_log,
                                  (void *)name, days_left);
}

void gw_manage_local(struct gateway *gw, int64_t mono)
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
    int why = failing                   ? GW_PAUSE_WRITE
              : outbox_full(gw->outbox) ? GW_PAUSE_FULL
              : gw->disk_low            ? GW_PAUSE_DISK
                                        : GW_PAUSE_NONE;
    if (!l->paused && why != GW_PAUSE_NONE) {
        atomic_store(&gw->pause_reason, why);
        l->paused = true;
        atomic_fetch_add(&gw->c.paused, 1);
        if (why == GW_PAUSE_WRITE)
            fg_error("outbox", "cannot write the outbox (disk full or I/O error): inputs paused, "
                               "what is stored stays intact, retrying every 200 ms");
        else if (why == GW_PAUSE_DISK)
            fg_error("outbox",
                     "the disk of the outbox is nearly full (%llu KiB free): inputs paused before "
                     "the outbox cannot be written; sending goes on and frees space",
                     (unsigned long long)(gw->disk_free / 1024));
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
        if (failing || gw->disk_low || os.depth > (uint64_t)gw->cfg->queue_max_messages / 2 ||
            os.bytes > (uint64_t)gw->cfg->queue_max_bytes / 2)
            return;
        l->paused = false;
        int was = atomic_exchange(&gw->pause_reason, GW_PAUSE_NONE);
        fg_info("local", "outbox %s (%llu messages): resuming inputs",
                was == GW_PAUSE_FULL   ? "drained"
                : was == GW_PAUSE_DISK ? "has disk space again"
                                       : "writable again",
                (unsigned long long)os.depth);
        atomic_store(&l->next_attempt_ms, 0);
    }
    if (atomic_load(&l->state) == LINK_DOWN && mono >= atomic_load(&l->next_attempt_ms) &&
        !MQTTAsync_isConnected(l->client))
        start_connect(gw, l, &gw->cfg->local, true);
}

void gw_manage_upstream(struct gateway *gw, int64_t mono)
{
    struct link *l = &gw->upstream;
    explain_tls_failure(l, &gw->cfg->upstream);
    if (atomic_load(&l->state) == LINK_DOWN && atomic_exchange(&gw->upstream_recreate, 0)) {
        /* Paho keeps publish commands it had not written yet and sends them
         * after a reconnect, behind our back (and past our window): the
         * message a broker dropped us for would come back at once. A fresh
         * client starts empty; the outbox resends in order. */
        pthread_mutex_lock(&gw->pump_lock);
        MQTTAsync_destroy(&l->client);
        fg_err e = create_client(gw, l, &gw->cfg->upstream, on_upstream_lost, on_upstream_message,
                                 on_upstream_disconnected);
        pthread_mutex_unlock(&gw->pump_lock);
        if (e) {
            atomic_store(&gw->upstream_recreate, 1);
            return;
        }
    }
    if (atomic_load(&l->state) == LINK_DOWN && mono >= atomic_load(&l->next_attempt_ms))
        start_connect(gw, l, &gw->cfg->upstream, false);
}

fg_err gw_create_clients(struct gateway *gw)
{
    if (create_client(gw, &gw->local, &gw->cfg->local, on_local_lost, gw_on_message,
                      on_local_disconnected) != FG_OK ||
        create_client(gw, &gw->upstream, &gw->cfg->upstream, on_upstream_lost, on_upstream_message,
                      on_upstream_disconnected) != FG_OK)
        return FG_ERR_MQTT;
    return FG_OK;
}
