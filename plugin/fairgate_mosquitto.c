/* fairgate_mosquitto.so: the policy runs inside the site's mosquitto, so raw
 * telemetry is minimised at arrival and never routed, queued or persisted.
 *
 *   plugin /usr/lib/x86_64-linux-gnu/fairgate/fairgate_mosquitto.so
 *   plugin_opt_config /etc/fairgate/fairgate.yaml
 *
 * Semantics of mosquitto 2.0.11 this relies on (src/plugin.c, handle_publish.c,
 * plugin_public.c, loop.c):
 * - MOSQ_EVT_MESSAGE runs for every PUBLISH from a client before it is stored
 *   or routed. Returning MOSQ_ERR_ACL_DENIED drops it and answers QoS 1/2 with
 *   reason 0x87 (not authorised); other errors disconnect the publisher.
 * - A replaced topic is taken as is and the old one is NOT freed (we free it),
 *   a replaced payload must come from mosquitto_malloc (the old one is freed
 *   by the broker), replaced properties are taken as is (we free the old).
 * - The message expiry of the input is read before the callback and cannot be
 *   changed there; mosquitto_broker_publish reads it from the properties. So
 *   every minimised message leaves through mosquitto_broker_publish (queued,
 *   routed at the top of the next loop iteration) and the input itself becomes
 *   an empty, non-retained message on $fairgate/consumed ('#' never matches a
 *   '$' topic), which is what the publisher's PUBACK acknowledges.
 * - MOSQ_EVT_TICK runs once per loop iteration (at least every ~100 ms when
 *   idle, more often under load). */
#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>
#include <mqtt_protocol.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/fg_log.h"
#include "common/fg_util.h"
#include "council/trust.h"
#include "gateway/setup.h"
#include "plugin/plugin.h"

#define CONSUMED_TOPIC "$fairgate/consumed"
/* The three entry points mosquitto looks up; everything else stays private. */
#define FGP_EXPORT __attribute__((visibility("default")))

static mosquitto_plugin_id_t *g_id;

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

FGP_EXPORT int mosquitto_plugin_version(int supported_version_count, const int *supported_versions)
{
    for (int i = 0; i < supported_version_count; i++)
        if (supported_versions[i] == 5)
            return 5;
    return -1;
}

/* ---- emitting ----------------------------------------------------------------- */

static fg_err emit(void *ctx, const struct fg_message *m)
{
    struct fgp *g = ctx;
    mosquitto_property *props = NULL;
    char id[64];
    snprintf(id, sizeof id, "%s-%llu", g->instance, (unsigned long long)g->next_id++);
    int rc = MOSQ_ERR_SUCCESS;
    if (m->retention_ms > 0) {
        /* Retention left = all of it: nothing waits between policy and broker.
         * mosquitto enforces it in its queues and counts it down for the bridge. */
        int64_t s = (m->retention_ms + 999) / 1000;
        rc = mosquitto_property_add_int32(&props, MQTT_PROP_MESSAGE_EXPIRY_INTERVAL,
                                          (uint32_t)(s > UINT32_MAX ? UINT32_MAX : s));
    }
    if (!rc)
        rc = mosquitto_property_add_string_pair(&props, MQTT_PROP_USER_PROPERTY, "fairgate-id", id);
    if (!rc)
        rc = mosquitto_property_add_string_pair(&props, MQTT_PROP_USER_PROPERTY, "purpose",
                                                m->purpose);
    if (!rc)
        rc = mosquitto_property_add_string_pair(&props, MQTT_PROP_USER_PROPERTY, "policy",
                                                m->policy_name);
    if (!rc)
        rc = mosquitto_property_add_string_pair(&props, MQTT_PROP_USER_PROPERTY, "route", m->route);
    void *payload = mosquitto_malloc(m->len + 1);
    if (rc || !payload) {
        mosquitto_property_free_all(&props);
        mosquitto_free(payload);
        return FG_ERR_NOMEM;
    }
    memcpy(payload, m->payload, m->len);
    unsigned char h[32];
    flows_hash(m->topic, m->payload, m->len, h);
    /* Owns payload and props from here, also on failure (it frees them only on
     * success): free them ourselves if it refuses. */
    rc = mosquitto_broker_publish(NULL, m->topic, (int)m->len, payload, (int)g->cfg.upstream_qos,
                                  false, props);
    if (rc != MOSQ_ERR_SUCCESS) {
        mosquitto_free(payload);
        mosquitto_property_free_all(&props);
        atomic_fetch_add(&g->publish_failed, 1);
        fg_log_ratelimited("plugin-publish", FG_LOG_ERROR, "plugin",
                           "mosquitto refused a minimised message (%d)", rc);
        return FG_ERR_MQTT;
    }
    atomic_fetch_add(&g->emitted, 1);
    /* What the site hands to the broker, per route and purpose (the bridge's
     * own acknowledgements are not visible to a plugin). */
    flows_add(g->flows, m->route, m->purpose, m->categories, h);
    return FG_OK;
}

