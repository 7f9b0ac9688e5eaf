/* `fairgate broker-config`: thin command-line face of certs_broker_config(). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certs/certs.h"
#include "common/fg_command.h"
#include "common/fg_opt.h"
#include "common/fg_util.h"

struct bc_opts {
    const char *sensor_certs, *ca, *bind, *gateway_name, *listener_plain;
    const char *plugin, *plugin_config, *bridge_upstream, *bridge_ca, *bridge_cert, *bridge_key;
    int port;
    struct fg_opt_list consumers, hubs, bridge_topics;
};
static const struct fg_opt bc_table[] = {
    FG_OPT_STR(struct bc_opts, sensor_certs, "sensor-certs", 0, "DIR",
               "the sensor certificates (OU=sensor) the ACL lets write"),
    FG_OPT_STR(struct bc_opts, ca, "ca", 0, "DIR", "the site CA directory"),
    FG_OPT_INT(struct bc_opts, port, "port", 0, "N", "TLS listener port (default 8883)", 1, 65535),
    FG_OPT_STR(struct bc_opts, bind, "bind", 0, "ADDR", "listener address (default 127.0.0.1)"),
    FG_OPT_STR(struct bc_opts, gateway_name, "gateway-name", 0, "NAME",
               "the gateway's certificate CN (default fairgate-gateway)"),
    FG_OPT_LIST(struct bc_opts, consumers, "consumer", 0, "NAME",
                "a consumer that may read site/# (repeatable)"),
    FG_OPT_LIST(struct bc_opts, hubs, "hub", 0, "NAME=SENSOR_TYPE",
                "a hub that may write raw/SENSOR_TYPE/+ (repeatable)"),
    FG_OPT_STR(struct bc_opts, listener_plain, "listener-plain", 0, "PORT", NULL), /* refused */
    FG_OPT_STR(struct bc_opts, plugin, "plugin", 0, "SO",
               "load fairgate_mosquitto.so into this broker (fairgate inside mosquitto)"),
    FG_OPT_STR(struct bc_opts, plugin_config, "plugin-config", 0, "FILE",
               "the plugin's configuration (default /etc/fairgate/fairgate.yaml)"),
    FG_OPT_STR(struct bc_opts, bridge_upstream, "bridge-upstream", 0, "HOST:PORT",
               "bridge the minimised topics to HOST:PORT over TLS (MQTT v5)"),
    FG_OPT_STR(struct bc_opts, bridge_ca, "bridge-ca", 0, "FILE",
               "CA that must sign the upstream's certificate (required with a bridge)"),
    FG_OPT_STR(struct bc_opts, bridge_cert, "bridge-cert", 0, "FILE",
               "client certificate for the upstream"),
    FG_OPT_STR(struct bc_opts, bridge_key, "bridge-key", 0, "FILE", "its key"),
    FG_OPT_LIST(struct bc_opts, bridge_topics, "bridge-topic", 0, "T",
                "topic pattern to carry (default site/#; repeatable); one that could match "
                "raw/... is refused"),
};
static const struct fg_opt_cmd bc_cmd = {
    "fairgate broker-config",
    "--sensor-certs DIR --ca DIR [--port N] [--bind ADDR]\n"
    "[--gateway-name NAME] [--consumer NAME]...\n"
    "[--hub NAME=SENSOR_TYPE]...\n"
    "[--plugin SO --bridge-upstream HOST:PORT --bridge-ca CA\n"
    " [--plugin-config FILE] [--bridge-cert CRT --bridge-key KEY]\n"
    " [--bridge-topic T]...] OUT",
    "Writes OUT, a mosquitto 2.0 configuration for the local broker, and its ACL file\n"
    "next to it (OUT with .acl instead of .conf). One TLS listener (port 8883 on 127.0.0.1\n"
    "unless --port/--bind) that requires a client certificate of the site CA and uses its\n"
    "CN as the username; no anonymous access and no plain listener.\n"
    "The broker certificate is DIR/broker.crt, issued (DNS:localhost, IP:127.0.0.1) if\n"
    "absent. ACL: each sensor certificate (OU=sensor) in --sensor-certs may only write\n"
    "raw/<its sensor type>/<its CN>; the gateway (CN fairgate-gateway unless\n"
    "--gateway-name) reads raw/# and writes site/# and fairgate/#; each --consumer reads\n"
    "site/# only; each --hub (an RTLS engine or LoRaWAN server publishing for many devices\n"
    "of one type) may write raw/SENSOR_TYPE/+ only. The client id is the CN\n"
    "(use_username_as_clientid).\n"
    "fairgate inside mosquitto (docs/operations.md, \"Running fairgate inside mosquitto\"):\n"
    "--plugin loads the plugin, the bridge carries the minimised topics upstream; the\n"
    "bridge material goes through the daemon's TLS pre-flight first.",
    bc_table,
    FG_OPT_N(bc_table),
    1,
    1};

_Static_assert(FG_OPT_LIST_MAX <= CERTS_MAX_CONSUMERS, "every --consumer and --hub fits");

static int broker_config_main(int argc, char **argv)
{
    struct bc_opts o = {0};
    char **args;
    int prc = fg_opt_parse(&bc_cmd, argc, argv, &o, &args, NULL);
    if (prc != FG_OPT_OK)
        return fg_opt_exit(prc);
    if (o.listener_plain) {
        fprintf(stderr, "fairgate broker-config: --listener-plain is refused: a listener "
                        "without TLS client certificates would let anyone read and write "
                        "sensor data.\n");
        return 2;
    }
    if (!o.sensor_certs || !o.ca)
        return fg_opt_error(&bc_cmd, "--sensor-certs and --ca are required");
    struct certs_broker_req req = {.now_ms = fg_now_ms(),
                                   .sensors_dir = o.sensor_certs,
                                   .ca_dir = o.ca,
                                   .port = o.port,
                                   .bind = o.bind,
                                   .gateway_name = o.gateway_name,
                                   .out_path = args[0],
                                   .plugin_path = o.plugin,
                                   .plugin_config = o.plugin_config,
                                   .bridge_upstream = o.bridge_upstream,
                                   .bridge_ca = o.bridge_ca,
                                   .bridge_cert = o.bridge_cert,
                                   .bridge_key = o.bridge_key};
    for (size_t i = 0; i < o.consumers.n; i++)
        req.consumers[req.n_consumers++] = o.consumers.v[i];
    for (size_t i = 0; i < o.hubs.n; i++)
        req.hubs[req.n_hubs++] = o.hubs.v[i];
    for (size_t i = 0; i < o.bridge_topics.n; i++)
        req.bridge_topics[req.n_bridge_topics++] = o.bridge_topics.v[i];
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
