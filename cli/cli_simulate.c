/* fairgate simulate: publishes realistic telemetry to the local broker. */
#include <limits.h>
#include <sodium.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/fg_command.h"
#include "common/fg_json.h"
#include "common/fg_opt.h"
#include "common/fg_mqtt_pub.h"
#include "common/fg_util.h"
#include "sensors/simulator.h"

static volatile sig_atomic_t stop;
static void on_sig(int s)
{
    (void)s;
    stop = 1;
}

#define MAX_HUBS 16

struct hub {
    char type[64];
    struct fg_pub *pub;
};

struct sim_cli {
    struct sim_options so;
    double rate;
    int64_t duration_ms, shift_ms;
    long long count;
    const char *host, *record, *ca, *cert_dir, *site;
    int port, qos, workers;
    long long seed;
    bool dry;
};

static const struct fg_opt sim_table[] = {
    FG_OPT_CHOICE(struct sim_cli, site, "site", 0, "factory|depot",
                  "which site's sensor types (default factory)"),
    FG_OPT_INT(struct sim_cli, workers, "workers", 0, "N", "workers on the floor (default 20)", 1,
               100000),
    FG_OPT_DOUBLE(struct sim_cli, rate, "rate", 0, "R",
                  "messages per second (default 50); also the simulated clock's step"),
    FG_OPT_LONG(struct sim_cli, seed, "seed", 0, "S", "random seed (default 1)", 0, LLONG_MAX),
    FG_OPT_DURATION(struct sim_cli, duration_ms, "duration", 0, "D",
                    "stop after D of simulated time (e.g. 30s, 8h) = D x R messages\n"
                    "(default: 10s)"),
    FG_OPT_LONG(struct sim_cli, count, "count", 0, "N", "stop after N messages", 1, LLONG_MAX),
    FG_OPT_DURATION(struct sim_cli, shift_ms, "shift", 0, "D",
                    "length of a shift (default 8h); each has a break and a man-down"),
    FG_OPT_STR(struct sim_cli, host, "host", 0, "H", "broker host (default 127.0.0.1)"),
    FG_OPT_INT(struct sim_cli, port, "port", 0, "P", "broker port (default 1883)", 1, 65535),
    FG_OPT_INT(struct sim_cli, qos, "qos", 0, "Q", "MQTT QoS, 0 or 1 (default 1)", 0, 1),
    FG_OPT_STR(struct sim_cli, record, "record", 0, "FILE",
               "also write every message as a JSON line {topic,payload}; binary\n"
               "payloads as {topic,payload_b64}"),
    FG_OPT_FLAG(struct sim_cli, dry, "dry-run", 0,
                "print the JSON lines instead of publishing (fixed start time)"),
    FG_OPT_STR(struct sim_cli, ca, "ca", 0, "CA_CRT",
               "connect with TLS, verifying the broker against CA_CRT"),
    FG_OPT_STR(struct sim_cli, cert_dir, "cert-dir", 0, "DIR",
               "mutual TLS as hubs: one connection per sensor type T with client\n"
               "certificate DIR/T-hub.crt and key DIR/T-hub.key (an RTLS engine or\n"
               "LoRaWAN server publishing for its devices; see broker-config --hub)"),
};
static const struct fg_opt_cmd sim_cmd = {
    "fairgate simulate",
    "[--site factory|depot] [--workers N] [--rate R] [--seed S]\n"
    "[--duration D | --count N] [--shift D] [--host H] [--port P]\n"
    "[--qos Q] [--record FILE] [--dry-run] [--ca CA_CRT [--cert-dir DIR]]",
    "Publishes realistic telemetry for every built-in sensor type of a site to the local\n"
    "broker: workers walking between zones over a shift with a canteen break.\n"
    "  factory: uwb-badge, wearable-vitals (one man-down per shift), machine-terminal\n"
    "           (operators log in), environment, access-gate\n"
    "  depot:   pick-scanner (teams), forklift (drivers, the odd impact), vehicle-gps,\n"
    "           dock-door, uwb-badge, environment\n"
    "Deterministic for a given seed: same options, same messages.",
    sim_table,
    FG_OPT_N(sim_table),
    0,
    0};

