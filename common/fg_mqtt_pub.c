#include "common/fg_mqtt_pub.h"

#include <MQTTAsync.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/fg_util.h"

struct fg_pub {
    MQTTAsync c;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int outstanding, window, qos, send_timeout_ms;
    int connected; /* 0 pending, 1 ok, -1 failed */
    size_t acked, failed, waits;
    char err[256];
};

static void on_conn_ok(void *ctx, MQTTAsync_successData5 *r)
{
    struct fg_pub *p = ctx;
    pthread_mutex_lock(&p->lock);
    if (p->qos > 0 && r &&
        MQTTProperties_hasProperty(&r->properties, MQTTPROPERTY_CODE_RECEIVE_MAXIMUM)) {
        int rm = MQTTProperties_getNumericValue(&r->properties, MQTTPROPERTY_CODE_RECEIVE_MAXIMUM);
        if (rm > 0 && rm < p->window)
            p->window = rm;
    }
    p->connected = 1;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
}

static void on_conn_fail(void *ctx, MQTTAsync_failureData5 *r)
{
    struct fg_pub *p = ctx;
    pthread_mutex_lock(&p->lock);
    p->connected = -1;
    snprintf(p->err, sizeof p->err, "connect failed (%d): %s", r->code,
             r->message ? r->message : "");
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
}

static void done(struct fg_pub *p, bool ok)
{
    pthread_mutex_lock(&p->lock);
    p->outstanding--;
    if (ok)
        p->acked++;
    else
        p->failed++;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
}

static void on_pub_ok(void *ctx, MQTTAsync_successData5 *r)
{
    (void)r;
    done(ctx, true);
}

static void on_pub_fail(void *ctx, MQTTAsync_failureData5 *r)
{
    (void)r;
    done(ctx, false);
}

static void on_lost(void *ctx, char *cause)
{
    struct fg_pub *p = ctx;
    (void)cause;
    pthread_mutex_lock(&p->lock);
    p->connected = -1;
    snprintf(p->err, sizeof p->err, "connection lost");
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
}

fg_err fg_pub_connect(const struct fg_pub_options *o, struct fg_pub **out, char *why,
                      size_t why_len)
{
    struct fg_pub *p = calloc(1, sizeof *p);
    if (!p)
        return FG_ERR_NOMEM;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->cond, NULL);
    p->window = o->window > 0 ? o->window : 16;
    p->qos = o->qos;
    p->send_timeout_ms = o->send_timeout_ms;
    char uri[300];
    snprintf(uri, sizeof uri, "%s://%s:%d", o->ca ? "ssl" : "tcp", o->host, o->port);
    MQTTAsync_createOptions co = MQTTAsync_createOptions_initializer5;
    co.maxBufferedMessages = p->window + 16; /* applies while connected too (#1193) */
    if (MQTTAsync_createWithOptions(&p->c, uri, o->client_id, MQTTCLIENT_PERSISTENCE_NONE, NULL,
                                    &co) != MQTTASYNC_SUCCESS) {
        snprintf(why, why_len, "cannot create client for %s", uri);
        free(p);
        return FG_ERR_MQTT;
    }
    MQTTAsync_setCallbacks(p->c, p, on_lost, NULL, NULL);
    MQTTAsync_connectOptions c = MQTTAsync_connectOptions_initializer5;
    MQTTAsync_SSLOptions ssl = MQTTAsync_SSLOptions_initializer;
    c.cleanstart = 1;
    c.keepAliveInterval = 30;
    c.maxInflight = p->window;
    c.onSuccess5 = on_conn_ok;
    c.onFailure5 = on_conn_fail;
    c.context = p;
    if (o->ca) {
        ssl.trustStore = o->ca;
        ssl.keyStore = o->cert;
        ssl.privateKey = o->key;
        ssl.verify = 1;
        ssl.enableServerCertAuth = 1;
        c.ssl = &ssl;
    }
    if (MQTTAsync_connect(p->c, &c) != MQTTASYNC_SUCCESS) {
        snprintf(why, why_len, "cannot start connecting to %s", uri);
        fg_pub_close(p);
        return FG_ERR_MQTT;
    }
    pthread_mutex_lock(&p->lock);
    while (p->connected == 0)
        pthread_cond_wait(&p->cond, &p->lock);
    pthread_mutex_unlock(&p->lock);
    if (p->connected < 0) {
        snprintf(why, why_len, "%s: %s", uri, p->err);
        fg_pub_close(p);
        return FG_ERR_MQTT;
    }
    *out = p;
    return FG_OK;
}