/* A pseudonym was made: queue the sighting for the works council's sealed
 * table (in memory; sealed and written by the housekeeping thread). */
static void on_pseudonym(void *ctx, int64_t epoch, const char *route, const char *value, size_t len,
                         const char *pseudonym)
{
    struct fgp *g = ctx;
    if (g->reident)
        reident_record(g->reident, epoch, route, value, len, pseudonym);
}

static void on_reject(void *ctx, pipeline_reject r, fg_err cause, const char *why)
{
    struct fgp *g = ctx;
    (void)r;
    snprintf(g->why, sizeof g->why, "%s", why && *why ? why : fg_strerror(cause));
}

/* ---- the input path (broker thread) -------------------------------------------- */

static bool is_raw(const struct fgp *g, const char *topic)
{
    bool match = false;
    return mosquitto_topic_matches_sub(g->cfg.local_subscribe, topic, &match) == MOSQ_ERR_SUCCESS &&
           match;
}

static void count_reject(struct fgp *g, pipeline_reject r, const char *why)
{
    atomic_fetch_add(&g->rejected[r], 1);
    uint64_t bit = (uint64_t)1 << r;
    if (!(g->rej_logged_mask & bit)) {
        g->rej_logged_mask |= bit;
        fg_warn("input", "refused an input: %s%s%s", pipeline_reject_name(r),
                why && *why ? ": " : "", why ? why : "");
    }
}

/* The input becomes an empty message on CONSUMED_TOPIC: no topic, payload or
 * property of the sensor survives into the store. */
static int consume(struct mosquitto_evt_message *ev)
{
    char *t = mosquitto_strdup(CONSUMED_TOPIC);
    void *p = mosquitto_malloc(1);
    if (!t || !p) {
        mosquitto_free(t);
        mosquitto_free(p);
        return MOSQ_ERR_ACL_DENIED; /* fail closed: refused, not passed */
    }
    sodium_memzero(ev->topic, strlen(ev->topic));
    mosquitto_free(ev->topic);
    ev->topic = t;
    ev->payload = p; /* the broker frees the old payload (already wiped) */
    ev->payloadlen = 0;
    mosquitto_property_free_all(&ev->properties);
    ev->retain = false;
    return MOSQ_ERR_SUCCESS;
}

