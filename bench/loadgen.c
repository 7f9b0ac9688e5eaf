/* A light paced load generator: publishes badge JSON of about 200 bytes at a
 * fixed offered rate, MQTT v5, QoS 0 or 1, with a sequence number and the send
 * time (CLOCK_MONOTONIC ns) in payload fields "seq" and "t_ns" (fairgate does
 * not copy user properties through, so the payload carries them; the same
 * values also go in user properties "seq" and "t_ns" for pass-through systems).
 * Outstanding publishes stay within the server's Receive Maximum and --window:
 * Paho never gets a backlog (design brief section 12).
 *
 *   loadgen --port P [--host H] [--qos 0|1] --rate R --seconds S
 *           [--seq-base B] [--window W] [--workers N] [--topic-prefix T]
 *
 * Prints one JSON line: offered, sent, acked, failed, seconds, achieved. */
#include <MQTTAsync.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static atomic_int g_outstanding, g_connected; /* 0 pending, 1 ok, -1 failed/lost */
static atomic_long g_acked, g_failed;
static atomic_int g_receive_max = 65535;

static int64_t mono_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void sleep_us(long us)
{
    struct timespec t = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&t, NULL);
}

static void on_conn_ok(void *ctx, MQTTAsync_successData5 *r)
{
    (void)ctx;
    if (MQTTProperties_hasProperty(&r->properties, MQTTPROPERTY_CODE_RECEIVE_MAXIMUM))
        atomic_store(&g_receive_max, MQTTProperties_getNumericValue(
                                         &r->properties, MQTTPROPERTY_CODE_RECEIVE_MAXIMUM));
    atomic_store(&g_connected, 1);
}

static void on_conn_fail(void *ctx, MQTTAsync_failureData5 *r)
{
    (void)ctx;
    fprintf(stderr, "loadgen: connect failed (%d)\n", r ? r->code : 0);
    atomic_store(&g_connected, -1);
}

static void on_lost(void *ctx, char *cause)
{
    (void)ctx;
    fprintf(stderr, "loadgen: connection lost: %s\n", cause ? cause : "?");
    atomic_store(&g_connected, -1);
}

static void on_pub_ok(void *ctx, MQTTAsync_successData5 *r)
{
    (void)ctx;
    (void)r;
    atomic_fetch_add(&g_acked, 1);
    atomic_fetch_sub(&g_outstanding, 1);
}

static void on_pub_fail(void *ctx, MQTTAsync_failureData5 *r)
{
    (void)ctx;
    (void)r;
    atomic_fetch_add(&g_failed, 1);
    atomic_fetch_sub(&g_outstanding, 1);
}

static const char *const zones[] = {"assembly-1",   "assembly-2", "warehouse",
                                    "loading-dock", "canteen",    "office"};
