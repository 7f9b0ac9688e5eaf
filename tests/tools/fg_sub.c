/* Test subscriber: prints each message as one JSON line
 * {"topic":..,"payload":..,"props":{"name":"value",..},"expiry":N}
 * and exits after --count messages, or after --idle ms without one (or after
 * --total ms). --session: persistent session (clean start off, session expiry
 * one hour; give a unique --id) and automatic reconnect, so a broker restart
 * with persistence loses nothing. --reconnect: automatic reconnect only. While
 * reconnecting, the idle clock is held: only time connected counts. --stamp adds
 * "t": the arrival time in ms since the epoch. */
#include <MQTTAsync.h>
#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/fg_opt.h"
#include "common/fg_util.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long received;
static int64_t last_ms;
static int connected; /* 0 pending, 1 ok, -1 failed */
static const char *filter;
static int qos = 1;
static int reconnect; /* automatic reconnect: resubscribe on every connection */
static int link_up;   /* connected now (reconnect mode) */
static int stamp;     /* --stamp: "t": arrival time, ms since the epoch */

static int on_msg(void *ctx, char *topic, int tlen, MQTTAsync_message *m)
{
    (void)ctx;
    (void)tlen;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "topic", topic);
    char *p = malloc((size_t)m->payloadlen + 1);
    memcpy(p, m->payload, (size_t)m->payloadlen);
    p[m->payloadlen] = '\0';
    cJSON_AddStringToObject(o, "payload", p);
    free(p);
    cJSON *props = cJSON_AddObjectToObject(o, "props");
    for (int i = 0; i < m->properties.count; i++) {
        MQTTProperty *pr = &m->properties.array[i];
        if (pr->identifier == MQTTPROPERTY_CODE_USER_PROPERTY) {
            char k[256], v[1024];
            snprintf(k, sizeof k, "%.*s", pr->value.data.len, pr->value.data.data);
            snprintf(v, sizeof v, "%.*s", pr->value.value.len, pr->value.value.data);
            cJSON_AddStringToObject(props, k, v);
        } else if (pr->identifier == MQTTPROPERTY_CODE_MESSAGE_EXPIRY_INTERVAL)
            cJSON_AddNumberToObject(o, "expiry", pr->value.integer4);
    }
    if (stamp)
        cJSON_AddNumberToObject(o, "t", (double)fg_now_ms());
    char *line = cJSON_PrintUnformatted(o);
    pthread_mutex_lock(&lock);
    printf("%s\n", line);
    fflush(stdout);
    received++;
    last_ms = fg_monotonic_ms();
    pthread_mutex_unlock(&lock);
    free(line);
    cJSON_Delete(o);
    MQTTAsync_freeMessage(&m);
    MQTTAsync_free(topic);
    return 1;
}

static void on_sub(void *ctx, MQTTAsync_successData5 *r)
{
    (void)ctx;
    (void)r;
    pthread_mutex_lock(&lock);
    connected = 1;
    pthread_mutex_unlock(&lock);
}

static void on_fail(void *ctx, MQTTAsync_failureData5 *r)
{
    (void)ctx;
    fprintf(stderr, "fg_sub: failed (%d) %s\n", r->code, r->message ? r->message : "");
    pthread_mutex_lock(&lock);
    connected = -1;
    pthread_mutex_unlock(&lock);
}

static void subscribe(MQTTAsync c)
{
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    ro.onSuccess5 = on_sub;
    ro.onFailure5 = on_fail;
    ro.context = c;
    MQTTAsync_subscribe(c, filter, qos, &ro);
}

static void on_conn(void *ctx, MQTTAsync_successData5 *r)
{
    (void)r;
    subscribe(ctx);
}

/* Reconnect mode: every connection, the first one included (subscribing twice
 * is harmless); the broker may have lost the session. */
static void on_connected(void *ctx, char *cause)
{
    pthread_mutex_lock(&lock);
    link_up = 1;
    pthread_mutex_unlock(&lock);
    fprintf(stderr, "fg_sub: connected (%s)\n", cause ? cause : "");
    subscribe(ctx);
}

static void on_lost(void *ctx, char *cause)
{
    (void)ctx;
    pthread_mutex_lock(&lock);
    link_up = 0;
    pthread_mutex_unlock(&lock);
    fprintf(stderr, "fg_sub: connection lost (%s); reconnecting\n", cause ? cause : "");
}