/* Waits for room in the window until deadline (NULL: forever). */
static fg_err wait_room(struct fg_pub *p, const struct timespec *deadline)
{
    int rc = 0;
    pthread_mutex_lock(&p->lock);
    if (p->outstanding >= p->window && p->connected > 0)
        p->waits++;
    while (p->outstanding >= p->window && p->connected > 0 && rc == 0)
        rc = deadline ? pthread_cond_timedwait(&p->cond, &p->lock, deadline)
                      : pthread_cond_wait(&p->cond, &p->lock);
    fg_err e = p->connected < 0 ? FG_ERR_MQTT : p->outstanding >= p->window ? FG_ERR_FULL : FG_OK;
    if (!e)
        p->outstanding++;
    pthread_mutex_unlock(&p->lock);
    return e;
}

static struct timespec deadline_in(int ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

fg_err fg_pub_send_props(struct fg_pub *p, const char *topic, const void *payload, size_t len,
                         const struct fg_pub_prop *props, size_t n)
{
    struct timespec dl = deadline_in(p->send_timeout_ms);
    fg_err e = wait_room(p, p->send_timeout_ms > 0 ? &dl : NULL);
    if (e)
        return e;
    MQTTAsync_message m = MQTTAsync_message_initializer;
    MQTTProperties mp = MQTTProperties_initializer;
    m.payload = (void *)payload;
    m.payloadlen = (int)len;
    m.qos = p->qos;
    for (size_t i = 0; i < n; i++) {
        MQTTProperty up = {.identifier = MQTTPROPERTY_CODE_USER_PROPERTY};
        up.value.data.data = (char *)props[i].key;
        up.value.data.len = (int)strlen(props[i].key);
        up.value.value.data = (char *)props[i].value;
        up.value.value.len = (int)strlen(props[i].value);
        MQTTProperties_add(&mp, &up);
    }
    if (n)
        m.properties = mp;
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    ro.onSuccess5 = on_pub_ok;
    ro.onFailure5 = on_pub_fail;
    ro.context = p;
    int rc = MQTTAsync_sendMessage(p->c, topic, &m, &ro);
    MQTTProperties_free(&mp);
    if (rc != MQTTASYNC_SUCCESS) {
        done(p, false);
        return FG_ERR_MQTT;
    }
    return FG_OK;
}

fg_err fg_pub_send(struct fg_pub *p, const char *topic, const void *payload, size_t len,
                   const char *user_key, const char *user_value)
{
    struct fg_pub_prop up = {user_key, user_value};
    return fg_pub_send_props(p, topic, payload, len, &up, user_key ? 1 : 0);
}

fg_err fg_pub_flush(struct fg_pub *p, int timeout_ms)
{
    struct timespec ts = deadline_in(timeout_ms);
    pthread_mutex_lock(&p->lock);
    int rc = 0;
    while (p->outstanding > 0 && p->connected > 0 && rc == 0)
        rc = pthread_cond_timedwait(&p->cond, &p->lock, &ts);
    bool ok = p->outstanding == 0 && p->failed == 0;
    pthread_mutex_unlock(&p->lock);
    return ok ? FG_OK : FG_ERR_MQTT;
}

static size_t read_locked(struct fg_pub *p, const size_t *v)
{
    pthread_mutex_lock(&p->lock);
    size_t n = *v;
    pthread_mutex_unlock(&p->lock);
    return n;
}

size_t fg_pub_acked(struct fg_pub *p)
{
    return read_locked(p, &p->acked);
}

size_t fg_pub_failed(struct fg_pub *p)
{
    return read_locked(p, &p->failed);
}

size_t fg_pub_waits(struct fg_pub *p)
{
    return read_locked(p, &p->waits);
}

int fg_pub_window(struct fg_pub *p)
{
    pthread_mutex_lock(&p->lock);
    int w = p->window;
    pthread_mutex_unlock(&p->lock);
    return w;
}

bool fg_pub_connected(struct fg_pub *p)
{
    pthread_mutex_lock(&p->lock);
    bool c = p->connected > 0;
    pthread_mutex_unlock(&p->lock);
    return c;
}

void fg_pub_close(struct fg_pub *p)
{
    if (!p)
        return;
    if (MQTTAsync_isConnected(p->c)) {
        MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer5;
        d.timeout = 1000;
        MQTTAsync_disconnect(p->c, &d);
        for (int i = 0; i < 100 && MQTTAsync_isConnected(p->c); i++) {
            struct timespec t = {0, 10000000};
            nanosleep(&t, NULL);
        }
    }
    MQTTAsync_destroy(&p->c);
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

void fg_pub_pace(int64_t t0_ms, long long sent, double rate)
{
    int64_t due = t0_ms + (int64_t)((double)sent * 1000.0 / rate);
    int64_t now = fg_monotonic_ms();
    if (due > now) {
        struct timespec ts = {(due - now) / 1000, ((due - now) % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
}