static const char *const holders[] = {"Anna de Vries", "Bram Jansen", "Chantal Bakker",
                                      "Daan Visser",   "Emre Yilmaz", "Fatima El Amrani"};

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1", *prefix = "raw/bench-badge";
    int port = 0, qos = 1, window = 100, workers = 1000;
    double rate = 1000, seconds = 5;
    long long seq_base = 0;
    static const struct option opts[] = {
        {"host", required_argument, 0, 'h'},         {"port", required_argument, 0, 'p'},
        {"qos", required_argument, 0, 'q'},          {"rate", required_argument, 0, 'r'},
        {"seconds", required_argument, 0, 's'},      {"seq-base", required_argument, 0, 'b'},
        {"window", required_argument, 0, 'w'},       {"workers", required_argument, 0, 'n'},
        {"topic-prefix", required_argument, 0, 't'}, {0, 0, 0, 0}};
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'h':
            host = optarg;
            break;
        case 'p':
            port = atoi(optarg);
            break;
        case 'q':
            qos = atoi(optarg);
            break;
        case 'r':
            rate = atof(optarg);
            break;
        case 's':
            seconds = atof(optarg);
            break;
        case 'b':
            seq_base = atoll(optarg);
            break;
        case 'w':
            window = atoi(optarg);
            break;
        case 'n':
            workers = atoi(optarg);
            break;
        case 't':
            prefix = optarg;
            break;
        default:
            fprintf(stderr, "usage: loadgen --port P --rate R --seconds S [--qos Q] ...\n");
            return 2;
        }
    }
    if (port <= 0 || port > 65535 || rate <= 0 || rate > 1e6 || seconds <= 0 || seconds > 600 ||
        (qos != 0 && qos != 1) || window < 1 || window > 65535 || workers < 1) {
        fprintf(stderr, "loadgen: bad arguments\n");
        return 2;
    }
    char uri[300], id[64];
    snprintf(uri, sizeof uri, "tcp://%s:%d", host, port);
    snprintf(id, sizeof id, "bench-loadgen-%d", (int)(mono_ns() % 1000000));
    MQTTAsync c;
    MQTTAsync_createOptions co = MQTTAsync_createOptions_initializer5;
    co.maxBufferedMessages = window + 16; /* applies while connected too (#1193) */
    if (MQTTAsync_createWithOptions(&c, uri, id, MQTTCLIENT_PERSISTENCE_NONE, NULL, &co) !=
        MQTTASYNC_SUCCESS)
        return 1;
    MQTTAsync_setCallbacks(c, NULL, on_lost, NULL, NULL);
    MQTTAsync_connectOptions cc = MQTTAsync_connectOptions_initializer5;
    cc.cleanstart = 1;
    cc.keepAliveInterval = 30;
    cc.onSuccess5 = on_conn_ok;
    cc.onFailure5 = on_conn_fail;
    cc.maxInflight = window;
    if (MQTTAsync_connect(c, &cc) != MQTTASYNC_SUCCESS)
        return 1;
    for (int i = 0; i < 1000 && atomic_load(&g_connected) == 0; i++)
        sleep_us(10000);
    if (atomic_load(&g_connected) != 1) {
        fprintf(stderr, "loadgen: not connected to %s\n", uri);
        return 1;
    }
    int win = window;
    if (qos == 1 && atomic_load(&g_receive_max) < win)
        win = atomic_load(&g_receive_max);

    long long total = (long long)(rate * seconds + 0.5), sent = 0;
    char ts[40];
    time_t now = time(NULL);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S.000Z", gmtime(&now));
    int64_t t0 = mono_ns();
    int64_t hard_end = t0 + (int64_t)((seconds * 2 + 5) * 1e9); /* bounded even if stalled */
    long long blocked = 0;
    while (sent < total && atomic_load(&g_connected) == 1) {
        int64_t t = mono_ns();
        if (t > hard_end)
            break;
        long long due = (long long)((double)(t - t0) * rate / 1e9) + 1;
        if (due > total)
            due = total;
        if (sent >= due) {
            sleep_us(100);
            continue;
        }
        if (atomic_load(&g_outstanding) >= win) {
            blocked++;
            sleep_us(50);
            continue;
        }
        long long seq = seq_base + sent;
        int w = (int)(sent % workers);
        char topic[128], payload[320], sseq[24], sts[24];
        snprintf(topic, sizeof topic, "%s/d4:3f:%02x:%02x:%02x:00", prefix, w & 0xff,
                 (w >> 8) & 0xff, (w >> 16) & 0xff);
        int64_t tn = mono_ns();
        int len =
            snprintf(payload, sizeof payload,
                     "{\"badge\":\"B-%05d\",\"tag\":\"d4:3f:%02x:%02x:%02x:00\","
                     "\"x\":%.2f,\"y\":%.2f,\"zone\":\"%s\",\"battery\":%d,\"ts\":\"%s\","
                     "\"holder\":\"%s\",\"rssi\":%d,\"seq\":%lld,\"t_ns\":%lld}",
                     10000 + w, w & 0xff, (w >> 8) & 0xff, (w >> 16) & 0xff,
                     (double)(seq % 8000) / 100.0, (double)(seq % 6000) / 100.0, zones[w % 6],
                     50 + w % 50, ts, holders[w % 6], -40 - (int)(seq % 50), seq, (long long)tn);
        snprintf(sseq, sizeof sseq, "%lld", seq);
        snprintf(sts, sizeof sts, "%lld", (long long)tn);
        MQTTAsync_message m = MQTTAsync_message_initializer;
        MQTTProperties props = MQTTProperties_initializer;
        MQTTProperty up = {.identifier = MQTTPROPERTY_CODE_USER_PROPERTY};
        up.value.data.data = "seq";
        up.value.data.len = 3;
        up.value.value.data = sseq;
        up.value.value.len = (int)strlen(sseq);
        MQTTProperties_add(&props, &up);
        up.value.data.data = "t_ns";
        up.value.data.len = 4;
        up.value.value.data = sts;
        up.value.value.len = (int)strlen(sts);
        MQTTProperties_add(&props, &up);
        m.properties = props;
        m.payload = payload;
        m.payloadlen = len;
        m.qos = qos;
        MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
        ro.onSuccess5 = on_pub_ok;
        ro.onFailure5 = on_pub_fail;
        atomic_fetch_add(&g_outstanding, 1);
        int rc = MQTTAsync_sendMessage(c, topic, &m, &ro);
        MQTTProperties_free(&props);
        if (rc != MQTTASYNC_SUCCESS) {
            atomic_fetch_sub(&g_outstanding, 1);
            blocked++;
            sleep_us(100);
            continue; /* retried with the same seq */
        }
        sent++;
    }
    double send_s = (double)(mono_ns() - t0) / 1e9;
    /* Let outstanding publishes complete, bounded. */
    for (int i = 0; i < 500 && atomic_load(&g_outstanding) > 0; i++)
        sleep_us(10000);
    printf("{\"offered\":%.0f,\"sent\":%lld,\"acked\":%ld,\"failed\":%ld,\"seconds\":%.3f,"
           "\"achieved\":%.1f,\"blocked\":%lld,\"window\":%d}\n",
           rate, sent, atomic_load(&g_acked), atomic_load(&g_failed), send_s, (double)sent / send_s,
           blocked, win);
    fflush(stdout);
    if (atomic_load(&g_connected) == 1) {
        MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer5;
        d.timeout = 1000;
        MQTTAsync_disconnect(c, &d);
        for (int i = 0; i < 100 && MQTTAsync_isConnected(c); i++)
            sleep_us(10000);
    }
    MQTTAsync_destroy(&c);
    return sent == total ? 0 : 3;
}
