/* The daemon: start, main loop, stop. Two Paho MQTTAsync clients (local in,
 * upstream out) share Paho's one receive thread. The input path (input.c)
 * decodes and minimises inside messageArrived and writes the outputs to the
 * outbox before returning (Paho sends the PUBACK when it returns); if that
 * write fails it waits there, stalling Paho's thread, until the disk takes it
 * or the gateway stops (see input.c). Every other disk write (audit, sealed
 * re-identification entries) happens here on the main thread, which also
 * feeds the upstream from the outbox, never more than the broker's Receive
 * Maximum at a time (sender.c). */
#include "gateway/gateway.h"

#include <errno.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>

#include "audit/audit.h"
#include "audit/flows.h"
#include "common/fg_log.h"
#include "common/fg_util.h"
#include "council/keys.h"
#include "council/reident.h"
#include "council/trust.h"
#include "gateway/gateway_internal.h"
#include "gateway/setup.h"
#include "outbox/outbox.h"

volatile sig_atomic_t gw_stop, gw_reload, gw_report;

static void on_signal(int sig)
{
    if (sig == SIGHUP)
        gw_reload = 1;
    else if (sig == SIGUSR1)
        gw_report = 1; /* the works council's report, now (report.dir) */
    else
        gw_stop = 1;
}

/* Callbacks only signal when the main thread really sleeps: one futex wake per
 * loop at most, instead of one per message and per ack (measured: the wake-ups,
 * not the privacy work, dominated the CPU). wait_main re-checks `work` under
 * the lock before sleeping, so no wake-up is lost. */
void gw_wake_main(struct gateway *gw)
{
    atomic_store(&gw->work, 1);
    if (atomic_load(&gw->sleeping)) {
        pthread_mutex_lock(&gw->wake_lock);
        pthread_cond_signal(&gw->wake);
        pthread_mutex_unlock(&gw->wake_lock);
    }
}

static void wait_main(struct gateway *gw, int ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_nsec += (long)ms * 1000000L;
    ts.tv_sec += ts.tv_nsec / 1000000000L;
    ts.tv_nsec %= 1000000000L;
    pthread_mutex_lock(&gw->wake_lock);
    atomic_store(&gw->sleeping, 1);
    if (!atomic_exchange(&gw->work, 0) && !gw_stop && !gw_reload)
        pthread_cond_timedwait(&gw->wake, &gw->wake_lock, &ts);
    atomic_store(&gw->sleeping, 0);
    atomic_store(&gw->work, 0);
    pthread_mutex_unlock(&gw->wake_lock);
}

/* A random id made once per state directory: message ids stay unique across
 * restarts, and never name the site or the box. */
static fg_err load_gateway_id(struct gateway *gw)
{
    char why[512];
    if (setup_instance_id(gw->cfg, gw->instance, sizeof gw->instance, why, sizeof why) != FG_OK) {
        fg_error("gateway", "%s", why);
        return FG_ERR_IO;
    }
    return FG_OK;
}

/* Pseudonym keys and, with a works council key, the sealed re-identification
 * tables; rotation follows the policy (defaults without one). */
static fg_err open_keys(struct gateway *gw, const struct policy *p)
{
    const struct fg_config *cfg = gw->cfg;
    char why[512], keydir[4096];
    snprintf(keydir, sizeof keydir, "%s/keys", cfg->state_dir);
    int64_t rotate = p ? policy_rotate_ms(p) : 86400000LL;
    int64_t keep = p ? policy_keep_keys_ms(p) : 30 * 86400000LL;
    if (pseudonym_keyring_open(keydir, rotate, keep, &gw->keys, why, sizeof why) != FG_OK) {
        fg_error("pseudonym", "%s", why);
        return FG_ERR_IO;
    }
    pseudonym_keyring_set_hook(gw->keys, gw_on_key_event, gw);
    if (setup_open_reident(cfg, &gw->reident, why, sizeof why) != FG_OK) {
        fg_error("reident", "%s", why);
        return FG_ERR_IO;
    }
    return pseudonym_keyring_tick(gw->keys, fg_now_ms());
}

/* The outbox must not fill its own disk: headroom of 2 KiB per input the
 * local broker may have in flight (at most an eighth of the filesystem), and
 * outbox.max_bytes (payload bytes; a record on disk takes about twice that)
 * within the free space left. Returns the bound to use. */
