/* `broker-config`: a mosquitto 2.0 configuration for the site's local broker. Mutual TLS
 * is the only way in: the client certificate's CN becomes the MQTT username and the ACL
 * written next to the configuration is the complete list of what each identity may do. */
#include "certs/certs_internal.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/fg_log.h"
#include "common/fg_util.h"

#define DEFAULT_GATEWAY "fairgate-gateway"
#define DEFAULT_BIND "127.0.0.1"
#define DEFAULT_PORT 8883

struct names {
    char (*v)[65];
    char (*t)[65]; /* the sensor type of each */
    size_t n, cap;
};

static bool names_has(const struct names *ns, const char *name)
{
    for (size_t i = 0; i < ns->n; i++)
        if (strcmp(ns->v[i], name) == 0)
            return true;
    return false;
}

static fg_err names_add(struct names *ns, const char *name, const char *type)
{
    if (ns->n == ns->cap) {
        size_t cap = ns->cap ? ns->cap * 2 : 32;
        char(*v)[65] = realloc(ns->v, cap * sizeof *v);
        if (v)
            ns->v = v;
        char(*t)[65] = v ? realloc(ns->t, cap * sizeof *t) : NULL;
        if (!t)
            return FG_ERR_NOMEM;
        ns->t = t;
        ns->cap = cap;
    }
    snprintf(ns->v[ns->n], sizeof ns->v[0], "%s", name);
    snprintf(ns->t[ns->n++], sizeof ns->t[0], "%s", type);
    return FG_OK;
}

static bool is_crt(const struct dirent *d)
{
    size_t n = strlen(d->d_name);
    return n > 4 && strcmp(d->d_name + n - 4, ".crt") == 0;
}

static int filter_crt(const struct dirent *d)
{
    return is_crt(d);
}

/* Collects the CN of every sensor certificate in dir that the site CA issued. */
static fg_err scan_sensors(const struct certs_broker_req *req, const char *ca_file,
                           const char *gateway, struct names *sensors, char *why, size_t why_len)
{
    struct dirent **list;
    int n = scandir(req->sensors_dir, &list, filter_crt, alphasort);
    if (n < 0) {
        snprintf(why, why_len, "Cannot read the sensors directory %s: %s.", req->sensors_dir,
                 strerror(errno));
        return errno == ENOENT ? FG_ERR_NOT_FOUND : FG_ERR_IO;
    }
    fg_err e = FG_OK;
    for (int i = 0; i < n; i++) {
        char path[PATH_MAX], msg[400];
        struct certs_info info;
        if (e != FG_OK ||
            snprintf(path, sizeof path, "%s/%s", req->sensors_dir, list[i]->d_name) >=
                (int)sizeof path ||
            certs_inspect(path, &info, msg, sizeof msg) != FG_OK || info.kind != CERTS_KIND_SENSOR)
            goto next;
        if (!certs_name_ok(info.cn)) {
            fg_warn(CERTS_COMPONENT, "skipping %s: its CN is not a valid device id", path);
            goto next;
        }
        struct certs_verify_req v = {.ca_file = ca_file,
                                     .cert_file = path,
                                     .usage = CERTS_USAGE_CLIENT,
                                     .now_ms = req->now_ms};
        struct certs_report rep;
        if (certs_verify(&v, &rep) != FG_OK) {
            bool only_expiry = true;
            for (size_t k = 0; k < rep.n; k++)
                only_expiry = only_expiry && rep.problem[k].err == FG_ERR_EXPIRED;
            fg_warn(CERTS_COMPONENT, "%s%s", rep.problem[0].text,
                    only_expiry ? " It is listed anyway; the broker rejects it until renewed."
                                : " It is skipped.");
            if (!only_expiry)
                goto next;
        }
        enum certs_kind issued = certs_issued_kind(req->ca_dir, info.cn);
        if (strcmp(info.cn, gateway) == 0 ||
            !strncmp(info.cn, CERTS_RESERVED_PREFIX, strlen(CERTS_RESERVED_PREFIX)) ||
            (issued != CERTS_KIND_UNKNOWN && issued != CERTS_KIND_SENSOR)) {
            snprintf(why, why_len,
                     "The sensor certificate %s uses the name %s, which belongs to %s; the "
                     "broker knows clients by name only. Revoke it (delete it from %s).",
                     path, info.cn,
                     strcmp(info.cn, gateway) == 0 ? "the gateway"
                     : issued != CERTS_KIND_UNKNOWN && issued != CERTS_KIND_SENSOR
                         ? certs_kind_name(issued)
                         : "the gateways (reserved prefix " CERTS_RESERVED_PREFIX ")",
                     req->sensors_dir);
            e = FG_ERR_CONFIG;
            goto next;
        }
        for (size_t c = 0; c < req->n_consumers; c++) {
            if (strcmp(info.cn, req->consumers[c]) == 0) {
                snprintf(why, why_len, "The sensor certificate %s uses the consumer name %s.", path,
                         info.cn);
                e = FG_ERR_CONFIG;
                goto next;
            }
        }
        bool hub = false; /* hubs get their own, type-wide ACL entry */
        for (size_t h = 0; h < req->n_hubs; h++) {
            const char *eq = strchr(req->hubs[h], '=');
            hub = hub || (eq && strlen(info.cn) == (size_t)(eq - req->hubs[h]) &&
                          !strncmp(info.cn, req->hubs[h], (size_t)(eq - req->hubs[h])));
        }
        if (!hub && !info.sensor_type[0]) {
            fg_warn(CERTS_COMPONENT,
                    "%s names no sensor type and is not a --hub: it gets no access (reissue it "
                    "with --sensor-type TYPE, or declare it with --hub %s=TYPE)",
                    path, info.cn);
            goto next;
        }
        if (!hub && !names_has(sensors, info.cn))
            e = names_add(sensors, info.cn, info.sensor_type);
    next:
        free(list[i]);
    }
    free(list);
    return e;
}