/* The options into a simulator setup; returns FG_OPT_OK or an exit code. */
static int sim_parse(int argc, char **argv, struct sim_cli *c)
{
    *c = (struct sim_cli){.rate = 50,
                          .host = "127.0.0.1",
                          .port = 1883,
                          .qos = 1,
                          .site = "factory",
                          .workers = 20,
                          .seed = 1};
    int rc = fg_opt_parse(&sim_cmd, argc, argv, c, NULL, NULL);
    if (rc != FG_OPT_OK)
        return rc;
    if (c->shift_ms && c->shift_ms < 1000)
        return fg_opt_error(&sim_cmd, "--shift must be at least 1s");
    c->so = (struct sim_options){
        .site = c->site, .workers = c->workers, .seed = (uint64_t)c->seed, .shift_ms = c->shift_ms};
    if (!c->count && !c->duration_ms)
        c->duration_ms = 10000;
    c->so.step_ms = (int64_t)(1000.0 / c->rate) > 0 ? (int64_t)(1000.0 / c->rate) : 1;
    /* Duration counts simulated time, so a dry run of 8h is a whole shift and
     * the number of messages does not depend on how fast the machine is. */
    if (!c->count)
        c->count = c->duration_ms / c->so.step_ms > 0 ? c->duration_ms / c->so.step_ms : 1;
    /* Simulated clock: a fixed shift start for a given seed, so output is reproducible. */
    c->so.start_ms = c->dry ? 1795766400000LL /* 2026-11-27T08:00Z */ : fg_now_ms();
    return FG_OPT_OK;
}

/* One mutual-TLS connection per sensor type, made on first use. */
static struct fg_pub *hub_for(struct hub *hubs, size_t *n, const char *topic,
                              const struct sim_cli *c)
{
    const char *t = strchr(topic, '/');
    const char *e = t ? strchr(t + 1, '/') : NULL;
    if (!t || !e || (size_t)(e - t - 1) >= sizeof hubs[0].type)
        return NULL;
    char type[64];
    snprintf(type, sizeof type, "%.*s", (int)(e - t - 1), t + 1);
    for (size_t i = 0; i < *n; i++)
        if (!strcmp(hubs[i].type, type))
            return hubs[i].pub;
    if (*n == MAX_HUBS - 1)
        return NULL;
    char cert[4200], key[4200], id[128], why[512];
    snprintf(cert, sizeof cert, "%s/%s-hub.crt", c->cert_dir, type);
    snprintf(key, sizeof key, "%s/%s-hub.key", c->cert_dir, type);
    snprintf(id, sizeof id, "sim-%s-hub", type);
    struct fg_pub_options po = {.host = c->host,
                                .port = c->port,
                                .client_id = id,
                                .qos = c->qos,
                                .window = 16,
                                .ca = c->ca,
                                .cert = cert,
                                .key = key};
    struct fg_pub *p;
    if (fg_pub_connect(&po, &p, why, sizeof why) != FG_OK) {
        fprintf(stderr, "simulate: hub for %s: %s\n", type, why);
        return NULL;
    }
    snprintf(hubs[*n].type, sizeof hubs[0].type, "%s", type);
    hubs[(*n)++].pub = p;
    return p;
}

/* A message as a JSON line {topic, payload} or {topic, payload_b64}. */
static void print_msg(FILE *f, const struct sim_msg *m)
{
    char line[4096];
    struct fg_jw w;
    fg_jw_init(&w, line, sizeof line);
    fg_jw_obj_open(&w);
    fg_jw_key(&w, "topic");
    fg_jw_cstr(&w, m->topic);
    if (m->binary) {
        char b64[SIM_PAYLOAD_MAX * 4 / 3 + 8];
        sodium_bin2base64(b64, sizeof b64, m->payload, m->len, sodium_base64_VARIANT_ORIGINAL);
        fg_jw_key(&w, "payload_b64");
        fg_jw_cstr(&w, b64);
    } else {
        fg_jw_key(&w, "payload");
        fg_jw_str(&w, (const char *)m->payload, m->len);
    }
    fg_jw_obj_close(&w);
    if (fg_jw_finish(&w))
        fprintf(f, "%s\n", line);
}