static int64_t check_free_space(struct gateway *gw, int64_t max_bytes)
{
    struct statvfs sv;
    if (fg_mkdirs(gw->outdir, 0700) != FG_OK || statvfs(gw->outdir, &sv) != 0)
        return max_bytes; /* outbox_open says why */
    uint64_t total = (uint64_t)sv.f_blocks * sv.f_frsize;
    uint64_t free_b = (uint64_t)sv.f_bavail * sv.f_frsize;
    uint64_t h = (uint64_t)gw->cfg->local_receive_maximum * 2048;
    if (h > total / 8)
        h = total / 8;
    gw->disk_headroom = h;
    gw->disk_free = free_b;
    uint64_t room = free_b > h ? (free_b - h) / 2 : 0;
    if ((uint64_t)max_bytes <= room)
        return max_bytes;
    int64_t use = room > 65536 ? (int64_t)room : 65536;
    fg_warn("outbox",
            "outbox.max_bytes (%lld) does not fit in the free space of %s (%llu KiB free, "
            "%llu KiB kept free): using %lld bytes, so the outbox cannot fill its own disk",
            (long long)max_bytes, gw->outdir, (unsigned long long)(free_b / 1024),
            (unsigned long long)(h / 1024), (long long)use);
    return use;
}

static fg_err open_outbox(struct gateway *gw)
{
    const struct fg_config *cfg = gw->cfg;
    char why[512] = "";
    snprintf(gw->outdir, sizeof gw->outdir, "%s", cfg->outbox_dir ? cfg->outbox_dir : "");
    if (!cfg->outbox_dir)
        snprintf(gw->outdir, sizeof gw->outdir, "%s/outbox", cfg->state_dir);
    int64_t max_bytes = check_free_space(gw, cfg->queue_max_bytes);
    gw->cfg->queue_max_bytes = max_bytes; /* resume-below-half uses it too */
    struct outbox_options oo = {
        .max_messages = cfg->queue_max_messages,
        .max_bytes = max_bytes,
        .slack_messages = cfg->local_receive_maximum * 4,
        .dir = gw->outdir,
        .sync = !strcmp(cfg->outbox_sync, "always")  ? OUTBOX_SYNC_ALWAYS
                : !strcmp(cfg->outbox_sync, "never") ? OUTBOX_SYNC_NEVER
                                                     : OUTBOX_SYNC_INTERVAL,
    };
    if (outbox_open(&oo, &gw->outbox, why, sizeof why) != FG_OK) {
        fg_error("outbox", "%s", why);
        return FG_ERR_IO;
    }
    if (why[0])
        fg_warn("outbox", "%s", why);
    if (outbox_recovered(gw->outbox))
        fg_info("outbox",
                "recovered %llu message(s) not yet acknowledged upstream; they will be "
                "resent with their original ids",
                (unsigned long long)outbox_recovered(gw->outbox));
    return FG_OK;
}

/* TLS material checked before the first connection; weak settings said. */
static fg_err check_links(struct gateway *gw)
{
    const struct fg_config *cfg = gw->cfg;
    if (!gw_preflight("upstream", &cfg->upstream, &gw->cert_days[1]) ||
        !gw_preflight("local", &cfg->local, &gw->cert_days[0]))
        return FG_ERR_TLS;
    for (int i = 0; i < 2; i++)
        if (gw->cert_days[i] >= 0 && gw->cert_days[i] < 30) {
            /* counted in the metrics (certificate expiry days), audited here */
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "link", i ? "upstream" : "local");
            cJSON_AddStringToObject(o, "certificate",
                                    i ? cfg->upstream.tls.cert : cfg->local.tls.cert);
            cJSON_AddNumberToObject(o, "days_left", gw->cert_days[i]);
            gw_audit_event(gw, "certificate.expiring", o);
        }
    if (cfg->upstream.tls.enabled && cfg->upstream.tls.insecure_no_hostname_check)
        fg_warn("upstream", "hostname check of the upstream broker is OFF "
                            "(upstream.tls.insecure_no_hostname_check): a forged broker with "
                            "any certificate from the CA would receive the data");
    if (!cfg->upstream.tls.enabled)
        fg_warn("upstream", "upstream TLS is off: minimised data leaves in clear text");
    return gw_create_clients(gw);
}

/* Everything before the first connection, in order: state directory, id,
 * sensor types, audit log (no audit log, no forwarding), policy, keys,
 * pipeline, outbox, TLS checks, MQTT clients. */