static int on_message(int event, void *event_data, void *userdata)
{
    (void)event;
    struct fgp *g = userdata;
    struct mosquitto_evt_message *ev = event_data;
    if (!ev->topic || !is_raw(g, ev->topic)) {
        atomic_fetch_add(&g->passed, 1);
        return MOSQ_ERR_SUCCESS; /* not raw: the broker's ACL decides, as always */
    }
    uint64_t t0 = mono_ns();
    atomic_fetch_add(&g->in, 1);
    pipeline_reject r = PIPE_REJ_NONE;
    int emitted = 0;
    int64_t now = fg_now_ms();
    g->why[0] = '\0';
    if (!g->active || policy_expired(g->active, now)) {
        /* Fail closed: without a policy in force, or once its validity ended,
         * raw inputs are refused rather than acknowledged and dropped. */
        r = PIPE_REJ_NO_POLICY;
        pipeline_count_reject(g->pl, r, FG_ERR_EXPIRED, NULL);
    } else if (pipeline_input(g->pl, ev->topic, ev->payload, ev->payloadlen, now, &r, &emitted) !=
                   FG_OK &&
               r == PIPE_REJ_NONE)
        r = PIPE_REJ_POLICY_ERROR;
    /* Raw bytes go now, whatever the verdict. */
    if (ev->payload && ev->payloadlen)
        sodium_memzero(ev->payload, ev->payloadlen);
    int rc;
    if (r == PIPE_REJ_NO_ROUTE) {
        /* A well-formed input the policy does not read: its minimised form is
         * nothing. Counted like the daemon does, acknowledged, never routed. */
        count_reject(g, r, g->why);
        rc = consume(ev);
    } else if (r != PIPE_REJ_NONE) {
        count_reject(g, r, g->why);
        rc = MOSQ_ERR_ACL_DENIED;
    } else {
        atomic_fetch_add(&g->accepted, 1);
        rc = consume(ev);
    }
    fgp_pause_record(&g->pause_msg, mono_ns() - t0);
    return rc;
}

/* ---- the tick (broker thread) -------------------------------------------------- */

static void log_stats(struct fgp *g, bool final)
{
    fg_log_ratelimit_flush();
    uint64_t rej = 0;
    for (int r = 0; r < PIPE_REJ__COUNT; r++)
        rej += atomic_load(&g->rejected[r]);
    char pm[160], pt[160];
    fgp_pause_format(&g->pause_msg, pm, sizeof pm);
    fgp_pause_format(&g->pause_tick, pt, sizeof pt);
    fg_info("stats",
            "%sin=%llu accepted=%llu out=%llu rejected=%llu publish_failed=%llu passed=%llu; "
            "broker loop paused by message callback: %s; by tick: %s",
            final ? "final: " : "", (unsigned long long)atomic_load(&g->in),
            (unsigned long long)atomic_load(&g->accepted),
            (unsigned long long)atomic_load(&g->emitted), (unsigned long long)rej,
            (unsigned long long)atomic_load(&g->publish_failed),
            (unsigned long long)atomic_load(&g->passed), pm, pt);
    g->rej_logged_mask = 0;
}

static int on_tick(int event, void *event_data, void *userdata)
{
    (void)event;
    (void)event_data;
    struct fgp *g = userdata;
    int64_t mono = fg_monotonic_ms();
    if (mono - g->last_tick_ms < 100)
        return MOSQ_ERR_SUCCESS; /* under load ticks come per loop: 10 a second is enough */
    g->last_tick_ms = mono;
    uint64_t t0 = mono_ns();
    int64_t now = fg_now_ms();
    struct policy *p = atomic_exchange(&g->pending, NULL);
    if (p) {
        g->active = p;
        if (pipeline_set_policy(g->pl, p, now) != FG_OK)
            fg_warn("policy", "could not close all of the old policy's windows");
        g->expired_flagged = false;
    }
    if (pipeline_tick(g->pl, now, false) != FG_OK)
        fg_warn("policy", "could not close an aggregation window");
    if (g->active && !g->expired_flagged && policy_expired(g->active, now)) {
        g->expired_flagged = true;
        atomic_store(&g->expired_seen, true); /* housekeeping logs and audits it */
    }
    if (mono - g->last_stats_ms >= g->cfg.stats_interval_ms) {
        g->last_stats_ms = mono;
        log_stats(g, false);
    }
    fgp_pause_record(&g->pause_tick, mono_ns() - t0);
    return MOSQ_ERR_SUCCESS;
}