/* Issues ca_dir/broker.{crt,key} if absent; otherwise checks the existing pair. */
static fg_err ensure_broker_cert(const struct certs_broker_req *req, const char *ca_dir,
                                 const char *bind, char *why, size_t why_len)
{
    char crt[PATH_MAX + 16], ca_file[PATH_MAX + 16];
    snprintf(crt, sizeof crt, "%s/broker.crt", ca_dir);
    snprintf(ca_file, sizeof ca_file, "%s/ca.crt", ca_dir);
    struct stat st;
    if (stat(crt, &st) != 0) {
        struct certs_issue_req ir = {
            .ca_dir = ca_dir,
            .kind = CERTS_KIND_BROKER,
            .name = "broker",
            .dns = {"localhost"},
            .n_dns = 1,
            .ip = {"127.0.0.1"},
            .n_ip = 1,
            .overwrite = true, /* a key without its certificate is of no use */
        };
        unsigned char addr[16];
        if (strcmp(bind, "127.0.0.1") != 0 && strcmp(bind, "0.0.0.0") != 0 &&
            strcmp(bind, "::") != 0 &&
            (inet_pton(AF_INET, bind, addr) == 1 || inet_pton(AF_INET6, bind, addr) == 1))
            ir.ip[ir.n_ip++] = bind;
        fg_err e = certs_issue(&ir, why, why_len);
        if (e == FG_OK)
            fg_info(CERTS_COMPONENT, "issued the broker certificate %s", crt);
        return e;
    }
    /* The key is not checked: in production it belongs to the mosquitto user, and
     * mosquitto itself reports a mismatch at start. */
    struct certs_verify_req v = {
        .ca_file = ca_file, .cert_file = crt, .usage = CERTS_USAGE_SERVER, .now_ms = req->now_ms};
    struct certs_report rep;
    fg_err e = certs_verify(&v, &rep);
    if (e != FG_OK)
        snprintf(why, why_len, "%s", rep.problem[0].text);
    return e;
}

static void acl_path_for(const char *conf, char *out, size_t len)
{
    size_t n = strlen(conf);
    if (n > 5 && strcmp(conf + n - 5, ".conf") == 0)
        snprintf(out, len, "%.*s.acl", (int)(n - 5), conf);
    else
        snprintf(out, len, "%s.acl", conf);
}

/* A growing text buffer; the configuration is small, so any failure is out of memory. */
struct text {
    char *p;
    size_t n, cap;
    bool failed;
};