static fg_err start(struct gateway *gw)
{
    const struct fg_config *cfg = gw->cfg;
    if (fg_mkdirs(cfg->state_dir, 0700) != FG_OK) {
        fg_error("gateway", "cannot create state directory %s: %s", cfg->state_dir,
                 strerror(errno));
        return FG_ERR_IO;
    }
    if (load_gateway_id(gw) || gw_load_sensors(gw) || gw_open_audit(gw))
        return FG_ERR_IO;
    /* Trust and every weakening of it, audited at every start (docs/audit.md). */
    council_trust_audit(gw->audit, cfg, false);
    struct policy *p = gw_load_policy(gw, false);
    if (open_keys(gw, p) != FG_OK) {
        policy_free(p);
        return FG_ERR_IO;
    }
    struct pipeline_options po = {
        .sensors = gw->sensors,
        .keys = gw->keys,
        .max_payload = (size_t)cfg->max_payload,
        .obs = &gw_pipeline_observer,
        .ctx = gw,
    };
    if (pipeline_new(&po, &gw->pipe) != FG_OK) {
        policy_free(p);
        return FG_ERR_NOMEM;
    }
    if (p)
        gw_install_policy(gw, p, false);
    if (open_outbox(gw) || check_links(gw))
        return FG_ERR_IO;
    return FG_OK;
}

static fg_err serve(struct gateway *gw)
{
    const struct fg_config *cfg = gw->cfg;
    char why[512];
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    gw->started_ms = fg_now_ms();
    if (cfg->metrics_port) {
        if (metrics_start(cfg->metrics_bind, (int)cfg->metrics_port, gw_fill_metrics, gw,
                          &gw->metrics, why, sizeof why) != FG_OK) {
            fg_error("metrics", "%s", why);
            return FG_ERR_IO;
        }
        fg_info("metrics", "serving /metrics and /status on %s port %d", cfg->metrics_bind,
                metrics_port(gw->metrics));
    }
    fg_info("gateway", "fairgate %s started (site %s)", FAIRGATE_VERSION, cfg->site);
    snprintf(gw->upstream_uri, sizeof gw->upstream_uri, "%s://%s:%lld",
             cfg->upstream.tls.enabled ? "mqtts" : "mqtt", cfg->upstream.host,
             (long long)cfg->upstream.port);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "version", FAIRGATE_VERSION);
    cJSON_AddStringToObject(o, "site", cfg->site);
    cJSON_AddStringToObject(o, "upstream", gw->upstream_uri);
    cJSON_AddNumberToObject(o, "recovered", (double)outbox_recovered(gw->outbox));
    gw_audit_event(gw, "gateway.start", o);
    return FG_OK;
}

static void main_loop(struct gateway *gw)
{
    const struct fg_config *cfg = gw->cfg;
    gw->last_stats_ms = fg_monotonic_ms();
    gw->last_flow_ms = gw->last_rotate_ms = gw->last_stats_ms;
    gw->last_flow_wall_ms = fg_now_ms();
    int64_t last_tick = 0;
    while (!gw_stop) {
        int64_t mono = fg_monotonic_ms();
        if (gw_reload || gw_policy_files_changed(gw, mono)) {
            gw_reload = 0;
            council_trust_audit(gw->audit, gw->cfg, true); /* and at every reload */
            struct policy *p = gw_load_policy(gw, true);
            if (p) {
                /* Key lifetimes follow the active signed policy: a shorter
                 * keep_keys applies at once. */
                pseudonym_keyring_configure(gw->keys, policy_rotate_ms(p), policy_keep_keys_ms(p),
                                            fg_now_ms());
                gw_install_policy(gw, p, true);
            }
        }
        /* Keys are destroyed at their exact deadline, not at the next rotation. */
        if (fg_now_ms() >= pseudonym_keyring_next_deadline(gw->keys) &&
            pseudonym_keyring_tick(gw->keys, fg_now_ms()) != FG_OK)
            fg_error("pseudonym", "cannot rotate pseudonym keys");
        gw_poison_housekeeping(gw, mono); /* before a reconnect resends poison */
        gw_manage_upstream(gw, mono);
        gw_manage_local(gw, mono);
        gw_pump(gw);
        if (mono - gw->last_sync_ms >= cfg->outbox_sync_interval_ms ||
            atomic_load(&gw->write_failing)) {
            gw->last_sync_ms = mono;
            outbox_sync(gw->outbox);
        }
        if (mono - last_tick >= 1000) {
            last_tick = mono;
            gw_second_tick(gw, fg_now_ms());
        }
        if (mono - gw->last_stats_ms >= cfg->stats_interval_ms) {
            gw->last_stats_ms = mono;
            gw_log_stats(gw, false);
            gw_publish_status(gw);
        }
        gw_housekeeping(gw, mono, false);
        wait_main(gw, gw_send_wait_ms(gw, 50));
    }
}

