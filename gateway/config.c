#include "gateway/config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "common/fg_util.h"
#include "common/fg_yaml.h"

typedef enum { CT_STRING, CT_INT, CT_BOOL, CT_DURATION, CT_SIZE, CT_STRLIST } config_type;

struct config_key {
    const char *name;
    config_type type;
    size_t offset;
    const char *def; /* as it would be written in the file; NULL = unset */
    int64_t min, max;
    const char *description;
};

#define OFF(field) offsetof(struct fg_config, field)

static const struct config_key keys[] = {
    {"site", CT_STRING, OFF(site), "site", 0, 0,
     "Name of this site; fills {site} in destination topics."},
    {"state_dir", CT_STRING, OFF(state_dir), "/var/lib/fairgate", 0, 0,
     "Directory for keys (0700), the outbox and the audit log."},
    {"local.host", CT_STRING, OFF(local.host), "127.0.0.1", 0, 0,
     "Local broker the sensors publish to."},
    {"local.port", CT_INT, OFF(local.port), "1883", 1, 65535, "Port of the local broker."},
    {"local.client_id", CT_STRING, OFF(local.client_id), "fairgate", 0, 0,
     "MQTT client id on the local broker; the persistent session is kept under it."},
    {"local.username", CT_STRING, OFF(local.username), NULL, 0, 0,
     "Username on the local broker (optional)."},
    {"local.keepalive", CT_DURATION, OFF(local.keepalive_s), "30s", 1000, 3600000,
     "MQTT keep-alive towards the local broker."},
    {"local.tls.enabled", CT_BOOL, OFF(local.tls.enabled), "false", 0, 0,
     "Use TLS to the local broker."},
    {"local.tls.ca", CT_STRING, OFF(local.tls.ca), NULL, 0, 0,
     "CA certificate that signs the local broker's certificate."},
    {"local.tls.cert", CT_STRING, OFF(local.tls.cert), NULL, 0, 0,
     "Client certificate for the local broker (mutual TLS)."},
    {"local.tls.key", CT_STRING, OFF(local.tls.key), NULL, 0, 0,
     "Key of the local client certificate (mode 0600)."},
    {"local.tls.insecure_no_hostname_check", CT_BOOL, OFF(local.tls.insecure_no_hostname_check),
     "false", 0, 0, "Skip the hostname check of the local broker (logged as a warning)."},
    {"local.subscribe", CT_STRING, OFF(local_subscribe), "raw/#", 0, 0,
     "Topic filter for raw sensor topics; inputs matching no sensor type are counted and "
     "dropped."},
    {"local.receive_maximum", CT_INT, OFF(local_receive_maximum), "64", 1, 65535,
     "Most unacknowledged inputs the local broker may send at once (MQTT v5 Receive Maximum)."},
    {"local.session_expiry", CT_DURATION, OFF(local_session_expiry_ms), "7d", 0,
     4294967295LL * 1000,
     "How long the local broker keeps our session (and queues inputs) while "
     "we are away."},
    {"upstream.host", CT_STRING, OFF(upstream.host), "localhost", 0, 0,
     "Upstream broker that receives minimised messages; must match its certificate."},
    {"upstream.port", CT_INT, OFF(upstream.port), "8883", 1, 65535, "Port of the upstream broker."},
    {"upstream.client_id", CT_STRING, OFF(upstream.client_id), "fairgate-upstream", 0, 0,
     "MQTT client id on the upstream broker."},
    {"upstream.username", CT_STRING, OFF(upstream.username), NULL, 0, 0,
     "Username on the upstream broker (optional)."},
    {"upstream.keepalive", CT_DURATION, OFF(upstream.keepalive_s), "30s", 1000, 3600000,
     "MQTT keep-alive towards the upstream broker."},
    {"upstream.tls.enabled", CT_BOOL, OFF(upstream.tls.enabled), "true", 0, 0,
     "Use TLS upstream. Turning it off sends minimised data in clear text."},
    {"upstream.tls.ca", CT_STRING, OFF(upstream.tls.ca), NULL, 0, 0,
     "CA certificate that must sign the upstream broker's certificate."},
    {"upstream.tls.cert", CT_STRING, OFF(upstream.tls.cert), NULL, 0, 0,
     "Client certificate for the upstream broker (optional)."},
    {"upstream.tls.key", CT_STRING, OFF(upstream.tls.key), NULL, 0, 0,
     "Key of the upstream client certificate (mode 0600)."},
    {"upstream.tls.insecure_no_hostname_check", CT_BOOL,
     OFF(upstream.tls.insecure_no_hostname_check), "false", 0, 0,
     "Skip the hostname check of the upstream broker (logged as a warning at every start)."},
    {"upstream.max_inflight", CT_INT, OFF(upstream_max_inflight), "20", 1, 65535,
     "Most unacknowledged publishes upstream; never more than the broker's Receive Maximum."},
    {"upstream.qos", CT_INT, OFF(upstream_qos), "1", 0, 1,
     "QoS of upstream publishes (1: at least once)."},
    {"sensors.builtin", CT_BOOL, OFF(sensors_builtin), "true", 0, 0,
     "Load the sensor types shipped with fairgate."},
    {"sensors.dirs", CT_STRLIST, OFF(sensor_dirs), NULL, 0, 0,
     "Further directories of sensor type descriptors (*.yaml)."},
    {"sensors.decoders", CT_STRING, OFF(sensor_decoders), NULL, 0, 0,
     "Directory of sensor decoders built outside fairgate (*.so, see docs/integrators.md); "
     "refused when it or a decoder is writable by anyone but root or fairgate's user."},
    {"policy.file", CT_STRING, OFF(policy_file), NULL, 0, 0,
     "The policy file. Without a policy nothing is forwarded."},
    {"policy.signatures", CT_STRING, OFF(policy_signatures), NULL, 0, 0,
     "Detached signatures of the policy (default: the policy file name + .sig)."},
    {"policy.required_roles", CT_STRING, OFF(policy_required_roles), "employer,works-council", 0, 0,
     "Roles that must all have signed the policy's exact bytes before it takes effect. Empty: "
     "no signatures needed (lab use only; warned and audited at every start)."},
    {"policy.watch", CT_BOOL, OFF(policy_watch), "true", 0, 0,
     "Reload the policy when its file or signatures change (SIGHUP always reloads)."},
    {"trust.employer", CT_STRING, OFF(trust_employer), NULL, 0, 0,
     "Public key file of the employer (from `fairgate keys init --role employer`)."},
    {"trust.works_council", CT_STRING, OFF(trust_works_council), NULL, 0, 0,
     "Public key file of the works council; also seals the re-identification tables."},
    {"limits.max_payload", CT_SIZE, OFF(max_payload), "4096", 16, 1 << 20,
     "Inputs larger than this are rejected unread."},
    {"outbox.max_messages", CT_INT, OFF(queue_max_messages), "100000", 16, 100000000,
     "Most minimised messages held for upstream; at the bound inputs stop being taken (the local "
     "broker keeps them)."},
    {"outbox.max_bytes", CT_SIZE, OFF(queue_max_bytes), "64MiB", 4096, 1LL << 40,
     "Most bytes of minimised messages held for upstream."},
    {"outbox.dir", CT_STRING, OFF(outbox_dir), NULL, 0, 0,
     "Directory of the durable outbox (default: STATE_DIR/outbox). Only minimised messages are "
     "written there."},
    {"outbox.sync", CT_STRING, OFF(outbox_sync), "interval", 0, 0,
     "When the outbox is forced to disk: always (fsync before an input is acknowledged; no loss "
     "on power cut, slowest), interval (every outbox.sync_interval: a power cut loses at most "
     "that window; a crash loses nothing), never (the OS decides)."},
    {"outbox.sync_interval", CT_DURATION, OFF(outbox_sync_interval_ms), "100ms", 1, 60000,
     "Power-loss window with outbox.sync: interval."},
    {"audit.log", CT_STRING, OFF(audit_log), NULL, 0, 0,
     "The audit log (default: STATE_DIR/audit.log). Its signing keys live in STATE_DIR/audit."},
    {"audit.checkpoint_events", CT_INT, OFF(audit_checkpoint_events), "1000", 1, 10000000,
     "A signed checkpoint after this many events."},
    {"audit.checkpoint_interval", CT_DURATION, OFF(audit_checkpoint_ms), "5m", 1000, 86400000,
     "A signed checkpoint at least this often (when something was written)."},
    {"audit.fsync", CT_STRING, OFF(audit_fsync), "interval", 0, 0,
     "always (fsync each event), interval (every audit.fsync_interval) or never."},
    {"audit.fsync_interval", CT_DURATION, OFF(audit_fsync_interval_ms), "1s", 10, 600000,
     "How much of the audit log a power cut may lose with audit.fsync: interval."},
    {"audit.flow_interval", CT_DURATION, OFF(audit_flow_interval_ms), "1m", 1000, 86400000,
     "Per route, one flow summary (count, categories, digest) per interval."},
    {"audit.rotate", CT_DURATION, OFF(audit_rotate_ms), "24h", 60000, 31 * 86400000LL,
     "The audit signing key changes this often (forward security)."},
    {"report.dir", CT_STRING, OFF(report_dir), NULL, 0, 0,
     "Directory the works council reads: the gateway writes the verified audit report there "
     "(audit-report-en/nl/de.html, verification.txt) every report.every and on SIGUSR1. "
     "Unset: no report."},
    {"report.every", CT_DURATION, OFF(report_every_ms), "24h", 60000, 31 * 86400000LL,
     "How often the report in report.dir is rewritten."},
    {"log.level", CT_STRING, OFF(log_level), "info", 0, 0, "error, warn, info or debug."},
    {"log.syslog", CT_BOOL, OFF(log_syslog), "false", 0, 0,
     "Log to syslog instead of stderr (journald reads stderr)."},
    {"stats.interval", CT_DURATION, OFF(stats_interval_ms), "10s", 1000, 86400000,
     "How often counters (and rejected inputs by reason) are logged."},
    {"metrics.port", CT_INT, OFF(metrics_port), "0", 0, 65535,
     "Port of the Prometheus endpoint (GET /metrics, GET /status); 0 = off."},
    {"metrics.bind", CT_STRING, OFF(metrics_bind), "127.0.0.1", 0, 0,
     "Address of the metrics endpoint, an IP literal. Keep it on loopback: scrape through a "
     "local agent or an SSH/TLS tunnel."},
    {"status.topic", CT_STRING, OFF(status_topic), "fairgate/status", 0, 0,
     "Retained JSON status on the local broker, refreshed every stats.interval; the broker "
     "replaces it with {\"state\":\"offline\"} when the gateway goes away. Empty: off."},
    {"shutdown.drain_timeout", CT_DURATION, OFF(drain_timeout_ms), "5s", 0, 600000,
     "On SIGTERM, how long to keep sending queued messages before stopping."},
};