__attribute__((format(printf, 2, 3))) static void put(struct text *t, const char *fmt, ...)
{
    va_list ap;
    for (int attempt = 0; attempt < 2 && !t->failed; attempt++) {
        va_start(ap, fmt);
        int w = vsnprintf(t->p ? t->p + t->n : NULL, t->p ? t->cap - t->n : 0, fmt, ap);
        va_end(ap);
        if (w < 0) {
            t->failed = true;
            return;
        }
        if (t->p && t->n + (size_t)w < t->cap) {
            t->n += (size_t)w;
            return;
        }
        size_t cap = (t->cap + (size_t)w + 1) * 2;
        char *np = realloc(t->p, cap);
        if (!np) {
            t->failed = true;
            return;
        }
        t->p = np;
        t->cap = cap;
    }
}

static bool conf_safe(const char *s)
{
    return s && !strpbrk(s, "\n\r\t #");
}

/* The ACL: the whole of anyone's access. */
static void acl_text(struct text *t, const struct certs_broker_req *req, const char *gateway,
                     const struct names *sensors)
{
    put(t, "# Generated by `fairgate broker-config`; regenerate it rather than editing it.\n"
           "# Usernames are certificate CNs (use_identity_as_username). This file is the whole\n"
           "# of anyone's access: an identity or topic not listed here is denied.\n\n");
    put(t,
        "# The gateway reads every sensor and publishes the policy-filtered site data.\n"
        "user %s\ntopic read raw/#\ntopic write site/#\ntopic write fairgate/#\n",
        gateway);
    for (size_t i = 0; i < req->n_hubs; i++) {
        const char *eq = strchr(req->hubs[i], '='); /* checked on entry */
        if (i == 0)
            put(t, "\n# Hubs publish for the devices of one sensor type, nothing else.\n");
        put(t, "user %.*s\ntopic write raw/%s/+\n", (int)(eq - req->hubs[i]), req->hubs[i], eq + 1);
    }
    if (sensors->n)
        put(t, "\n# Sensors: each may only publish raw/<its sensor type>/<its device id>,\n"
               "# the type from its certificate (title=sensor-type:TYPE).\n");
    for (size_t i = 0; i < sensors->n; i++)
        put(t, "user %s\ntopic write raw/%s/%s\n", sensors->v[i], sensors->t[i], sensors->v[i]);
    if (req->n_consumers)
        put(t, "\n# Consumers read the filtered site data only, never raw sensor data.\n");
    for (size_t i = 0; i < req->n_consumers; i++)
        put(t, "user %s\ntopic read site/#\n", req->consumers[i]);
}

/* The gateway, consumer and hub names: each a valid certificate name, none another
 * kind's (the CA's register, the reserved prefix), none listed twice. */
