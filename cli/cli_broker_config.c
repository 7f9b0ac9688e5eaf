/* `fairgate broker-config`: thin command-line face of certs_broker_config(). */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certs/certs.h"
#include "common/fg_command.h"
#include "common/fg_util.h"

static const char usage[] =
    "usage: fairgate broker-config --sensors DIR --ca DIR [--port N] [--bind ADDR]\n"
    "                              [--gateway-name NAME] [--consumer NAME]...\n"
    "                              [--hub NAME=SENSOR_TYPE]...\n"
    "                              [--plugin SO --bridge-upstream HOST:PORT --bridge-ca CA\n"
    "                               [--plugin-config FILE] [--bridge-cert CRT --bridge-key KEY]\n"
    "                               [--bridge-topic T]...] OUT\n"
    "  Writes OUT, a mosquitto 2.0 configuration for the local broker, and its ACL file\n"
    "  next to it (OUT with .acl instead of .conf). One TLS listener (port 8883 on 127.0.0.1\n"
    "  unless --port/--bind) that requires a client certificate of the site CA and uses its\n"
    "  CN as the username; no anonymous access and no plain listener.\n"
    "  The broker certificate is DIR/broker.crt, issued (DNS:localhost, IP:127.0.0.1) if\n"
    "  absent. ACL: each sensor certificate (OU=sensor) in --sensors may only write\n"
    "  raw/+/<its CN>; the gateway (CN fairgate-gateway unless --gateway-name) reads raw/#\n"
    "  and writes site/# and fairgate/#; each --consumer reads site/# only; each --hub\n"
    "  (an RTLS engine or LoRaWAN server publishing for many devices of one type) may\n"
    "  write raw/SENSOR_TYPE/+ only.\n"
    "\n"
    "  fairgate inside mosquitto (docs/operations.md, \"Running fairgate inside mosquitto\"):\n"
    "  --plugin SO             load fairgate_mosquitto.so into this broker\n"
    "  --plugin-config FILE    its configuration (default /etc/fairgate/fairgate.yaml)\n"
    "  --bridge-upstream H:P   bridge the minimised topics to H:P over TLS (MQTT v5)\n"
    "  --bridge-ca FILE        CA that must sign the upstream's certificate (required)\n"
    "  --bridge-cert FILE --bridge-key FILE   client certificate for the upstream\n"
    "  --bridge-topic T        topic pattern to carry (default site/#; repeatable); one\n"
    "                          that could match raw/... is refused\n"
    "  The bridge material goes through the daemon's TLS pre-flight first.\n";

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "fairgate broker-config: ");
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n\n%s", usage);
    return 2;
}

static int broker_config_main(int argc, char **argv)
{
    static const struct option opts[] = {{"sensors", required_argument, 0, 's'},
                                         {"ca", required_argument, 0, 'c'},
                                         {"port", required_argument, 0, 'p'},
                                         {"bind", required_argument, 0, 'b'},
                                         {"gateway-name", required_argument, 0, 'g'},
                                         {"consumer", required_argument, 0, 'C'},
                                         {"hub", required_argument, 0, 'H'},
                                         {"listener-plain", required_argument, 0, 'P'},
                                         {"plugin", required_argument, 0, 1000},
                                         {"plugin-config", required_argument, 0, 1001},
                                         {"bridge-upstream", required_argument, 0, 1002},
                                         {"bridge-ca", required_argument, 0, 1003},
                                         {"bridge-cert", required_argument, 0, 1004},
                                         {"bridge-key", required_argument, 0, 1005},
                                         {"bridge-topic", required_argument, 0, 1006},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    struct certs_broker_req req = {.now_ms = fg_now_ms()};
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            req.sensors_dir = optarg;
            break;
        case 'c':
            req.ca_dir = optarg;
            break;
        case 'p': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (end == optarg || *end || v < 1 || v > 65535)
                return usage_error("--port wants 1..65535, not '%s'", optarg);
            req.port = (int)v;
            break;
        }
        case 'b':
            req.bind = optarg;
            break;
        case 'g':
            req.gateway_name = optarg;
            break;
        case 'C':
            if (req.n_consumers == CERTS_MAX_CONSUMERS)
                return usage_error("too many --consumer (at most %d)", CERTS_MAX_CONSUMERS);
            req.consumers[req.n_consumers++] = optarg;
            break;
        case 'H':
            if (req.n_hubs == CERTS_MAX_CONSUMERS)
                return usage_error("too many --hub (at most %d)", CERTS_MAX_CONSUMERS);
            req.hubs[req.n_hubs++] = optarg;
            break;
        case 'P':
            fprintf(stderr, "fairgate broker-config: --listener-plain is refused: a listener "
                            "without TLS client certificates would let anyone read and write "
                            "sensor data.\n");
            return 2;
        case 1000:
            req.plugin_path = optarg;
            break;
        case 1001:
            req.plugin_config = optarg;
            break;
        case 1002:
            req.bridge_upstream = optarg;
            break;
        case 1003:
            req.bridge_ca = optarg;
            break;
        case 1004:
            req.bridge_cert = optarg;
            break;
        case 1005:
            req.bridge_key = optarg;
            break;
        case 1006:
            if (req.n_bridge_topics == CERTS_MAX_CONSUMERS)
                return usage_error("too many --bridge-topic (at most %d)", CERTS_MAX_CONSUMERS);
            req.bridge_topics[req.n_bridge_topics++] = optarg;
            break;
        case 'h':
            fputs(usage, stdout);
            return 0;
        default:
            return usage_error("%s", "invalid option");
        }
    }
    if (!req.sensors_dir || !req.ca_dir)
        return usage_error("%s", "--sensors and --ca are required");
    if (optind != argc - 1)
        return usage_error("%s", "exactly one OUT file is required");
    req.out_path = argv[optind];
    size_t n = 0;
    char why[512];
    if (certs_broker_config(&req, &n, why, sizeof why) != FG_OK) {
        fprintf(stderr, "fairgate broker-config: %s\n", why);
        return 1;
    }
    printf("wrote %s and its ACL: %zu sensor%s, gateway %s, %zu consumer%s\n", req.out_path, n,
           n == 1 ? "" : "s", req.gateway_name ? req.gateway_name : "fairgate-gateway",
           req.n_consumers, req.n_consumers == 1 ? "" : "s");
    if (req.plugin_path)
        printf("fairgate runs inside this broker (%s); the bridge to %s carries minimised "
               "topics only\n",
               req.plugin_path, req.bridge_upstream);
    return 0;
}

const struct fg_command fg_cmd_broker_config = {
    .name = "broker-config",
    .summary = "write a mutual-TLS mosquitto configuration and ACL for the local broker",
    .main = broker_config_main,
};
