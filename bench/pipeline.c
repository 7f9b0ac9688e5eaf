/* In-process pipeline benchmark: topic + JSON payload -> the pipeline core
 * (pipeline_input: decode, policy, encode), as the daemon drives it, on one
 * thread, no MQTT. Reports messages/s
 * per core (thread CPU time), allocations per message (malloc interposed for
 * the whole process, shared libraries such as libcjson included), and
 * optionally the memory of aggregation state for many distinct workers.
 *
 *   pipeline [--policy FILE] [--types DIR] [--seconds S] [--workers N]
 *            [--outbox] [--agg-workers N] [--csv] [--check]
 *
 * Not a test: it asserts nothing about time. */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/fg_log.h"
#include "common/fg_util.h"
#include "outbox/outbox.h"
#include "pipeline/pipeline.h"
#include "policy/policy.h"
#include "policy/pseudonym.h"
#include "sensors/sensor.h"
#include "sensors/simulator.h"

/* ---- allocation counting ------------------------------------------------------
 * Defining malloc & co. in the executable interposes them for every shared
 * library too (ELF symbol interposition); the real work is glibc's. */
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

static size_t g_allocs, g_frees;
static long long g_live_bytes;
static bool g_track_bytes; /* only for the aggregation run: malloc_usable_size costs ~5% */

void *malloc(size_t n)
{
    void *p = __libc_malloc(n);
    if (p) {
        g_allocs++;
        if (g_track_bytes)
            g_live_bytes += (long long)malloc_usable_size(p);
    }
    return p;
}

void *calloc(size_t n, size_t m)
{
    void *p = __libc_calloc(n, m);
    if (p) {
        g_allocs++;
        if (g_track_bytes)
            g_live_bytes += (long long)malloc_usable_size(p);
    }
    return p;
}

void *realloc(void *old, size_t n)
{
    long long before = old && g_track_bytes ? (long long)malloc_usable_size(old) : 0;
    void *p = __libc_realloc(old, n);
    if (p) {
        g_allocs++;
        if (g_track_bytes)
            g_live_bytes += (long long)malloc_usable_size(p) - before;
    } else if (n == 0 && old)
        g_live_bytes -= before;
    return p;
}

void free(void *p)
{
    if (!p)
        return;
    g_frees++;
    if (g_track_bytes)
        g_live_bytes -= (long long)malloc_usable_size(p);
    __libc_free(p);
}

/* ---- helpers ------------------------------------------------------------------- */

static double thread_cpu_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double mono_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static long status_kib(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    long v = -1;
    size_t kl = strlen(key);
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, key, kl) && line[kl] == ':') {
            v = strtol(line + kl + 1, NULL, 10);
            break;
        }
    fclose(f);
    return v;
}

struct input {
    char topic[128];
    char payload[512];
    size_t len;
};

struct sinkstate {
    struct outbox *outbox; /* NULL: just consume the encoded output */
    size_t outputs, bytes;
    unsigned char check;
};

static fg_err emit(void *ctx, const struct fg_message *out)
{
    struct sinkstate *s = ctx;
    s->outputs++;
    s->bytes += out->len;
    /* Touch the output so the encoder cannot be optimised away. */
    s->check ^= (unsigned char)out->payload[out->len / 2] ^ (unsigned char)out->topic[0];
    if (s->outbox)
        return outbox_put(s->outbox, out, 0);
    return FG_OK;
}

/* Makes the benchmark inputs: the simulator's factory stream (badges and
 * environment sensors, about 200 bytes each); with bench types, badge lines
 * are rewritten as bench-badge messages carrying seq and t_ns. */
/* What the gateway's pump does per message, minus MQTT: take up to four
 * entries and acknowledge them at once. */
static void pump_outbox(struct outbox *ob)
{
    struct outbox_entry *e[4];
    size_t k = outbox_take(ob, e, 4);
    for (size_t j = 0; j < k; j++) {
        uint64_t id = e[j]->id;
        outbox_entry_free(e[j]);
        outbox_ack(ob, id);
    }
}