/* SIGHUP to mosquitto: the policy goes through its checks again, as a SIGHUP
 * does for the daemon (on the housekeeping thread, never here). */
static int on_reload(int event, void *event_data, void *userdata)
{
    (void)event;
    (void)event_data;
    struct fgp *g = userdata;
    atomic_store(&g->reload_requested, true);
    pthread_mutex_lock(&g->hk_lock);
    pthread_cond_signal(&g->hk_wake);
    pthread_mutex_unlock(&g->hk_lock);
    return MOSQ_ERR_SUCCESS;
}

/* ---- lifecycle ------------------------------------------------------------------ */

static fg_err open_state(struct fgp *g)
{
    char why[512], keydir[4200];
    if (fg_mkdirs(g->cfg.state_dir, 0700) != FG_OK) {
        fg_error("plugin", "cannot create state directory %s", g->cfg.state_dir);
        return FG_ERR_IO;
    }
    if (setup_instance_id(&g->cfg, g->instance, sizeof g->instance, why, sizeof why) != FG_OK ||
        setup_load_sensors(&g->cfg, &g->sensors, why, sizeof why) != FG_OK) {
        fg_error("plugin", "%s", why);
        return FG_ERR_CONFIG;
    }
    if (setup_open_audit(&g->cfg, "gateway", &g->audit, g->audit_dir, why, sizeof why) != FG_OK ||
        flows_new(&g->flows) != FG_OK) {
        fg_error("audit", "cannot open the audit log: %s", why);
        return FG_ERR_IO; /* no audit log, no forwarding */
    }
    council_trust_audit(g->audit, &g->cfg, false); /* trust and weakenings, at every start */
    struct policy *p = fgp_admit_policy(g, false, false);
    snprintf(keydir, sizeof keydir, "%s/keys", g->cfg.state_dir);
    int64_t rotate = p ? policy_rotate_ms(p) : 86400000LL;
    g->rotate_ms = rotate;
    int64_t keep = p ? policy_keep_keys_ms(p) : 30 * 86400000LL;
    if (pseudonym_keyring_open(keydir, rotate, keep, &g->keys, why, sizeof why) != FG_OK) {
        fg_error("pseudonym", "%s", why);
        policy_free(p);
        return FG_ERR_IO;
    }
    if (setup_open_reident(&g->cfg, &g->reident, why, sizeof why) != FG_OK) {
        fg_error("reident", "%s", why);
        policy_free(p);
        return FG_ERR_IO;
    }
    static const struct pipeline_observer obs = {
        .emit = emit, .pseudonym = on_pseudonym, .reject = on_reject};
    struct pipeline_options po = {.sensors = g->sensors,
                                  .keys = g->keys,
                                  .max_payload = (size_t)g->cfg.max_payload,
                                  .obs = &obs,
                                  .ctx = g};
    if (pipeline_new(&po, &g->pl) != FG_OK) {
        policy_free(p);
        return FG_ERR_NOMEM;
    }
    /* NULL: raw inputs are refused until a policy is admitted. */
    g->active = p;
    return pipeline_set_policy(g->pl, p, fg_now_ms());
}

static void free_state(struct fgp *g)
{
    fgp_housekeeping_stop(g);
    policy_free(atomic_exchange(&g->pending, NULL));
    pipeline_free(g->pl); /* and the policy in force */
    pseudonym_keyring_close(g->keys);
    reident_close(g->reident); /* seals what is still queued */
    flows_free(g->flows);
    audit_close(g->audit);
    sensor_registry_free(g->sensors);
    if (g->cfg_loaded)
        config_free(&g->cfg);
    pthread_mutex_destroy(&g->hk_lock);
    pthread_cond_destroy(&g->hk_wake);
    free(g);
}