static fg_err check_names(const struct certs_broker_req *req, const char *gateway, char *why,
                          size_t why_len)
{
    if (!certs_name_ok(gateway)) {
        snprintf(why, why_len,
                 "The gateway name '%s' must be 1 to 64 letters, digits, '.', '_' "
                 "or '-'.",
                 gateway);
        return FG_ERR_CONFIG;
    }
    enum certs_kind gw_kind = certs_issued_kind(req->ca_dir, gateway);
    if (gw_kind != CERTS_KIND_UNKNOWN && gw_kind != CERTS_KIND_GATEWAY) {
        snprintf(why, why_len,
                 "The gateway name %s was issued for a %s certificate, not a gateway's: that "
                 "certificate would read raw/#.",
                 gateway, certs_kind_name(gw_kind));
        return FG_ERR_CONFIG;
    }
    for (size_t i = 0; i < req->n_consumers; i++) {
        if (!certs_name_ok(req->consumers[i])) {
            snprintf(why, why_len,
                     "The consumer name '%s' must be 1 to 64 letters, digits, '.', "
                     "'_' or '-'.",
                     req->consumers[i]);
            return FG_ERR_CONFIG;
        }
        enum certs_kind ck = certs_issued_kind(req->ca_dir, req->consumers[i]);
        if (strcmp(req->consumers[i], gateway) == 0 ||
            !strncmp(req->consumers[i], CERTS_RESERVED_PREFIX, strlen(CERTS_RESERVED_PREFIX)) ||
            ck == CERTS_KIND_SENSOR) {
            snprintf(why, why_len,
                     "The consumer %s has the gateway's name, a reserved name or a sensor's.",
                     req->consumers[i]);
            return FG_ERR_CONFIG;
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(req->consumers[i], req->consumers[j]) == 0) {
                snprintf(why, why_len, "The consumer %s is listed twice.", req->consumers[i]);
                return FG_ERR_CONFIG;
            }
        }
    }
    /* Each line of the ACL is "user NAME" or "topic ... raw/TYPE/+": a hub name is a
     * certificate CN, and neither part may break out of its line or widen its topic. */
    for (size_t i = 0; i < req->n_hubs; i++) {
        const char *eq = strchr(req->hubs[i], '=');
        size_t nlen = eq ? (size_t)(eq - req->hubs[i]) : 0;
        char name[65] = "";
        if (nlen < sizeof name)
            snprintf(name, sizeof name, "%.*s", (int)nlen, req->hubs[i]);
        if (!eq || !certs_name_ok(name) || !certs_name_ok(eq + 1)) {
            snprintf(why, why_len, "A hub is NAME=SENSOR_TYPE, not '%s'.", req->hubs[i]);
            return FG_ERR_CONFIG;
        }
        /* A hub is a sensor: never the gateway, a consumer or any other kind's name. */
        enum certs_kind issued = certs_issued_kind(req->ca_dir, name);
        bool consumer = false;
        for (size_t c = 0; c < req->n_consumers; c++)
            consumer = consumer || !strcmp(req->consumers[c], name);
        if (!strcmp(name, gateway) || consumer ||
            !strncmp(name, CERTS_RESERVED_PREFIX, strlen(CERTS_RESERVED_PREFIX)) ||
            (issued != CERTS_KIND_UNKNOWN && issued != CERTS_KIND_SENSOR)) {
            snprintf(why, why_len,
                     "The hub %s is not a sensor's name (it is the gateway's, a consumer's, "
                     "reserved for gateways, or issued for another kind).",
                     name);
            return FG_ERR_CONFIG;
        }
        for (size_t j = 0; j < i; j++)
            if (!strncmp(req->hubs[j], req->hubs[i], nlen + 1)) {
                snprintf(why, why_len, "The hub %s is listed twice.", name);
                return FG_ERR_CONFIG;
            }
    }
    return FG_OK;
}

/* Where everything goes: the CA's files, the configuration and its ACL, all
 * resolved to absolute paths that are safe to write into mosquitto's syntax. */
struct bc_paths {
    char ca_dir[PATH_MAX], ca_file[PATH_MAX + 16], conf[PATH_MAX], acl[PATH_MAX + 8];
};
static fg_err resolve_paths(const struct certs_broker_req *req, struct bc_paths *pp, char *why,
                            size_t why_len)
{
    char out_dir[PATH_MAX], tmp[PATH_MAX];
    if (!realpath(req->ca_dir, pp->ca_dir)) {
        snprintf(why, why_len, "The CA directory %s does not exist.", req->ca_dir);
        return FG_ERR_NOT_FOUND;
    }
    snprintf(tmp, sizeof tmp, "%s", req->out_path);
    if (fg_mkdirs(dirname(tmp), 0755) != FG_OK) {
        snprintf(why, why_len, "Cannot create the directory for %s: %s.", req->out_path,
                 strerror(errno));
        return FG_ERR_IO;
    }
    snprintf(tmp, sizeof tmp, "%s", req->out_path);
    if (!realpath(dirname(tmp), out_dir)) {
        snprintf(why, why_len, "Cannot resolve the directory of %s.", req->out_path);
        return FG_ERR_IO;
    }
    snprintf(tmp, sizeof tmp, "%s", req->out_path);
    if (snprintf(pp->conf, sizeof pp->conf, "%s/%s", out_dir, basename(tmp)) >=
            (int)sizeof pp->conf ||
        snprintf(pp->ca_file, sizeof pp->ca_file, "%s/ca.crt", pp->ca_dir) >=
            (int)sizeof pp->ca_file) {
        snprintf(why, why_len, "A path is too long.");
        return FG_ERR_TOO_BIG;
    }
    acl_path_for(pp->conf, pp->acl, sizeof pp->acl);
    if (!conf_safe(pp->conf) || !conf_safe(pp->ca_dir)) {
        snprintf(why, why_len,
                 "Paths written into the mosquitto configuration may not contain spaces, tabs, "
                 "'#' or line breaks.");
        return FG_ERR_CONFIG;
    }
    return FG_OK;
}