static struct input *make_inputs(size_t n, int workers, bool bench_badge, double *mean_len)
{
    struct input *in = calloc(n, sizeof *in);
    struct sim *sim;
    struct sim_options so = {
        .site = "factory", .workers = workers, .seed = 42, .start_ms = fg_now_ms(), .step_ms = 10};
    if (!in || sim_new(&so, &sim) != FG_OK)
        return NULL;
    size_t total = 0;
    for (size_t i = 0; i < n;) {
        struct input *x = &in[i];
        x->len = sim_next(sim, x->topic, sizeof x->topic, x->payload, sizeof x->payload);
        if (!x->len)
            continue;
        if (bench_badge) {
            if (strncmp(x->topic, "raw/uwb-badge/", 14))
                continue;
            char t[128];
            snprintf(t, sizeof t, "raw/bench-badge/%s", x->topic + 14);
            snprintf(x->topic, sizeof x->topic, "%s", t);
            /* ...,"rssi":-57} -> ...,"rssi":-57,"seq":N,"t_ns":T} */
            x->len--;
            x->len += (size_t)snprintf(x->payload + x->len, sizeof x->payload - x->len,
                                       ",\"seq\":%zu,\"t_ns\":%llu}", i,
                                       (unsigned long long)(mono_s() * 1e9));
        }
        total += x->len;
        i++;
    }
    sim_free(sim);
    *mean_len = (double)total / (double)n;
    return in;
}

static void usage(void)
{
    fprintf(stderr, "usage: pipeline [--policy FILE] [--types DIR] [--seconds S] [--workers N]\n"
                    "                [--outbox] [--agg-workers N] [--csv] [--check]\n");
}

/* One badge message per distinct worker, all inside one window: the
 * aggregation state then holds every worker at once. */
static int aggregation_run(struct pipeline *pl, const struct sensor_registry *reg,
                           struct outbox *ob, struct sinkstate *sp, long agg_workers, int64_t now,
                           bool csv)
{
    const struct sensor_type *bt = sensor_registry_find(reg, "uwb-badge");
    if (!bt) {
        fprintf(stderr, "pipeline: no uwb-badge type for the aggregation run\n");
        return 1;
    }
    malloc_trim(0);
    /* Bytes allocated from here on count; frees of older blocks would be
     * miscounted, so the live figure is approximate (RSS is the measure). */
    g_track_bytes = true;
    long rss0 = status_kib("VmRSS");
    long long live0 = g_live_bytes;
    static const char *zones[] = {"assembly-1",   "assembly-2", "warehouse",
                                  "loading-dock", "canteen",    "office"};
    char ts[40];
    fg_format_time(now, ts, sizeof ts);
    size_t emitted_total = sp->outputs;
    for (long i = 0; i < agg_workers; i++) {
        char topic[64], payload[256];
        snprintf(topic, sizeof topic, "raw/uwb-badge/tag-%07ld", i % 5000);
        int len = snprintf(payload, sizeof payload,
                           "{\"badge\":\"W-%08ld\",\"x\":%.2f,\"y\":%.2f,\"zone\":\"%s\","
                           "\"ts\":\"%s\"}",
                           i, (double)(i % 80), (double)(i % 60), zones[i % 6], ts);
        pipeline_reject rej;
        if (pipeline_input(pl, topic, payload, (size_t)len, now, &rej, NULL) != FG_OK ||
            rej != PIPE_REJ_NONE) {
            fprintf(stderr, "pipeline: aggregation input rejected: %s\n",
                    pipeline_reject_name(rej));
            return 1;
        }
        if (ob)
            pump_outbox(ob); /* keeps the outbox from filling */
    }
    long rss1 = status_kib("VmRSS");
    long long live1 = g_live_bytes;
    if (csv)
        printf("aggregation,%ld,%.2f,%.2f\n", agg_workers, (double)(rss1 - rss0) / 1024.0,
               (double)(live1 - live0) / 1048576.0);
    else
        printf("aggregation state for %ld distinct workers: RSS +%.2f MiB, heap +%.2f MiB "
               "(%zu outputs while filling)\n",
               agg_workers, (double)(rss1 - rss0) / 1024.0, (double)(live1 - live0) / 1048576.0,
               sp->outputs - emitted_total);
    if (pipeline_tick(pl, now + 86400000LL, true) != FG_OK)
        fprintf(stderr, "pipeline: closing windows failed\n");
    return 0;
}