static void drain(struct gateway *gw)
{
    /* Stop inputs first, then give queued messages a bounded time to leave. */
    MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer5;
    d.timeout = 1000;
    d.reasonCode = MQTTREASONCODE_DISCONNECT_WITH_WILL_MESSAGE; /* status: offline */
    if (MQTTAsync_isConnected(gw->local.client))
        MQTTAsync_disconnect(gw->local.client, &d);
    d.reasonCode = MQTTREASONCODE_NORMAL_DISCONNECTION;
    if (pipeline_tick(gw->pipe, fg_now_ms(), true) != FG_OK)
        fg_warn("policy", "could not close all aggregation windows");
    int64_t deadline = fg_monotonic_ms() + gw->cfg->drain_timeout_ms;
    while (fg_monotonic_ms() < deadline) {
        struct outbox_stats os;
        outbox_get_stats(gw->outbox, &os);
        if (os.depth == 0)
            break;
        gw_pump(gw);
        wait_main(gw, 20);
    }
    struct outbox_stats os;
    outbox_get_stats(gw->outbox, &os);
    if (os.depth)
        fg_warn("outbox", "stopping with %llu message(s) not yet acknowledged upstream",
                (unsigned long long)os.depth);
    if (MQTTAsync_isConnected(gw->upstream.client))
        MQTTAsync_disconnect(gw->upstream.client, &d);
}

static void stop(struct gateway *gw)
{
    fg_info("gateway", "stopping: draining for up to %lld ms",
            (long long)gw->cfg->drain_timeout_ms);
    drain(gw);
    gw_log_stats(gw, true);
    gw_housekeeping(gw, fg_monotonic_ms(), true);
    struct outbox_stats os;
    outbox_get_stats(gw->outbox, &os);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "inputs", (double)atomic_load(&pipeline_counters(gw->pipe)->in));
    cJSON_AddNumberToObject(o, "delivered", (double)atomic_load(&gw->c.out_acked));
    cJSON_AddNumberToObject(o, "left_in_outbox", (double)os.depth);
    gw_audit_event(gw, "gateway.stop", o);
}

static void release(struct gateway *gw)
{
    metrics_stop(gw->metrics); /* first: its thread reads everything below */
    if (gw->local.client)
        MQTTAsync_destroy(&gw->local.client);
    if (gw->upstream.client)
        MQTTAsync_destroy(&gw->upstream.client);
    pipeline_free(gw->pipe); /* and its policy */
    outbox_close(gw->outbox);
    reident_close(gw->reident);
    pseudonym_keyring_close(gw->keys);
    audit_reporter_free(gw->reporter);
    audit_close(gw->audit);
    flows_free(gw->flows);
    sensor_registry_free(gw->sensors);
    gw_batch_free(&gw->batch);
    pthread_cond_destroy(&gw->wake);
    pthread_mutex_destroy(&gw->wake_lock);
    pthread_mutex_destroy(&gw->pump_lock);
    pthread_mutex_destroy(&gw->poison_lock);
    free(gw);
}

int gateway_run(struct fg_config *cfg)
{
    struct gateway *gw = calloc(1, sizeof *gw);
    if (!gw || sodium_init() < 0) {
        free(gw);
        return 1;
    }
    int rc = 1;
    gw->cfg = cfg;
    gw->local.name = "local";
    gw->upstream.name = "upstream";
    pthread_mutex_init(&gw->wake_lock, NULL);
    pthread_mutex_init(&gw->pump_lock, NULL);
    pthread_mutex_init(&gw->poison_lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&gw->wake, &ca);
    pthread_condattr_destroy(&ca);
    if (start(gw) == FG_OK && serve(gw) == FG_OK) {
        main_loop(gw);
        stop(gw);
        rc = 0;
        if (outbox_write_failing(gw->outbox)) {
            /* Only outputs of closing windows can be here (an input whose
             * output is unwritten never returns to Paho: input.c). */
            fg_error("gateway", "stopping while the outbox cannot be written: aggregates not "
                                "yet on disk are lost");
            rc = 3;
        }
    }
    release(gw);
    fg_info("gateway", "stopped");
    return rc;
}
