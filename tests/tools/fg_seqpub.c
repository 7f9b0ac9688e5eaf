/* Test publisher for the fault tests: publishes --count messages {"seq":i}
 * (i from --start, plus an optional "pad" string of --pad bytes) at --rate
 * messages a second (0: as fast as the window allows) at QoS 1 (--qos) to
 * --topic, waits for every PUBACK and prints "published N acked M".
 * Exit status 1 if M < N. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/fg_mqtt_pub.h"
#include "common/fg_util.h"

static void usage(void)
{
    fprintf(stderr, "usage: fg_seqpub --port P --topic T --count N [--rate R] [--start S]\n"
                    "                 [--pad BYTES] [--host H] [--id CLIENT_ID] [--qos Q]\n"
                    "                 [--window W] [--timeout MS]\n");
}

static void sleep_until(int64_t mono_ms)
{
    int64_t now = fg_monotonic_ms();
    if (mono_ms <= now)
        return;
    int64_t d = mono_ms - now;
    struct timespec t = {(time_t)(d / 1000), (long)(d % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1", *topic = NULL, *id = NULL;
    int port = 1883, qos = 1, window = 16, timeout = 60000;
    long count = 0, start = 0, pad = 0;
    double rate = 0;
    static const struct option opts[] = {
        {"host", 1, 0, 'H'}, {"port", 1, 0, 'p'},   {"topic", 1, 0, 't'},   {"count", 1, 0, 'n'},
        {"rate", 1, 0, 'r'}, {"start", 1, 0, 's'},  {"pad", 1, 0, 'P'},     {"id", 1, 0, 'I'},
        {"qos", 1, 0, 'q'},  {"window", 1, 0, 'w'}, {"timeout", 1, 0, 'T'}, {"help", 0, 0, 'h'},
        {0, 0, 0, 0}};
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'H':
            host = optarg;
            break;
        case 'p':
            port = atoi(optarg);
            break;
        case 't':
            topic = optarg;
            break;
        case 'n':
            count = atol(optarg);
            break;
        case 'r':
            rate = atof(optarg);
            break;
        case 's':
            start = atol(optarg);
            break;
        case 'P':
            pad = atol(optarg);
            break;
        case 'I':
            id = optarg;
            break;
        case 'q':
            qos = atoi(optarg);
            break;
        case 'w':
            window = atoi(optarg);
            break;
        case 'T':
            timeout = atoi(optarg);
            break;
        case 'h':
            usage();
            return 0;
        default:
            usage();
            return 2;
        }
    }
    if (!topic || count <= 0 || pad < 0 || pad > 1 << 20 || rate < 0) {
        usage();
        return 2;
    }
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
            sleep_until(t0 + (int64_t)((double)i * 1000.0 / rate));
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