#define NKEYS (sizeof keys / sizeof keys[0])

static const char *type_name(config_type t)
{
    static const char *const n[] = {"string", "integer", "boolean", "duration", "size", "list"};
    return n[t];
}

static bool parse_size(const char *s, int64_t *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || v < 0)
        return false;
    int64_t m = 1;
    if (!*end || !strcmp(end, "B"))
        m = 1;
    else if (!strcmp(end, "KiB") || !strcmp(end, "K") || !strcmp(end, "k"))
        m = 1024;
    else if (!strcmp(end, "MiB") || !strcmp(end, "M"))
        m = 1024 * 1024;
    else if (!strcmp(end, "GiB") || !strcmp(end, "G"))
        m = 1024LL * 1024 * 1024;
    else
        return false;
    *out = (int64_t)(v * (double)m);
    return true;
}

static fg_err set_value(struct fg_config *cfg, const struct config_key *k, const char *v, char *err,
                        size_t err_len)
{
    void *slot = (char *)cfg + k->offset;
    int64_t n;
    bool b;
    switch (k->type) {
    case CT_STRING: {
        char *copy = strdup(v);
        if (!copy)
            return FG_ERR_NOMEM;
        free(*(char **)slot);
        *(char **)slot = copy;
        return FG_OK;
    }
    case CT_BOOL:
        if (!fg_yaml_to_bool(v, &b)) {
            snprintf(err, err_len, "'%s' must be true or false", k->name);
            return FG_ERR_CONFIG;
        }
        *(bool *)slot = b;
        return FG_OK;
    case CT_INT:
        if (!fg_yaml_to_int(v, &n)) {
            snprintf(err, err_len, "'%s' must be a whole number", k->name);
            return FG_ERR_CONFIG;
        }
        break;
    case CT_DURATION:
        if (!fg_parse_duration(v, &n)) {
            snprintf(err, err_len, "'%s' must be a duration such as 500ms, 30s, 15m, 24h, 7d",
                     k->name);
            return FG_ERR_CONFIG;
        }
        break;
    case CT_SIZE:
        if (!parse_size(v, &n)) {
            snprintf(err, err_len, "'%s' must be a size such as 4096, 64KiB or 64MiB", k->name);
            return FG_ERR_CONFIG;
        }
        break;
    default:
        return FG_ERR_CONFIG;
    }
    if (k->max > k->min && (n < k->min || n > k->max)) {
        snprintf(err, err_len, "'%s' must be between %lld and %lld", k->name, (long long)k->min,
                 (long long)k->max);
        return FG_ERR_CONFIG;
    }
    if (k->type == CT_DURATION && !strcmp(k->name + strlen(k->name) - 9, "keepalive"))
        n /= 1000; /* keep-alives are held in seconds */
    *(int64_t *)slot = n;
    return FG_OK;
}

