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
    "                              [--hub NAME=SENSOR_TYPE]... OUT\n"
    "  Writes OUT, a mosquitto 2.0 configuration for the local broker, and its ACL file\n"
    "  next to it (OUT with .acl instead of .conf). One TLS listener (port 8883 on 127.0.0.1\n"
    "  unless --port/--bind) that requires a client certificate of the site CA and uses its\n"
    "  CN as the username; no anonymous access and no plain listener.\n"
    "  The broker certificate is DIR/broker.crt, issued (DNS:localhost, IP:127.0.0.1) if\n"
    "  absent. ACL: each sensor certificate (OU=sensor) in --sensors may only write\n"
    "  raw/<its sensor type>/<its CN>; the gateway (CN fairgate-gateway unless --gateway-name) "
    "reads raw/#\n"
    "  and writes site/# and fairgate/#; each --consumer reads site/# only; each --hub\n"
    "  (an RTLS engine or LoRaWAN server publishing for many devices of one type) may\n"
    "  write raw/SENSOR_TYPE/+ only. The client id is the CN (use_username_as_clientid).\n";

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
    return 0;
}

const struct fg_command fg_cmd_broker_config = {
    .name = "broker-config",
    .summary = "write a mutual-TLS mosquitto configuration and ACL for the local broker",
    .main = broker_config_main,
};
