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
    int outstanding, window, qos;
    int connected; /* 0 pending, 1 ok, -1 failed */
    size_t acked, failed;
    char err[256];
};

static void on_conn_ok(void *ctx, MQTTAsync_successData5 *r)
{
    struct fg_pub *p = ctx;
    (void)r;
    pthread_mutex_lock(&p->lock);
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
    char uri[300];
    snprintf(uri, sizeof uri, "%s://%s:%d", o->ca ? "ssl" : "tcp", o->host, o->port);
    MQTTAsync_createOptions co = MQTTAsync_createOptions_initializer5;
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

fg_err fg_pub_send(struct fg_pub *p, const char *topic, const void *payload, size_t len,
                   const char *user_key, const char *user_value)
{
    pthread_mutex_lock(&p->lock);
    while (p->outstanding >= p->window && p->connected > 0)
        pthread_cond_wait(&p->cond, &p->lock);
    if (p->connected < 0) {
        pthread_mutex_unlock(&p->lock);
        return FG_ERR_MQTT;
    }
    p->outstanding++;
    pthread_mutex_unlock(&p->lock);
    MQTTAsync_message m = MQTTAsync_message_initializer;
    MQTTProperties props = MQTTProperties_initializer;
    m.payload = (void *)payload;
    m.payloadlen = (int)len;
    m.qos = p->qos;
    if (user_key) {
        MQTTProperty up = {.identifier = MQTTPROPERTY_CODE_USER_PROPERTY};
        up.value.data.data = (char *)user_key;
        up.value.data.len = (int)strlen(user_key);
        up.value.value.data = (char *)user_value;
        up.value.value.len = (int)strlen(user_value);
        MQTTProperties_add(&props, &up);
        m.properties = props;
    }
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    ro.onSuccess5 = on_pub_ok;
    ro.onFailure5 = on_pub_fail;
    ro.context = p;
    int rc = MQTTAsync_sendMessage(p->c, topic, &m, &ro);
    MQTTProperties_free(&props);
    if (rc != MQTTASYNC_SUCCESS) {
        done(p, false);
        return FG_ERR_MQTT;
    }
    return FG_OK;
}

fg_err fg_pub_flush(struct fg_pub *p, int timeout_ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += timeout_ms / 1000;
    ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&p->lock);
    int rc = 0;
    while (p->outstanding > 0 && p->connected > 0 && rc == 0)
        rc = pthread_cond_timedwait(&p->cond, &p->lock, &ts);
    bool ok = p->outstanding == 0 && p->failed == 0;
    pthread_mutex_unlock(&p->lock);
    return ok ? FG_OK : FG_ERR_MQTT;
}

size_t fg_pub_acked(struct fg_pub *p)
{
    pthread_mutex_lock(&p->lock);
    size_t n = p->acked;
    pthread_mutex_unlock(&p->lock);
    return n;
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