void config_init_defaults(struct fg_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    char err[256];
    for (size_t i = 0; i < NKEYS; i++)
        if (keys[i].def && set_value(cfg, &keys[i], keys[i].def, err, sizeof err) != FG_OK)
            abort(); /* a bad default is a programming error */
}

void config_free(struct fg_config *cfg)
{
    for (size_t i = 0; i < NKEYS; i++) {
        void *slot = (char *)cfg + keys[i].offset;
        if (keys[i].type == CT_STRING)
            free(*(char **)slot);
    }
    for (size_t i = 0; i < cfg->nsensor_dirs; i++)
        free(cfg->sensor_dirs[i]);
    free(cfg->file);
    memset(cfg, 0, sizeof *cfg);
}

static const struct config_key *find_key(const char *name)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (!strcmp(keys[i].name, name))
            return &keys[i];
    return NULL;
}

static bool is_prefix(const char *name)
{
    size_t l = strlen(name);
    for (size_t i = 0; i < NKEYS; i++)
        if (!strncmp(keys[i].name, name, l) && keys[i].name[l] == '.')
            return true;
    return false;
}

static fg_err walk(struct fg_yaml *y, yaml_node_t *map, const char *prefix, struct fg_config *cfg,
                   char *why, size_t why_len)
{
    FG_YAML_MAP_FOREACH(y, map, pair)
    {
        yaml_node_t *kn = fg_yaml_node(y, pair->key), *vn = fg_yaml_node(y, pair->value);
        const char *k = fg_yaml_scalar(kn);
        char where[512], full[256];
        fg_yaml_where(y, kn, where, sizeof where);
        if (!k) {
            snprintf(why, why_len, "%s: keys must be text", where);
            return FG_ERR_CONFIG;
        }
        snprintf(full, sizeof full, "%s%s%s", prefix, *prefix ? "." : "", k);
        const struct config_key *ck = find_key(full);
        if (!ck && is_prefix(full) && vn->type == YAML_MAPPING_NODE) {
            fg_err e = walk(y, vn, full, cfg, why, why_len);
            if (e)
                return e;
            continue;
        }
        if (!ck) {
            const char *names[NKEYS];
            for (size_t i = 0; i < NKEYS; i++)
                names[i] = keys[i].name;
            const char *s = fg_suggest(full, names, NKEYS);
            snprintf(why, why_len, "%s: unknown key '%s'%s%s%s", where, full,
                     s ? " (did you mean '" : "", s ? s : "", s ? "'?)" : "");
            return FG_ERR_CONFIG;
        }
        fg_yaml_where(y, vn, where, sizeof where);
        if (ck->type == CT_STRLIST) {
            if (vn->type != YAML_SEQUENCE_NODE) {
                snprintf(why, why_len, "%s: '%s' must be a list", where, full);
                return FG_ERR_CONFIG;
            }
            FG_YAML_SEQ_FOREACH(y, vn, it)
            {
                const char *s = fg_yaml_scalar(fg_yaml_node(y, *it));
                if (!s || cfg->nsensor_dirs == CONFIG_MAX_DIRS) {
                    snprintf(why, why_len, "%s: '%s' must be a list of up to %d paths", where, full,
                             CONFIG_MAX_DIRS);
                    return FG_ERR_CONFIG;
                }
                cfg->sensor_dirs[cfg->nsensor_dirs++] = strdup(s);
            }
            continue;
        }
        const char *v = fg_yaml_scalar(vn);
        if (!v) {
            snprintf(why, why_len, "%s: '%s' must be a single value", where, full);
            return FG_ERR_CONFIG;
        }
        char err[256];
        fg_err e = set_value(cfg, ck, v, err, sizeof err);
        if (e) {
            snprintf(why, why_len, "%s: %s", where, err);
            return e;
        }
    }
    return FG_OK;
}

