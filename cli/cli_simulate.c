/* fairgate simulate: publishes realistic telemetry to the local broker. */
#include <getopt.h>
#include <sodium.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/fg_command.h"
#include "common/fg_json.h"
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

/* One mutual-TLS connection per sensor type, made on first use. */
static struct fg_pub *hub_for(struct hub *hubs, size_t *n, const char *topic, const char *host,
                              int port, int qos, const char *ca, const char *dir)
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
    snprintf(cert, sizeof cert, "%s/%s-hub.crt", dir, type);
    snprintf(key, sizeof key, "%s/%s-hub.key", dir, type);
    snprintf(id, sizeof id, "sim-%s-hub", type);
    struct fg_pub_options po = {.host = host,
                                .port = port,
                                .client_id = id,
                                .qos = qos,
                                .window = 16,
                                .ca = ca,
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

static void usage(FILE *out)
{
    fprintf(
        out,
        "usage: fairgate simulate [--site factory|depot] [--workers N] [--rate R] [--seed S]\n"
        "                         [--duration D | --count N] [--shift D] [--host H] [--port P]\n"
        "                         [--qos Q] [--record FILE] [--dry-run]\n"
        "                         [--ca CA_CRT [--cert-dir DIR]]\n\n"
        "Publishes realistic telemetry for every built-in sensor type of a site to the local\n"
        "broker: workers walking between zones over a shift with a canteen break.\n"
        "  factory: uwb-badge, wearable-vitals (one man-down per shift), machine-terminal\n"
        "           (operators log in), environment, access-gate\n"
        "  depot:   pick-scanner (teams), forklift (drivers, the odd impact), vehicle-gps,\n"
        "           dock-door, uwb-badge, environment\n"
        "Deterministic for a given seed: same options, same messages.\n\n"
        "  --rate R        messages per second (default 50); also the simulated clock's step\n"
        "  --duration D    stop after D of simulated time (e.g. 30s, 8h) = D x R messages;\n"
        "                  --count N stops after N messages (default: 10s)\n"
        "  --shift D       length of a shift (default 8h); each has a break and a man-down\n"
        "  --record FILE   also write every message as a JSON line {topic,payload}; binary\n"
        "                  payloads as {topic,payload_b64}\n"
        "  --dry-run       print the JSON lines instead of publishing (fixed start time)\n"
        "  --ca CA_CRT     connect with TLS, verifying the broker against CA_CRT\n"
        "  --cert-dir DIR  mutual TLS as hubs: one connection per sensor type T with client\n"
        "                  certificate DIR/T-hub.crt and key DIR/T-hub.key (an RTLS engine or\n"
        "                  LoRaWAN server publishing for its devices; see broker-config --hub)\n");
}

static int simulate_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"site", required_argument, 0, 's'},     {"workers", required_argument, 0, 'w'},
        {"rate", required_argument, 0, 'r'},     {"seed", required_argument, 0, 'S'},
        {"duration", required_argument, 0, 'd'}, {"count", required_argument, 0, 'n'},
        {"host", required_argument, 0, 'H'},     {"port", required_argument, 0, 'p'},
        {"qos", required_argument, 0, 'q'},      {"record", required_argument, 0, 'R'},
        {"dry-run", no_argument, 0, 'D'},        {"help", no_argument, 0, 'h'},
        {"shift", required_argument, 0, 'T'},    {"ca", required_argument, 0, 'A'},
        {"cert-dir", required_argument, 0, 'C'}, {0, 0, 0, 0}};
    struct sim_options so = {.site = "factory", .workers = 20, .seed = 1, .step_ms = 0};
    double rate = 50;
    int64_t duration_ms = 0;
    long long count = 0;
    const char *host = "127.0.0.1", *record = NULL;
    const char *ca = NULL, *cert_dir = NULL;
    int port = 1883, qos = 1;
    bool dry = false;
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (o) {
        case 's':
            so.site = optarg;
            break;
        case 'w':
            so.workers = atoi(optarg);
            break;
        case 'r':
            rate = atof(optarg);
            break;
        case 'S':
            so.seed = strtoull(optarg, NULL, 10);
            break;
        case 'd':
            if (!fg_parse_duration(optarg, &duration_ms)) {
                fprintf(stderr, "simulate: bad duration '%s'\n", optarg);
                return 2;
            }
            break;
        case 'n':
            count = atoll(optarg);
            break;
        case 'T':
            if (!fg_parse_duration(optarg, &so.shift_ms) || so.shift_ms < 1000) {
                fprintf(stderr, "simulate: bad shift length '%s'\n", optarg);
                return 2;
            }
            break;
        case 'A':
            ca = optarg;
            break;
        case 'C':
            cert_dir = optarg;
            break;
        case 'H':
            host = optarg;
            break;
        case 'p':
            port = atoi(optarg);
            break;
        case 'q':
            qos = atoi(optarg);
            break;
        case 'R':
            record = optarg;
            break;
        case 'D':
            dry = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!sim_site_types(so.site)) {
        fprintf(stderr, "simulate: unknown site '%s'; built in: factory, depot\n", so.site);
        return 2;
    }
    if (rate <= 0 || so.workers <= 0 || (qos != 0 && qos != 1)) {
        fprintf(stderr, "simulate: rate and workers must be positive, qos 0 or 1\n");
        return 2;
    }
    if (!count && !duration_ms)
        duration_ms = 10000;
    so.step_ms = (int64_t)(1000.0 / rate) > 0 ? (int64_t)(1000.0 / rate) : 1;
    /* Duration counts simulated time, so a dry run of 8h is a whole shift and
     * the number of messages does not depend on how fast the machine is. */
    if (!count)
        count = duration_ms / so.step_ms > 0 ? duration_ms / so.step_ms : 1;
    /* Simulated clock: a fixed shift start for a given seed, so output is reproducible. */
    so.start_ms = fg_now_ms();
    if (dry)
        so.start_ms = 1795766400000LL; /* a fixed morning, 2026-11-27T08:00Z */
    struct sim *sim;
    if (sim_new(&so, &sim) != FG_OK)
        return 1;
    FILE *rec = NULL;
    if (record && !(rec = fopen(record, "w"))) {
        perror(record);
        sim_free(sim);
        return 1;
    }
    struct fg_pub *pub = NULL;
    struct hub hubs[MAX_HUBS];
    size_t nhubs = 0;
    if (!dry && !cert_dir) {
        struct fg_pub_options po = {.host = host,
                                    .port = port,
                                    .client_id = "fairgate-simulator",
                                    .qos = qos,
                                    .window = 16,
                                    .ca = ca};
        char why[256];
        if (fg_pub_connect(&po, &pub, why, sizeof why) != FG_OK) {
            fprintf(stderr, "simulate: %s\n", why);
            sim_free(sim);
            if (rec)
                fclose(rec);
            return 1;
        }
    }
    signal(SIGINT, on_sig);
    signal(SIGTERM, on_sig);
    int64_t t0 = fg_monotonic_ms();
    long long sent = 0;
    int rc = 0;
    while (!stop && sent < count) {
        static struct sim_msg m;
        sim_next_msg(sim, &m);
        if (!m.len)
            break;
        if (rec || dry) {
            char line[4096];
            struct fg_jw w;
            fg_jw_init(&w, line, sizeof line);
            fg_jw_obj_open(&w);
            fg_jw_key(&w, "topic");
            fg_jw_cstr(&w, m.topic);
            if (m.binary) {
                char b64[SIM_PAYLOAD_MAX * 4 / 3 + 8];
                sodium_bin2base64(b64, sizeof b64, m.payload, m.len,
                                  sodium_base64_VARIANT_ORIGINAL);
                fg_jw_key(&w, "payload_b64");
                fg_jw_cstr(&w, b64);
            } else {
                fg_jw_key(&w, "payload");
                fg_jw_str(&w, (const char *)m.payload, m.len);
            }
            fg_jw_obj_close(&w);
            if (fg_jw_finish(&w))
                fprintf(dry ? stdout : rec, "%s\n", line);
        }
        struct fg_pub *to = pub;
        if (!dry && cert_dir &&
            !(to = hub_for(hubs, &nhubs, m.topic, host, port, qos, ca, cert_dir))) {
            rc = 1;
            break;
        }
        if (to && fg_pub_send(to, m.topic, m.payload, m.len, NULL, NULL) != FG_OK) {
            fprintf(stderr, "simulate: publish failed after %lld messages\n", sent);
            rc = 1;
            break;
        }
        sent++;
        if (!dry) {
            /* pace to the rate */
            int64_t due = t0 + (int64_t)((double)sent * 1000.0 / rate);
            int64_t now = fg_monotonic_ms();
            if (due > now) {
                struct timespec ts = {(due - now) / 1000, ((due - now) % 1000) * 1000000L};
                nanosleep(&ts, NULL);
            }
        }
    }
    if (pub) {
        hubs[nhubs].pub = pub;
        hubs[nhubs++].type[0] = '\0';
    }
    size_t acked = 0;
    for (size_t i = 0; i < nhubs; i++) {
        if (fg_pub_flush(hubs[i].pub, 10000) != FG_OK) {
            fprintf(stderr, "simulate: not every message was acknowledged\n");
            rc = 1;
        }
        acked += fg_pub_acked(hubs[i].pub);
        fg_pub_close(hubs[i].pub);
    }
    if (!dry)
        fprintf(stderr, "simulate: published %lld messages, %zu acknowledged\n", sent, acked);
    if (rec)
        fclose(rec);
    sim_free(sim);
    return rc;
}

const struct fg_command fg_cmd_simulate = {
    .name = "simulate",
    .summary = "publish realistic factory or depot telemetry to the local broker",
    .main = simulate_main,
};
