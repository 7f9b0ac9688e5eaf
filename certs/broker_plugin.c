/* `broker-config --plugin/--bridge-upstream`: the lines that make the local
 * mosquitto run fairgate inside itself and carry only minimised topics
 * upstream over TLS, after the same pre-flight checks the daemon makes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "certs/certs.h"
#include "common/fg_util.h"

static bool line_safe(const char *s)
{
    return s && *s && !strpbrk(s, "\n\r\t #");
}

/* A bridge topic may never match a raw topic: its first level must be a
 * plain word other than the raw prefix ('+' and '#' only further down, '#'
 * only as the last level). */
static bool topic_minimised_only(const char *t)
{
    size_t n = strcspn(t, "/");
    if (n == 0 || !*t || strpbrk(t, "\n\r\t ") || strcspn(t, "+#") < n)
        return false;
    if (n == 3 && !strncmp(t, "raw", 3))
        return false;
    const char *h = strchr(t, '#');
    return !h || (h[1] == '\0' && h > t && h[-1] == '/');
}

static fg_err check_file(const char *what, const char *path, char *why, size_t why_len)
{
    struct stat st;
    if (!line_safe(path) || path[0] != '/') {
        snprintf(why, why_len,
                 "The %s path '%s' must be absolute, without spaces, '#' or line breaks.", what,
                 path ? path : "");
        return FG_ERR_CONFIG;
    }
    if (stat(path, &st) != 0) {
        snprintf(why, why_len, "The %s %s does not exist.", what, path);
        return FG_ERR_NOT_FOUND;
    }
    return FG_OK;
}

fg_err certs_broker_plugin_lines(const struct certs_broker_req *req, char **out, char *why,
                                 size_t why_len)
{
    *out = NULL;
    if (!req->plugin_path && !req->bridge_upstream)
        return FG_OK;
    if (!req->plugin_path || !req->bridge_upstream) {
        /* A bridge without the plugin would carry nothing minimised; the plugin
         * without a bridge is allowed only if asked for by the caller (none yet). */
        snprintf(why, why_len, "--plugin and --bridge-upstream go together.");
        return FG_ERR_CONFIG;
    }
    const char *cfg = req->plugin_config ? req->plugin_config : "/etc/fairgate/fairgate.yaml";
    fg_err e = check_file("plugin", req->plugin_path, why, why_len);
    if (!e)
        e = check_file("fairgate configuration", cfg, why, why_len);
    if (!e)
        e = check_file("bridge CA", req->bridge_ca, why, why_len);
    if (!e && req->bridge_cert)
        e = check_file("bridge certificate", req->bridge_cert, why, why_len);
    if (!e && req->bridge_key)
        e = check_file("bridge key", req->bridge_key, why, why_len);
    if (e)
        return e;
    if (!req->bridge_cert != !req->bridge_key) {
        snprintf(why, why_len, "--bridge-cert and --bridge-key go together.");
        return FG_ERR_CONFIG;
    }
    const char *colon = strrchr(req->bridge_upstream, ':');
    char *end = NULL;
    long port = colon ? strtol(colon + 1, &end, 10) : 0;
    if (!line_safe(req->bridge_upstream) || !colon || colon == req->bridge_upstream || !end ||
        *end || port < 1 || port > 65535) {
        snprintf(why, why_len, "The upstream is HOST:PORT, not '%s'.", req->bridge_upstream);
        return FG_ERR_CONFIG;
    }
    /* The same pre-flight as the daemon's upstream link: CA usable, client
     * certificate valid, signed by it, key matching and not readable by others. */
    struct certs_preflight_req pf = {.ca_file = req->bridge_ca,
                                     .cert_file = req->bridge_cert,
                                     .key_file = req->bridge_key,
                                     .now_ms = req->now_ms};
    char pwhy[400];
    if ((e = certs_preflight(&pf, pwhy, sizeof pwhy)) != FG_OK) {
        snprintf(why, why_len, "Bridge TLS pre-flight failed: %s", pwhy);
        return e;
    }
    const char *topics[CERTS_MAX_CONSUMERS] = {"site/#"};
    size_t nt = req->n_bridge_topics ? req->n_bridge_topics : 1;
    for (size_t i = 0; i < req->n_bridge_topics; i++)
        topics[i] = req->bridge_topics[i];
    for (size_t i = 0; i < nt; i++)
        if (!topic_minimised_only(topics[i])) {
            snprintf(why, why_len,
                     "The bridge topic '%s' could carry raw telemetry: it must start with a "
                     "plain level other than 'raw' (e.g. site/#).",
                     topics[i]);
            return FG_ERR_DENIED;
        }
    size_t cap = 4096 + 600 * nt, n = 0;
    char *t = malloc(cap);
    if (!t) {
        snprintf(why, why_len, "Out of memory while writing the configuration.");
        return FG_ERR_NOMEM;
    }
    n += (size_t)snprintf(
        t + n, cap - n,
        "\n# fairgate inside mosquitto: inputs on the raw topics are replaced at arrival by\n"
        "# their minimised form, or refused; the broker never routes, queues or persists them\n"
        "# raw. Same configuration file, policy, keys and audit log as `fairgate run`.\n"
        "plugin %s\nplugin_opt_config %s\n"
        "\n# Upstream: mosquitto's own bridge, TLS with peer and hostname checks, carrying the\n"
        "# minimised topics only (never raw/#). See docs/operations.md for what it promises\n"
        "# on a crash or an upstream outage.\n"
        "connection fairgate-upstream\naddress %s\nbridge_protocol_version mqttv50\n"
        "bridge_cafile %s\nbridge_insecure false\n"
        "cleansession false\nlocal_cleansession false\n"
        "restart_timeout 2 30\n",
        req->plugin_path, cfg, req->bridge_upstream, req->bridge_ca);
    if (req->bridge_cert)
        n += (size_t)snprintf(t + n, cap - n, "bridge_certfile %s\nbridge_keyfile %s\n",
                              req->bridge_cert, req->bridge_key);
    for (size_t i = 0; i < nt; i++)
        n += (size_t)snprintf(t + n, cap - n, "topic %s out 1\n", topics[i]);
    *out = t;
    return FG_OK;
}