/* Warm-up, then a timed loop in batches of NIN inputs, bounded by seconds; prints
 * the figures. Returns how many inputs the timed pass took. */
static size_t timed_run(struct pipeline *pl, const struct input *in, size_t NIN, struct outbox *ob,
                        struct sinkstate *ss, int64_t now, double seconds, bool use_outbox,
                        bool csv, const char *policy_file, double mean_len)
{
    size_t rejected = 0, n = 0;
    for (int pass = 0; pass < 2; pass++) {
        size_t a0 = g_allocs;
        double c0 = thread_cpu_s(), w0 = mono_s();
        size_t limit = pass == 0 ? NIN : (size_t)100000000;
        double stop = pass == 0 ? 1e9 : seconds;
        n = 0;
        rejected = 0;
        ss->outputs = ss->bytes = 0;
        while (n < limit) {
            for (size_t i = 0; i < NIN; i++, n++) {
                const struct input *x = &in[i];
                pipeline_reject rej;
                if (pipeline_input(pl, x->topic, x->payload, x->len, now, &rej, NULL) != FG_OK ||
                    rej != PIPE_REJ_NONE)
                    rejected++;
                if (ob)
                    pump_outbox(ob);
            }
            if (mono_s() - w0 >= stop)
                break;
        }
        double cpu = thread_cpu_s() - c0, wall = mono_s() - w0;
        if (pass == 0)
            continue;
        double allocs = (double)(g_allocs - a0) / (double)n;
        const char *label = use_outbox ? "decode+policy+encode+outbox" : "decode+policy+encode";
        if (csv)
            printf("pipeline,%s,%s,%.0f,%.0f,%.3f,%.2f,%.1f,%zu,%zu\n", label, policy_file,
                   (double)n / cpu, 1e9 * cpu / (double)n, allocs, mean_len,
                   (double)ss->bytes / (double)(ss->outputs ? ss->outputs : 1), n, rejected);
        else
            printf("pipeline %-28s %9.0f msg/s per core  %6.0f ns/msg  %.2f allocs/msg  "
                   "in %.0f B -> out %.0f B  (%zu msgs, %zu rejected, %.1f s wall, policy %s)\n",
                   label, (double)n / cpu, 1e9 * cpu / (double)n, allocs, mean_len,
                   (double)ss->bytes / (double)(ss->outputs ? ss->outputs : 1), n, rejected, wall,
                   policy_file);
    }

    return n;
}

/* The sensor types, the policy and throw-away pseudonym keys. Returns 0, 1 on error,
 * or 2 when --check only asked whether the policy loads. */
static int bench_setup(const char *policy_file, const char *types_dir, bool check, char *keydir,
                       int64_t now, struct sensor_registry **regp, struct policy **polp,
                       struct pseudonym_keyring **keysp)
{
    char why[1024];
    struct sensor_registry *reg;
    if (sensor_registry_new(&reg) != FG_OK ||
        sensor_registry_load_dir(reg, FAIRGATE_SOURCE_DIR "/sensors/types", why, sizeof why) ||
        (types_dir && sensor_registry_load_dir(reg, types_dir, why, sizeof why))) {
        fprintf(stderr, "pipeline: sensor types: %s\n", why);
        return 1;
    }
    struct policy *pol;
    if (policy_load_file(policy_file, reg, "bench", &pol, why, sizeof why) != FG_OK) {
        fprintf(stderr, "pipeline: policy %s refused: %s\n", policy_file, why);
        return 1;
    }
    if (check) {
        printf("pipeline: policy %s accepted\n", policy_file);
        return 2;
    }
    if (!mkdtemp(keydir))
        return 1;
    struct pseudonym_keyring *keys;
    if (pseudonym_keyring_open(keydir, policy_rotate_ms(pol), policy_keep_keys_ms(pol), &keys, why,
                               sizeof why) != FG_OK ||
        pseudonym_keyring_tick(keys, now) != FG_OK) {
        fprintf(stderr, "pipeline: keys: %s\n", why);
        return 1;
    }
    *regp = reg;
    *polp = pol;
    *keysp = keys;
    return 0;
}