fg_err certs_broker_config(const struct certs_broker_req *req, size_t *n_sensors, char *why,
                           size_t why_len)
{
    const char *gateway = req->gateway_name ? req->gateway_name : DEFAULT_GATEWAY;
    const char *bind = req->bind ? req->bind : DEFAULT_BIND;
    int port = req->port ? req->port : DEFAULT_PORT;
    *n_sensors = 0;
    fg_err e = check_names(req, gateway, why, why_len);
    if (e != FG_OK)
        return e;
    if (port < 1 || port > 65535) {
        snprintf(why, why_len, "The port must be between 1 and 65535, not %d.", port);
        return FG_ERR_RANGE;
    }
    if (!conf_safe(bind) || !*bind) {
        snprintf(why, why_len, "The bind address '%s' is not usable.", bind);
        return FG_ERR_CONFIG;
    }

    struct bc_paths paths;
    e = resolve_paths(req, &paths, why, why_len);
    if (e != FG_OK)
        return e;
    const char *ca_dir = paths.ca_dir, *ca_file = paths.ca_file, *conf = paths.conf,
               *acl = paths.acl;
    mbedtls_x509_crt ca;
    mbedtls_x509_crt_init(&ca);
    e = certs_load_crt(ca_file, "CA certificate", &ca, why, why_len);
    mbedtls_x509_crt_free(&ca);
    if (e != FG_OK)
        return e;
    e = ensure_broker_cert(req, ca_dir, bind, why, why_len);
    if (e != FG_OK)
        return e;

    struct names sensors = {0};
    struct text a = {0}, c = {0};
    char *plugin_lines = NULL;
    e = certs_broker_plugin_lines(req, &plugin_lines, why, why_len);
    if (e == FG_OK)
        e = scan_sensors(req, ca_file, gateway, &sensors, why, why_len);
    if (e != FG_OK)
        goto out;

    acl_text(&a, req, gateway, &sensors);
    put(&c,
        "# Generated by `fairgate broker-config`; regenerate it rather than editing it.\n"
        "# Mutual TLS only: every client shows a certificate of the site CA, whose CN\n"
        "# becomes its username; the ACL file limits each to its own topics.\n"
        "# There is deliberately no plain listener: it would allow access without a certificate.\n"
        "\n"
        "# One listener, so the security settings below are global.\n"
        "per_listener_settings false\n"
        "allow_anonymous false\n"
        "acl_file %s\n"
        "\n"
        "# While the gateway pauses inputs (outbox full, disk full, restart) the broker\n"
        "# keeps them in its session. mosquitto's default of 1000 queued messages would\n"
        "# drop QoS 1 inputs past it; allow a long pause instead (tune to your memory).\n"
        "max_queued_messages 1000000\n"
        "max_inflight_messages 64\n"
        "\n"
        "listener %d %s\n"
        "protocol mqtt\n"
        "cafile %s/ca.crt\n"
        "certfile %s/broker.crt\n"
        "keyfile %s/broker.key\n"
        "require_certificate true\n"
        "use_identity_as_username true\n"
        "# The client id is the CN too: no client can take another's id, session or queue\n"
        "# (a sensor connecting as the gateway's client id would kick the gateway off).\n"
        "use_username_as_clientid true\n",
        acl, port, bind, ca_dir, ca_dir, ca_dir);
    if (plugin_lines)
        put(&c, "%s", plugin_lines);
    if (a.failed || c.failed) {
        snprintf(why, why_len, "Out of memory while writing the configuration.");
        e = FG_ERR_NOMEM;
        goto out;
    }
    /* World-readable: mosquitto loads the ACL after dropping root for its own user. It
     * names device ids but no secret; the keys stay 0600. */
    if (fg_write_file_atomic(acl, a.p, a.n, 0644) != FG_OK) {
        snprintf(why, why_len, "Cannot write %s: %s.", acl, strerror(errno));
        e = FG_ERR_IO;
        goto out;
    }
    if (fg_write_file_atomic(conf, c.p, c.n, 0644) != FG_OK) {
        snprintf(why, why_len, "Cannot write %s: %s.", conf, strerror(errno));
        e = FG_ERR_IO;
        goto out;
    }
    *n_sensors = sensors.n;
out:
    free(plugin_lines);
    free(sensors.v);
    free(sensors.t);
    free(a.p);
    free(c.p);
    return e;
}