struct sim_run {
    const struct sim_cli *c;
    struct sim *sim;
    FILE *rec;
    struct hub hubs[MAX_HUBS];
    size_t nhubs;
    long long sent;
};

/* Publishes (or prints) count messages at the rate; returns the exit code. */
static int sim_loop(struct sim_run *r)
{
    const struct sim_cli *c = r->c;
    int64_t t0 = fg_monotonic_ms();
    while (!stop && r->sent < c->count) {
        static struct sim_msg m;
        sim_next_msg(r->sim, &m);
        if (!m.len)
            break;
        if (r->rec || c->dry)
            print_msg(c->dry ? stdout : r->rec, &m);
        if (!c->dry) {
            struct fg_pub *to = c->cert_dir ? hub_for(r->hubs, &r->nhubs, m.topic, c)
                                            : (r->nhubs ? r->hubs[0].pub : NULL);
            if (!to)
                return 1;
            if (fg_pub_send(to, m.topic, m.payload, m.len, NULL, NULL) != FG_OK) {
                fprintf(stderr, "simulate: publish failed after %lld messages\n", r->sent);
                return 1;
            }
        }
        r->sent++;
        if (!c->dry)
            fg_pub_pace(t0, r->sent, c->rate);
    }
    return 0;
}

/* Waits for every acknowledgement and closes the connections. */
static int sim_finish(struct sim_run *r, int rc)
{
    size_t acked = 0;
    for (size_t i = 0; i < r->nhubs; i++) {
        if (fg_pub_flush(r->hubs[i].pub, 10000) != FG_OK) {
            fprintf(stderr, "simulate: not every message was acknowledged\n");
            rc = 1;
        }
        acked += fg_pub_acked(r->hubs[i].pub);
        fg_pub_close(r->hubs[i].pub);
    }
    if (!r->c->dry)
        fprintf(stderr, "simulate: published %lld messages, %zu acknowledged\n", r->sent, acked);
    if (r->rec)
        fclose(r->rec);
    sim_free(r->sim);
    return rc;
}

static int simulate_main(int argc, char **argv)
{
    struct sim_cli c;
    int rc = sim_parse(argc, argv, &c);
    if (rc != FG_OPT_OK)
        return fg_opt_exit(rc);
    struct sim_run r = {.c = &c};
    if (sim_new(&c.so, &r.sim) != FG_OK)
        return 1;
    if (c.record && !(r.rec = fopen(c.record, "w"))) {
        perror(c.record);
        return sim_finish(&r, 1);
    }
    if (!c.dry && !c.cert_dir) {
        /* one plain connection, kept in hubs[0] with no type */
        struct fg_pub_options po = {.host = c.host,
                                    .port = c.port,
                                    .client_id = "fairgate-simulator",
                                    .qos = c.qos,
                                    .window = 16,
                                    .ca = c.ca};
        char why[256];
        if (fg_pub_connect(&po, &r.hubs[0].pub, why, sizeof why) != FG_OK) {
            fprintf(stderr, "simulate: %s\n", why);
            return sim_finish(&r, 1);
        }
        r.hubs[0].type[0] = '\0';
        r.nhubs = 1;
    }
    signal(SIGINT, on_sig);
    signal(SIGTERM, on_sig);
    return sim_finish(&r, sim_loop(&r));
}

const struct fg_command fg_cmd_simulate = {
    .name = "simulate",
    .summary = "publish realistic factory or depot telemetry to the local broker",
    .main = simulate_main,
};