fg_err config_load(const char *path, struct fg_config *cfg, char *why, size_t why_len)
{
    config_init_defaults(cfg);
    cfg->file = strdup(path);
    struct fg_yaml y;
    fg_err e = fg_yaml_load_file(&y, path, why, why_len);
    if (e) {
        fg_yaml_free(&y);
        return e == FG_ERR_PARSE ? FG_ERR_CONFIG : e;
    }
    yaml_node_t *root = fg_yaml_root(&y);
    if (root->type != YAML_MAPPING_NODE) {
        snprintf(why, why_len, "%s: the configuration must be a mapping", path);
        e = FG_ERR_CONFIG;
    } else
        e = walk(&y, root, "", cfg, why, why_len);
    fg_yaml_free(&y);
    if (!e && cfg->upstream.tls.enabled && !cfg->upstream.tls.ca) {
        snprintf(why, why_len, "%s: upstream.tls.ca is required while upstream TLS is on", path);
        e = FG_ERR_CONFIG;
    }
    if (!e && strcmp(cfg->outbox_sync, "always") && strcmp(cfg->outbox_sync, "interval") &&
        strcmp(cfg->outbox_sync, "never")) {
        snprintf(why, why_len, "%s: outbox.sync must be always, interval or never", path);
        e = FG_ERR_CONFIG;
    }
    if (!e && strcmp(cfg->audit_fsync, "always") && strcmp(cfg->audit_fsync, "interval") &&
        strcmp(cfg->audit_fsync, "never")) {
        snprintf(why, why_len, "%s: audit.fsync must be always, interval or never", path);
        e = FG_ERR_CONFIG;
    }
    if (!e && (!cfg->upstream.tls.cert) != (!cfg->upstream.tls.key)) {
        snprintf(why, why_len, "%s: upstream.tls.cert and upstream.tls.key go together", path);
        e = FG_ERR_CONFIG;
    }
    return e;
}

void config_state_paths(const struct fg_config *cfg, char *audit_log, char *audit_dir,
                        char *reident_dir, size_t len)
{
    if (cfg->audit_log)
        snprintf(audit_log, len, "%s", cfg->audit_log);
    else
        snprintf(audit_log, len, "%s/audit.log", cfg->state_dir);
    snprintf(audit_dir, len, "%s/audit", cfg->state_dir);
    snprintf(reident_dir, len, "%s/reident", cfg->state_dir);
}

void config_print_help(FILE *out, bool md)
{
    if (md)
        fprintf(out, "| key | type | default | description |\n|---|---|---|---|\n");
    for (size_t i = 0; i < NKEYS; i++) {
        const struct config_key *k = &keys[i];
        if (md)
            fprintf(out, "| `%s` | %s | %s | %s |\n", k->name, type_name(k->type),
                    k->def ? k->def : "(unset)", k->description);
        else
            fprintf(out, "  %-42s %-8s default %s\n      %s\n", k->name, type_name(k->type),
                    k->def ? k->def : "(unset)", k->description);
    }
}
