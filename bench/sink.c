/* The benchmark sink: subscribes upstream, reads "seq" and "t_ns" from each
 * payload (fairgate keeps them through the benchmark policy; the bridge and
 * Node-RED pass them too) and computes loss, duplicates and latency
 * (CLOCK_MONOTONIC now - t_ns: same host, same clock).
 *
 *   sink --port P [--host H] [--qos Q] [--topic F] --seq-base B --expect N
 *        [--timeout S] [--idle MS] [--ready FILE]
 *
 * Ends when all N sequence numbers arrived, after --idle ms without a message
 * (once one arrived), or at --timeout. Prints one JSON line. */
#include <MQTTAsync.h>
#include <getopt.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_EXPECT 20000000LL

static atomic_int g_state; /* 0 pending, 1 subscribed, -1 failed */
static long long g_base, g_expect;
static unsigned char *g_seen;
static int64_t *g_lat; /* ns, in arrival order */
static atomic_llong g_received, g_distinct, g_dups, g_stale, g_bad;
static atomic_llong g_last_arrival, g_first_arrival;

static int64_t mono_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void sleep_ms(long ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

/* The first key at or after *from; *from moves past it. */
static bool find_int(const char *p, size_t n, const char *key, long long *out, size_t *from)
{
    size_t kl = strlen(key);
    for (size_t i = *from; i + kl < n; i++)
        if (p[i] == '"' && !memcmp(p + i, key, kl)) {
            char *end;
            char buf[32];
            size_t j = i + kl, k = 0;
            while (j < n && k < sizeof buf - 1 && (p[j] == '-' || (p[j] >= '0' && p[j] <= '9')))
                buf[k++] = p[j++];
            buf[k] = '\0';
            *out = strtoll(buf, &end, 10);
            *from = j;
            return k > 0;
        }
    return false;
}

static int on_message(void *ctx, char *topic, int tlen, MQTTAsync_message *m)
{
    (void)ctx;
    (void)tlen;
    int64_t now = mono_ns();
    long long seq, t;
    size_t at = 0, len = (size_t)m->payloadlen;
    bool any = false;
    /* one record, or a batch (a JSON array of records): each counts */
    while (find_int(m->payload, len, "\"seq\":", &seq, &at) &&
           find_int(m->payload, len, "\"t_ns\":", &t, &at)) {
        any = true;
        long long r = atomic_fetch_add(&g_received, 1);
        if (r == 0)
            atomic_store(&g_first_arrival, now);
        atomic_store(&g_last_arrival, now);
        long long i = seq - g_base;
        if (i < 0 || i >= g_expect)
            atomic_fetch_add(&g_stale, 1);
        else if (g_seen[i])
            atomic_fetch_add(&g_dups, 1);
        else {
            g_seen[i] = 1;
            long long d = atomic_fetch_add(&g_distinct, 1);
            g_lat[d] = now - t;
        }
    }
    if (!any)
        atomic_fetch_add(&g_bad, 1);
    MQTTAsync_freeMessage(&m);
    MQTTAsync_free(topic);
    return 1;
}

static void on_sub_ok(void *ctx, MQTTAsync_successData5 *r)
{
    (void)ctx;
    atomic_store(&g_state, r->reasonCode < 0x80 ? 1 : -1);
}

static void on_fail(void *ctx, MQTTAsync_failureData5 *r)
{
    (void)ctx;
    fprintf(stderr, "sink: failed (%d)\n", r ? r->code : 0);
    atomic_store(&g_state, -1);
}

static MQTTAsync g_c;
static const char *g_topic = "#";
static int g_qos = 1;

static void on_conn_ok(void *ctx, MQTTAsync_successData5 *r)
{
    (void)ctx;
    (void)r;
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    ro.onSuccess5 = on_sub_ok;
    ro.onFailure5 = on_fail;
    if (MQTTAsync_subscribe(g_c, g_topic, g_qos, &ro) != MQTTASYNC_SUCCESS)
        atomic_store(&g_state, -1);
}

static void on_lost(void *ctx, char *cause)
{
    (void)ctx;
    fprintf(stderr, "sink: connection lost: %s\n", cause ? cause : "?");
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static double pct(const int64_t *v, long long n, double p)
{
    if (n <= 0)
        return -1;
    long long i = (long long)(p * (double)(n - 1) + 0.5);
    return (double)v[i] / 1000.0; /* microseconds */
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1", *ready = NULL;
    int port = 0;
    double timeout = 30;
    long idle_ms = 1500;
    static const struct option opts[] = {
        {"host", required_argument, 0, 'h'},     {"port", required_argument, 0, 'p'},
        {"qos", required_argument, 0, 'q'},      {"topic", required_argument, 0, 't'},
        {"seq-base", required_argument, 0, 'b'}, {"expect", required_argument, 0, 'n'},
        {"timeout", required_argument, 0, 'T'},  {"idle", required_argument, 0, 'i'},
        {"ready", required_argument, 0, 'r'},    {0, 0, 0, 0}};
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
            g_qos = atoi(optarg);
            break;
        case 't':
            g_topic = optarg;
            break;
        case 'b':
            g_base = atoll(optarg);
            break;
        case 'n':
            g_expect = atoll(optarg);
            break;
        case 'T':
            timeout = atof(optarg);
            break;
        case 'i':
            idle_ms = atol(optarg);
            break;
        case 'r':
            ready = optarg;
            break;
        default:
            fprintf(stderr, "usage: sink --port P --seq-base B --expect N ...\n");
            return 2;
        }
    }
    if (port <= 0 || port > 65535 || g_expect <= 0 || g_expect > MAX_EXPECT || timeout <= 0 ||
        timeout > 3600 || idle_ms < 10) {
        fprintf(stderr, "sink: bad arguments\n");
        return 2;
    }
    g_seen = calloc((size_t)g_expect, 1);
    g_lat = calloc((size_t)g_expect, sizeof *g_lat);
    if (!g_seen || !g_lat)
        return 1;
    char uri[300], id[64];
    snprintf(uri, sizeof uri, "tcp://%s:%d", host, port);
    snprintf(id, sizeof id, "bench-sink-%d", (int)(mono_ns() % 1000000));
    MQTTAsync_createOptions co = MQTTAsync_createOptions_initializer5;
    if (MQTTAsync_createWithOptions(&g_c, uri, id, MQTTCLIENT_PERSISTENCE_NONE, NULL, &co) !=
        MQTTASYNC_SUCCESS)
        return 1;
    MQTTAsync_setCallbacks(g_c, NULL, on_lost, on_message, NULL);
    MQTTAsync_connectOptions cc = MQTTAsync_connectOptions_initializer5;
    MQTTProperties props = MQTTProperties_initializer;
    MQTTProperty rm = {.identifier = MQTTPROPERTY_CODE_RECEIVE_MAXIMUM};
    rm.value.integer2 = 65535; /* the sink never throttles the broker */
    MQTTProperties_add(&props, &rm);
    cc.connectProperties = &props;
    cc.cleanstart = 1;
    cc.keepAliveInterval = 30;
    cc.onSuccess5 = on_conn_ok;
    cc.onFailure5 = on_fail;
    if (MQTTAsync_connect(g_c, &cc) != MQTTASYNC_SUCCESS)
        return 1;
    MQTTProperties_free(&props);
    int64_t t0 = mono_ns();
    for (int i = 0; i < 1000 && atomic_load(&g_state) == 0; i++)
        sleep_ms(10);
    if (atomic_load(&g_state) != 1) {
        fprintf(stderr, "sink: could not subscribe on %s\n", uri);
        return 1;
    }
    if (ready) {
        FILE *f = fopen(ready, "w");
        if (f)
            fclose(f);
    }
    const char *why = "timeout";
    while ((double)(mono_ns() - t0) / 1e9 < timeout) {
        sleep_ms(10);
        if (atomic_load(&g_distinct) >= g_expect) {
            why = "complete";
            break;
        }
        long long last = atomic_load(&g_last_arrival);
        if (atomic_load(&g_received) > 0 && (mono_ns() - last) / 1000000 > idle_ms) {
            why = "idle";
            break;
        }
    }
    /* Stop counting before reading the arrays. */
    MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer5;
    d.timeout = 500;
    MQTTAsync_disconnect(g_c, &d);
    for (int i = 0; i < 100 && MQTTAsync_isConnected(g_c); i++)
        sleep_ms(10);
    long long n = atomic_load(&g_distinct);
    int64_t span_ns = atomic_load(&g_last_arrival) - atomic_load(&g_first_arrival);
    int64_t *sorted = malloc((size_t)(n ? n : 1) * sizeof *sorted);
    if (!sorted)
        return 1;
    memcpy(sorted, g_lat, (size_t)n * sizeof *sorted);
    qsort(sorted, (size_t)n, sizeof *sorted, cmp64);
    printf("{\"end\":\"%s\",\"expect\":%lld,\"received\":%lld,\"distinct\":%lld,\"loss\":%lld,"
           "\"dups\":%lld,\"stale\":%lld,\"unparsed\":%lld,\"span_s\":%.3f,\"p50_us\":%.1f,"
           "\"p99_us\":%.1f,\"p999_us\":%.1f,\"max_us\":%.1f}\n",
           why, g_expect, atomic_load(&g_received), n, g_expect - n, atomic_load(&g_dups),
           atomic_load(&g_stale), atomic_load(&g_bad), (double)span_ns / 1e9, pct(sorted, n, 0.50),
           pct(sorted, n, 0.99), pct(sorted, n, 0.999), n ? (double)sorted[n - 1] / 1000.0 : -1.0);
    MQTTAsync_destroy(&g_c);
    free(sorted);
    free(g_seen);
    free(g_lat);
    return 0;
}
