/* Test publisher for the fault tests: publishes --count messages {"seq":i}
 * (i from --start, plus an optional "pad" string of --pad bytes) at --rate
 * messages a second (0: as fast as the window allows) at QoS 1 (--qos) to
 * --topic, waits for every PUBACK and prints "published N acked M".
 * Exit status 1 if M < N. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/fg_mqtt_pub.h"
#include "common/fg_opt.h"
#include "common/fg_util.h"

struct opts {
    const char *host, *topic, *id;
    int port, qos, window, timeout;
    long long count, start, pad;
    double rate;
};
static const struct fg_opt table[] = {
    FG_OPT_STR(struct opts, host, "host", 0, "H", "broker host (default 127.0.0.1)"),
    FG_OPT_INT(struct opts, port, "port", 0, "P", "broker port (default 1883)", 1, 65535),
    FG_OPT_STR(struct opts, topic, "topic", 0, "T", "the topic"),
    FG_OPT_LONG(struct opts, count, "count", 0, "N", "messages to publish", 1, 100000000),
    FG_OPT_STR(struct opts, id, "id", 0, "CLIENT_ID", "client id (default fg-seqpub-PID)"),
    FG_OPT_DOUBLE(struct opts, rate, "rate", 0, "R", "messages a second (default: window-bound)"),
    FG_OPT_LONG(struct opts, start, "start", 0, "S", "first seq (default 0)", 0, 1000000000),
    FG_OPT_LONG(struct opts, pad, "pad", 0, "BYTES", "a pad string of BYTES", 0, 1 << 20),
    FG_OPT_INT(struct opts, qos, "qos", 0, "Q", "QoS (default 1)", 0, 1),
    FG_OPT_INT(struct opts, window, "window", 0, "W", "outstanding publishes (default 16)", 1,
               65535),
    FG_OPT_INT(struct opts, timeout, "timeout", 0, "MS", "wait this long for PUBACKs", 0, 3600000),
};
static const struct fg_opt_cmd cmd = {
    "fg_seqpub",
    "--port P --topic T --count N [--rate R] ...",
    "Publishes {\"seq\":i} messages; prints \"published N acked M\".",
    table,
    FG_OPT_N(table),
    0,
    0};

int main(int argc, char **argv)
{
    struct opts o = {.host = "127.0.0.1", .port = 1883, .qos = 1, .window = 16, .timeout = 60000};
    int prc = fg_opt_parse(&cmd, argc, argv, &o, NULL, NULL);
    if (prc != FG_OPT_OK)
        return fg_opt_exit(prc);
    if (!o.topic || !o.count)
        return fg_opt_error(&cmd, "--topic and --count are required");
    const char *host = o.host, *topic = o.topic, *id = o.id;
    int port = o.port, qos = o.qos, window = o.window, timeout = o.timeout;
    long count = (long)o.count, start = (long)o.start, pad = (long)o.pad;
    double rate = o.rate;
    char idbuf[64];
    if (!id) {
        snprintf(idbuf, sizeof idbuf, "fg-seqpub-%ld", (long)getpid());
        id = idbuf;
    }
    struct fg_pub_options po = {
        .host = host, .port = port, .client_id = id, .qos = qos, .window = window};
    struct fg_pub *p = NULL;
    char why[512];
    if (fg_pub_connect(&po, &p, why, sizeof why) != FG_OK) {
        fprintf(stderr, "fg_seqpub: %s\n", why);
        printf("published 0 acked 0\n");
        return 1;
    }
    char *padding = malloc((size_t)pad + 1);
    size_t cap = (size_t)pad + 64;
    char *buf = malloc(cap);
    if (!padding || !buf)
        return 1;
    memset(padding, 'x', (size_t)pad);
    padding[pad] = '\0';
    int64_t t0 = fg_monotonic_ms();
    long sent = 0;
    for (long i = 0; i < count; i++) {
        if (rate > 0)
            fg_pub_pace(t0, i, rate);
        long seq = start + i;
        int len = pad ? snprintf(buf, cap, "{\"seq\":%ld,\"pad\":\"%s\"}", seq, padding)
                      : snprintf(buf, cap, "{\"seq\":%ld}", seq);
        if (fg_pub_send(p, topic, buf, (size_t)len, NULL, NULL) != FG_OK) {
            fprintf(stderr, "fg_seqpub: publish of seq %ld failed\n", seq);
            break;
        }
        sent++;
    }
    if (fg_pub_flush(p, timeout) != FG_OK)
        fprintf(stderr, "fg_seqpub: not every publish was acknowledged\n");
    size_t acked = fg_pub_acked(p);
    int64_t took = fg_monotonic_ms() - t0;
    fg_pub_close(p);
    free(padding);
    free(buf);
    printf("published %ld acked %zu\n", sent, acked);
    fflush(stdout);
    fprintf(stderr, "fg_seqpub: %ld messages in %lld ms\n", sent, (long long)took);
    return (long)acked < count ? 1 : 0;
}