struct opts {
    const char *host, *topic, *ca, *cert, *key, *id;
    int port, idle, total, qos;
    long long count;
    bool session, reconnect, stamp;
};
static const struct fg_opt table[] = {
    FG_OPT_STR(struct opts, host, "host", 0, "H", "broker host (default 127.0.0.1)"),
    FG_OPT_INT(struct opts, port, "port", 0, "P", "broker port (default 1883)", 1, 65535),
    FG_OPT_STR(struct opts, topic, "topic", 0, "FILTER", "topic filter (default #)"),
    FG_OPT_LONG(struct opts, count, "count", 0, "N", "exit after N messages", 0, 1000000000),
    FG_OPT_INT(struct opts, idle, "idle", 0, "MS", "exit after MS without a message (3000)", 0,
               1 << 30),
    FG_OPT_INT(struct opts, total, "total", 0, "MS", "exit after MS in all (60000)", 0, 1 << 30),
    FG_OPT_STR(struct opts, ca, "ca", 0, "CA_CRT", "TLS, verifying the broker against CA_CRT"),
    FG_OPT_STR(struct opts, cert, "cert", 0, "CRT", "client certificate"),
    FG_OPT_STR(struct opts, key, "key", 0, "KEY", "client key"),
    FG_OPT_STR(struct opts, id, "id", 0, "CLIENT_ID", "client id (default fg-sub)"),
    FG_OPT_INT(struct opts, qos, "qos", 0, "Q", "subscription QoS (default 1)", 0, 2),
    FG_OPT_FLAG(struct opts, session, "session", 0, "persistent session and reconnect"),
    FG_OPT_FLAG(struct opts, reconnect, "reconnect", 0, "automatic reconnect"),
    FG_OPT_FLAG(struct opts, stamp, "stamp", 0, "add \"t\": arrival time in ms"),
};
static const struct fg_opt_cmd cmd = {"fg_sub",
                                      "--port P [--topic FILTER] [--count N] ...",
                                      "Prints each message as one JSON line.",
                                      table,
                                      FG_OPT_N(table),
                                      0,
                                      0};

int main(int argc, char **argv)
{
    struct opts o = {.host = "127.0.0.1",
                     .topic = "#",
                     .id = "fg-sub",
                     .port = 1883,
                     .idle = 3000,
                     .total = 60000,
                     .qos = 1};
    int prc = fg_opt_parse(&cmd, argc, argv, &o, NULL, NULL);
    if (prc != FG_OPT_OK)
        return fg_opt_exit(prc);
    const char *host = o.host, *ca = o.ca, *cert = o.cert, *key = o.key, *id = o.id;
    int port = o.port, idle = o.idle, total = o.total, session = o.session;
    long count = (long)o.count;
    filter = o.topic;
    qos = o.qos;
    reconnect = o.session || o.reconnect;
    stamp = o.stamp;
    char uri[300];
    snprintf(uri, sizeof uri, "%s://%s:%d", ca ? "ssl" : "tcp", host, port);
    MQTTAsync c;
    MQTTAsync_createOptions co = MQTTAsync_createOptions_initializer5;
    if (MQTTAsync_createWithOptions(&c, uri, id, MQTTCLIENT_PERSISTENCE_NONE, NULL, &co))
        return 1;
    MQTTAsync_setCallbacks(c, c, reconnect ? on_lost : NULL, on_msg, NULL);
    MQTTAsync_connectOptions cn = MQTTAsync_connectOptions_initializer5;
    MQTTAsync_SSLOptions ssl = MQTTAsync_SSLOptions_initializer;
    MQTTProperties cprops = MQTTProperties_initializer;
    cn.cleanstart = 1;
    if (session) {
        cn.cleanstart = 0;
        MQTTProperty p = {.identifier = MQTTPROPERTY_CODE_SESSION_EXPIRY_INTERVAL};
        p.value.integer4 = 3600;
        MQTTProperties_add(&cprops, &p);
        cn.connectProperties = &cprops;
    }
    if (reconnect) {
        cn.automaticReconnect = 1;
        cn.minRetryInterval = 1;
        cn.maxRetryInterval = 2;
        MQTTAsync_setConnected(c, c, on_connected);
    }
    cn.onSuccess5 = on_conn;
    cn.onFailure5 = on_fail;
    cn.context = c;
    if (ca) {
        ssl.trustStore = ca;
        ssl.keyStore = cert;
        ssl.privateKey = key;
        ssl.verify = 1;
        cn.ssl = &ssl;
    }
    if (MQTTAsync_connect(c, &cn))
        return 1;
    MQTTProperties_free(&cprops);
    int64_t start = fg_monotonic_ms();
    int rc = 0;
    for (;;) {
        usleep(20000);
        pthread_mutex_lock(&lock);
        int st = connected;
        long n = received;
        int64_t last = last_ms;
        pthread_mutex_unlock(&lock);
        int64_t now = fg_monotonic_ms();
        if (reconnect) {
            pthread_mutex_lock(&lock);
            if (!link_up && last_ms)
                last_ms = last = now; /* idle counts only while connected */
            pthread_mutex_unlock(&lock);
        }
        if (st < 0) {
            rc = 1;
            break;
        }
        if (st == 1 && last == 0) {
            pthread_mutex_lock(&lock);
            last_ms = last = now; /* idle counts from the subscription */
            pthread_mutex_unlock(&lock);
            fprintf(stderr, "fg_sub: subscribed to %s\n", filter);
        }
        if (count && n >= count)
            break;
        if (st == 1 && now - last > idle)
            break;
        if (now - start > total)
            break;
    }
    MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer5;
    MQTTAsync_disconnect(c, &d);
    usleep(50000);
    MQTTAsync_destroy(&c);
    return rc;
}