FGP_EXPORT int mosquitto_plugin_init(mosquitto_plugin_id_t *identifier, void **userdata,
                                     struct mosquitto_opt *options, int option_count)
{
    const char *file = NULL;
    for (int i = 0; i < option_count; i++)
        if (!strcmp(options[i].key, "config"))
            file = options[i].value;
    if (!file) {
        mosquitto_log_printf(MOSQ_LOG_ERR, "fairgate: plugin_opt_config FILE is required");
        return MOSQ_ERR_INVAL;
    }
    if (sodium_init() < 0)
        return MOSQ_ERR_UNKNOWN;
    struct fgp *g = calloc(1, sizeof *g);
    if (!g)
        return MOSQ_ERR_NOMEM;
    pthread_mutex_init(&g->hk_lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&g->hk_wake, &ca);
    pthread_condattr_destroy(&ca);
    char why[512];
    if (config_load(file, &g->cfg, why, sizeof why) != FG_OK) {
        mosquitto_log_printf(MOSQ_LOG_ERR, "fairgate: %s", why);
        config_free(&g->cfg);
        free(g);
        return MOSQ_ERR_INVAL;
    }
    g->cfg_loaded = true;
    fg_log_level lvl = FG_LOG_INFO;
    fg_log_parse_level(g->cfg.log_level, &lvl);
    fg_log_setup(lvl, g->cfg.log_syslog);
    snprintf(g->destination, sizeof g->destination, "mosquitto (plugin; bridge per broker config)");
    g->next_id = (uint64_t)fg_now_ms() * 1000u; /* unique and increasing across restarts */
    if (open_state(g) != FG_OK || fgp_housekeeping_start(g) != FG_OK) {
        mosquitto_log_printf(MOSQ_LOG_ERR, "fairgate: cannot start (see the lines above); "
                                           "raw topics would not be minimised, so mosquitto stops");
        free_state(g);
        return MOSQ_ERR_UNKNOWN;
    }
    g_id = identifier;
    if (mosquitto_callback_register(g_id, MOSQ_EVT_MESSAGE, on_message, NULL, g) ||
        mosquitto_callback_register(g_id, MOSQ_EVT_TICK, on_tick, NULL, g) ||
        mosquitto_callback_register(g_id, MOSQ_EVT_RELOAD, on_reload, NULL, g)) {
        free_state(g);
        return MOSQ_ERR_UNKNOWN;
    }
    g->last_stats_ms = fg_monotonic_ms();
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "version", FAIRGATE_VERSION);
    cJSON_AddStringToObject(o, "site", g->cfg.site);
    cJSON_AddStringToObject(o, "mode", "mosquitto-plugin");
    cJSON_AddStringToObject(o, "raw_topics", g->cfg.local_subscribe);
    fgp_audit_event(g, "gateway.start", o);
    fg_info("plugin",
            "fairgate %s inside mosquitto (site %s): inputs on %s are minimised at "
            "arrival or refused",
            FAIRGATE_VERSION, g->cfg.site, g->cfg.local_subscribe);
    *userdata = g;
    return MOSQ_ERR_SUCCESS;
}

FGP_EXPORT int mosquitto_plugin_cleanup(void *userdata, struct mosquitto_opt *options,
                                        int option_count)
{
    (void)options;
    (void)option_count;
    struct fgp *g = userdata;
    if (!g)
        return MOSQ_ERR_SUCCESS;
    mosquitto_callback_unregister(g_id, MOSQ_EVT_MESSAGE, on_message, NULL);
    mosquitto_callback_unregister(g_id, MOSQ_EVT_TICK, on_tick, NULL);
    mosquitto_callback_unregister(g_id, MOSQ_EVT_RELOAD, on_reload, NULL);
    /* Windows still open are not emitted: the broker is stopping and would
     * not route them; their inputs were acknowledged and are lost (see
     * docs/operations.md). */
    fgp_housekeeping_stop(g);
    log_stats(g, true);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "inputs", (double)atomic_load(&g->in));
    cJSON_AddNumberToObject(o, "delivered", (double)atomic_load(&g->emitted));
    fgp_audit_event(g, "gateway.stop", o);
    free_state(g);
    return MOSQ_ERR_SUCCESS;
}
