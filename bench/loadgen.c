/* A light paced load generator: publishes badge JSON of about 200 bytes at a
 * fixed offered rate, MQTT v5, QoS 0 or 1, with a sequence number and the send
 * time (CLOCK_MONOTONIC ns) in payload fields "seq" and "t_ns" (fairgate does
 * not copy user properties through, so the payload carries them; the same
 * values also go in user properties "seq" and "t_ns" for pass-through systems).
 * Publishes through common/fg_mqtt_pub, the publisher of the simulator and the
 * test tools: outstanding publishes stay within the server's Receive Maximum
 * and --window, Paho never gets a backlog (design brief section 12).
 *
 *   loadgen --port P [--host H] [--qos 0|1] --rate R --seconds S
 *           [--seq-base B] [--window W] [--workers N] [--topic-prefix T]
 *
 * Prints one JSON line: offered, sent, acked, failed, seconds, achieved. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/fg_mqtt_pub.h"
#include "common/fg_opt.h"

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

static const char *const zones[] = {"assembly-1",   "assembly-2", "warehouse",
                                    "loading-dock", "canteen",    "office"};
static const char *const holders[] = {"Anna de Vries", "Bram Jansen", "Chantal Bakker",
                                      "Daan Visser",   "Emre Yilmaz", "Fatima El Amrani"};

struct opts {
    const char *host, *prefix;
    int port, qos, window, workers;
    double rate, seconds;
    long long seq_base;
};
static const struct fg_opt table[] = {
    FG_OPT_STR(struct opts, host, "host", 0, "H", "broker host (default 127.0.0.1)"),
    FG_OPT_INT(struct opts, port, "port", 0, "P", "broker port", 1, 65535),
    FG_OPT_INT(struct opts, qos, "qos", 0, "Q", "QoS 0 or 1 (default 1)", 0, 1),
    FG_OPT_DOUBLE(struct opts, rate, "rate", 0, "R", "offered messages per second (default 1000)"),
    FG_OPT_DOUBLE(struct opts, seconds, "seconds", 0, "S", "how long to offer (default 5)"),
    FG_OPT_LONG(struct opts, seq_base, "seq-base", 0, "B", "first sequence number", 0,
                1000000000000LL),
    FG_OPT_INT(struct opts, window, "window", 0, "W", "outstanding publishes (default 100)", 1,
               65535),
    FG_OPT_INT(struct opts, workers, "workers", 0, "N", "distinct badges (default 1000)", 1,
               1 << 24),
    FG_OPT_STR(struct opts, prefix, "topic-prefix", 0, "T", "topic prefix (raw/bench-badge)"),
};
static const struct fg_opt_cmd cmd = {
    "loadgen",
    "--port P --rate R --seconds S [--qos Q] [--window W] [--workers N] ...",
    "Publishes badge JSON at a fixed offered rate; prints one JSON line.",
    table,
    FG_OPT_N(table),
    0,
    0};

/* One badge message of worker w with sequence number seq into payload. */
static int badge(char *payload, size_t cap, char *topic, size_t tcap, const char *prefix, int w,
                 long long seq, const char *ts, int64_t tn)
{
    snprintf(topic, tcap, "%s/d4:3f:%02x:%02x:%02x:00", prefix, w & 0xff, (w >> 8) & 0xff,
             (w >> 16) & 0xff);
    return snprintf(payload, cap,
                    "{\"badge\":\"B-%05d\",\"tag\":\"d4:3f:%02x:%02x:%02x:00\","
                    "\"x\":%.2f,\"y\":%.2f,\"zone\":\"%s\",\"battery\":%d,\"ts\":\"%s\","
                    "\"holder\":\"%s\",\"rssi\":%d,\"seq\":%lld,\"t_ns\":%lld}",
                    10000 + w, w & 0xff, (w >> 8) & 0xff, (w >> 16) & 0xff,
                    (double)(seq % 8000) / 100.0, (double)(seq % 6000) / 100.0, zones[w % 6],
                    50 + w % 50, ts, holders[w % 6], -40 - (int)(seq % 50), seq, (long long)tn);
}

int main(int argc, char **argv)
{
    struct opts o = {.host = "127.0.0.1",
                     .prefix = "raw/bench-badge",
                     .qos = 1,
                     .window = 100,
                     .workers = 1000,
                     .rate = 1000,
                     .seconds = 5};
    int prc = fg_opt_parse(&cmd, argc, argv, &o, NULL, NULL);
    if (prc != FG_OPT_OK)
        return fg_opt_exit(prc);
    if (!o.port || o.rate > 1e6 || o.seconds > 600)
        return fg_opt_error(&cmd, "--port is required; --rate at most 1e6, --seconds at most 600");
    char id[64], why[512];
    snprintf(id, sizeof id, "bench-loadgen-%d", (int)(mono_ns() % 1000000));
    struct fg_pub_options po = {.host = o.host,
                                .port = o.port,
                                .client_id = id,
                                .qos = o.qos,
                                .window = o.window,
                                .send_timeout_ms = 100};
    struct fg_pub *p;
    if (fg_pub_connect(&po, &p, why, sizeof why) != FG_OK) {
        fprintf(stderr, "loadgen: %s\n", why);
        return 1;
    }
    long long total = (long long)(o.rate * o.seconds + 0.5), sent = 0;
    char ts[40];
    time_t now = time(NULL);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S.000Z", gmtime(&now));
    int64_t t0 = mono_ns();
    int64_t hard_end = t0 + (int64_t)((o.seconds * 2 + 5) * 1e9); /* bounded even if stalled */
    while (sent < total && fg_pub_connected(p) && mono_ns() <= hard_end) {
        long long due = (long long)((double)(mono_ns() - t0) * o.rate / 1e9) + 1;
        if (sent >= (due > total ? total : due)) {
            sleep_us(100);
            continue;
        }
        long long seq = o.seq_base + sent;
        char topic[128], payload[320], sseq[24], sts[24];
        int64_t tn = mono_ns();
        int len = badge(payload, sizeof payload, topic, sizeof topic, o.prefix,
                        (int)(sent % o.workers), seq, ts, tn);
        snprintf(sseq, sizeof sseq, "%lld", seq);
        snprintf(sts, sizeof sts, "%lld", (long long)tn);
        const struct fg_pub_prop props[] = {{"seq", sseq}, {"t_ns", sts}};
        fg_err e = fg_pub_send_props(p, topic, payload, (size_t)len, props, 2);
        if (e == FG_ERR_FULL)
            continue; /* the window stayed full: check the bound, retry the same seq */
        if (e != FG_OK) {
            sleep_us(100);
            continue; /* retried with the same seq while connected */
        }
        sent++;
    }
    double send_s = (double)(mono_ns() - t0) / 1e9;
    if (fg_pub_flush(p, 5000) != FG_OK)
        fprintf(stderr, "loadgen: not every publish completed\n");
    printf("{\"offered\":%.0f,\"sent\":%lld,\"acked\":%zu,\"failed\":%zu,\"seconds\":%.3f,"
           "\"achieved\":%.1f,\"blocked\":%zu,\"window\":%d}\n",
           o.rate, sent, fg_pub_acked(p), fg_pub_failed(p), send_s, (double)sent / send_s,
           fg_pub_waits(p), fg_pub_window(p));
    fflush(stdout);
    fg_pub_close(p);
    return sent == total ? 0 : 3;
}