int main(int argc, char **argv)
{
    const char *policy_file = FAIRGATE_SOURCE_DIR "/examples/policy-demo.yaml";
    const char *types_dir = NULL;
    double seconds = 2.0;
    int workers = 1000;
    bool use_outbox = false, csv = false, check = false;
    long agg_workers = 0;
    static const struct option opts[] = {{"policy", required_argument, 0, 'p'},
                                         {"types", required_argument, 0, 't'},
                                         {"seconds", required_argument, 0, 's'},
                                         {"workers", required_argument, 0, 'w'},
                                         {"outbox", no_argument, 0, 'o'},
                                         {"agg-workers", required_argument, 0, 'a'},
                                         {"csv", no_argument, 0, 'c'},
                                         {"check", no_argument, 0, 'k'},
                                         {0, 0, 0, 0}};
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'p':
            policy_file = optarg;
            break;
        case 't':
            types_dir = optarg;
            break;
        case 's':
            seconds = atof(optarg);
            break;
        case 'w':
            workers = atoi(optarg);
            break;
        case 'o':
            use_outbox = true;
            break;
        case 'a':
            agg_workers = atol(optarg);
            break;
        case 'c':
            csv = true;
            break;
        case 'k':
            check = true;
            break;
        default:
            usage();
            return 2;
        }
    }
    if (seconds <= 0 || seconds > 60 || workers <= 0 || agg_workers < 0 || agg_workers > 10000000) {
        usage();
        return 2;
    }
    fg_log_setup(FG_LOG_WARN, false);

    char keydir[] = "/tmp/fairgate-bench-keys.XXXXXX";
    int64_t now = fg_now_ms();
    struct sensor_registry *reg;
    struct policy *pol;
    struct pseudonym_keyring *keys;
    int src = bench_setup(policy_file, types_dir, check, keydir, now, &reg, &pol, &keys);
    if (src)
        return src == 2 ? 0 : 1;
    char why[1024];
    bool bench_badge = sensor_registry_find(reg, "bench-badge") != NULL &&
                       policy_reads_type(pol, sensor_registry_find(reg, "bench-badge"));
    const size_t NIN = 4096;
    double mean_len = 0;
    struct input *in = make_inputs(NIN, workers, bench_badge, &mean_len);
    if (!in)
        return 1;
    struct outbox *ob = NULL;
    if (use_outbox) {
        struct outbox_options oo = {
            .max_messages = 100000, .max_bytes = 64 << 20, .slack_messages = 256};
        if (outbox_open(&oo, &ob, why, sizeof why) != FG_OK) {
            fprintf(stderr, "pipeline: outbox: %s\n", why);
            return 1;
        }
    }
    struct sinkstate ss = {.outbox = ob};
    static const struct pipeline_observer obs = {.emit = emit};
    struct pipeline_options po = {.sensors = reg, .keys = keys, .obs = &obs, .ctx = &ss};
    struct pipeline *pl;
    if (pipeline_new(&po, &pl) != FG_OK || pipeline_set_policy(pl, pol, now) != FG_OK) {
        fprintf(stderr, "pipeline: cannot set up the pipeline core\n");
        return 1;
    }
    size_t n =
        timed_run(pl, in, NIN, ob, &ss, now, seconds, use_outbox, csv, policy_file, mean_len);

    if (agg_workers > 0 && aggregation_run(pl, reg, ob, &ss, agg_workers, now, csv))
        return 1;

    if (ss.check == 0x5a && n == 1)
        printf(" "); /* keeps the check byte observable */
    outbox_close(ob);
    free(in);
    pipeline_free(pl); /* and the policy */
    pseudonym_keyring_close(keys);
    sensor_registry_free(reg);
    /* The keys were throw-away: remove them. */
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", keydir);
    if (system(cmd) != 0)
        fprintf(stderr, "pipeline: could not remove %s\n", keydir);
    return 0;
}
