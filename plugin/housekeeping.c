/* The plugin's housekeeping thread: everything that touches the disk or may
 * take long (policy files and signatures, audit writes and fsync, key
 * rotation, flow summaries). The broker's thread only reads the atomics it
 * leaves and installs the policy it admits (plugin.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "council/trust.h"
#include "audit/inbox.h"
#include "common/fg_log.h"
#include "common/fg_util.h"
#include "gateway/policy_gate.h"
#include "gateway/setup.h"
#include "plugin/plugin.h"

void fgp_audit_event(struct fgp *g, const char *action, cJSON *object)
{
    if (audit_append(g->audit, "gateway", action, object) != FG_OK)
        fg_log_ratelimited("audit-write", FG_LOG_ERROR, "audit",
                           "cannot write a %s event to the audit log", action);
    cJSON_Delete(object);
}

static void log_policy_warning(void *ctx, const char *msg)
{
    (void)ctx;
    fg_warn("policy", "%s", msg);
}

struct policy *fgp_admit_policy(struct fgp *g, bool reload, bool previous)
{
    struct policy_admission ad;
    const char *stays = previous ? "the previous policy stays in force"
                                 : "raw topics are refused until a valid policy arrives";
    if (reload)
        council_trust_audit(g->audit, &g->cfg, true); /* trust and weakenings, at every reload */
    if (policy_admit(&g->cfg, g->sensors, previous, &ad) != FG_OK) {
        fg_error("policy", "policy refused: %s; %s", ad.why, stays);
        fgp_audit_event(g, ad.action, ad.event);
        return NULL;
    }
    fgp_audit_event(g, reload ? "policy.reloaded" : "policy.loaded", ad.event);
    policy_check_warnings(ad.policy, log_policy_warning, g);
    fg_info("policy", "%s policy %s version %d", reload ? "reloaded" : "loaded",
            policy_name(ad.policy), policy_version(ad.policy));
    return ad.policy;
}

/* ---- pause statistics --------------------------------------------------------- */

void fgp_pause_record(struct fgp_pause *p, uint64_t ns)
{
    static const uint64_t limits[FGP_HIST_BUCKETS - 1] = {10000, 100000, 1000000, 10000000,
                                                          100000000};
    int b = 0;
    while (b < FGP_HIST_BUCKETS - 1 && ns >= limits[b])
        b++;
    atomic_fetch_add(&p->bucket[b], 1);
    atomic_fetch_add(&p->count, 1);
    atomic_fetch_add(&p->total_ns, ns);
    uint_fast64_t m = atomic_load(&p->max_ns);
    while (ns > m && !atomic_compare_exchange_weak(&p->max_ns, &m, ns))
        ;
}

void fgp_pause_format(const struct fgp_pause *p, char *out, size_t len)
{
    static const char *const names[FGP_HIST_BUCKETS] = {"<10us", "<100us", "<1ms",
                                                        "<10ms", "<100ms", ">=100ms"};
    uint64_t n = atomic_load(&p->count);
    size_t o = (size_t)snprintf(out, len, "n=%llu max=%lluus mean=%lluus", (unsigned long long)n,
                                (unsigned long long)(atomic_load(&p->max_ns) / 1000),
                                (unsigned long long)(n ? atomic_load(&p->total_ns) / n / 1000 : 0));
    for (int b = 0; b < FGP_HIST_BUCKETS && o < len; b++)
        o += (size_t)snprintf(out + o, len - o, " %s:%llu", names[b],
                              (unsigned long long)atomic_load(&p->bucket[b]));
}

/* ---- the thread ------------------------------------------------------------------ */

/* Called by the key ring with its lock held, and the broker's thread may be
 * waiting for that lock to make a pseudonym: only note the event here; it is
 * audited (and the sealed table deleted) once the ring is unlocked. */
static void on_key_event(void *ctx, const char *action, int64_t epoch)
{
    struct fgp *g = ctx;
    if (g->nkey_events < FGP_KEY_EVENTS) {
        g->key_events[g->nkey_events].destroyed = !strcmp(action, "pseudonym.key_destroyed");
        g->key_events[g->nkey_events++].epoch = epoch;
    } else
        fg_log_ratelimited("key-events", FG_LOG_ERROR, "pseudonym",
                           "more than %d key events in one round: some are not audited",
                           FGP_KEY_EVENTS);
}

static void flush_key_events(struct fgp *g)
{
    for (int i = 0; i < g->nkey_events; i++) {
        /* The sealed table goes with the key: afterwards nobody can re-identify. */
        if (g->reident && g->key_events[i].destroyed)
            reident_destroy_epoch(g->reident, g->key_events[i].epoch);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "epoch", (double)g->key_events[i].epoch);
        fgp_audit_event(
            g, g->key_events[i].destroyed ? "pseudonym.key_destroyed" : "pseudonym.rotated", o);
    }
    g->nkey_events = 0;
}

static void audit_rejections(struct fgp *g)
{
    cJSON *o = NULL;
    for (int r = 0; r < PIPE_REJ__COUNT; r++) {
        uint64_t v = atomic_load(&g->rejected[r]);
        if (v == g->rej_audited[r])
            continue;
        if (!o)
            o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, pipeline_reject_name(r), (double)(v - g->rej_audited[r]));
        g->rej_audited[r] = v;
    }
    if (o)
        fgp_audit_event(g, "input.rejected", o);
}

static void watch_policy(struct fgp *g, bool forced)
{
    char stamp[128];
    setup_policy_stamp(&g->cfg, stamp, sizeof stamp);
    if (!forced && !strcmp(stamp, g->policy_stamp))
        return;
    snprintf(g->policy_stamp, sizeof g->policy_stamp, "%s", stamp);
    fg_info("policy", forced ? "mosquitto reloaded: checking the policy again"
                             : "policy or signature file changed: checking it");
    /* previous: what the broker thread runs now or will install next */
    struct policy *p = fgp_admit_policy(g, true, true);
    if (p) /* key lifetimes follow the policy: a shorter keep_keys applies at once */
        pseudonym_keyring_configure(g->keys, policy_rotate_ms(p), policy_keep_keys_ms(p),
                                    fg_now_ms());
    if (p)
        policy_free(atomic_exchange(&g->pending, p)); /* a newer one replaces one not yet taken */
}

static void report_expiry(struct fgp *g)
{
    if (!atomic_exchange(&g->expired_seen, false))
        return;
    fg_error("policy", "the policy has expired: raw topics are refused until a new signed "
                       "policy arrives");
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "reason", "valid_until passed while running");
    fgp_audit_event(g, "policy.expired", o);
}

struct hk_clock {
    int64_t last_watch, last_flow, last_flow_wall, last_rotate;
};

static void housekeeping_once(struct fgp *g, struct hk_clock *c, bool final)
{
    int64_t mono = fg_monotonic_ms(), now = fg_now_ms();
    bool forced = atomic_exchange(&g->reload_requested, false);
    if (!final && (forced || mono - c->last_watch >= 2000)) {
        c->last_watch = mono;
        watch_policy(g, forced);
    }
    if (!final) {
        /* tick makes the current and the next epoch's key (the broker's thread
         * never finds the current epoch without one) and destroys each key at
         * its deadline, not earlier. */
        if (pseudonym_keyring_tick(g->keys, now) != FG_OK)
            fg_log_ratelimited("pseudonym-rotate", FG_LOG_ERROR, "pseudonym",
                               "cannot rotate pseudonym keys");
    }
    flush_key_events(g);
    if (g->reident)
        reident_flush(g->reident); /* seals the sightings the broker thread queued */
    report_expiry(g);
    if (final || mono - c->last_flow >= g->cfg.audit_flow_interval_ms) {
        flows_flush(g->flows, g->audit, g->destination, c->last_flow_wall, now);
        c->last_flow = mono;
        c->last_flow_wall = now;
        audit_rejections(g);
    }
    if (mono - c->last_rotate >= g->cfg.audit_rotate_ms) {
        c->last_rotate = mono;
        if (audit_rotate_epoch(g->audit) != FG_OK)
            fg_error("audit", "cannot hand the audit log over to a new signing key");
    }
    audit_inbox_ingest(g->audit, g->audit_dir);
    audit_tick(g->audit, mono);
}

static void *housekeeping(void *arg)
{
    struct fgp *g = arg;
    int64_t mono = fg_monotonic_ms();
    struct hk_clock c = {mono, mono, fg_now_ms(), mono};
    pthread_mutex_lock(&g->hk_lock);
    while (!atomic_load(&g->stop)) {
        pthread_mutex_unlock(&g->hk_lock);
        housekeeping_once(g, &c, false);
        pthread_mutex_lock(&g->hk_lock);
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec +=
            100000000L; /* 10 rounds a second: key rotation leads by >= rotate/2 - 100 ms */
        ts.tv_sec += ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        if (!atomic_load(&g->stop))
            pthread_cond_timedwait(&g->hk_wake, &g->hk_lock, &ts);
    }
    pthread_mutex_unlock(&g->hk_lock);
    housekeeping_once(g, &c, true);
    return NULL;
}

fg_err fgp_housekeeping_start(struct fgp *g)
{
    pseudonym_keyring_set_hook(g->keys, on_key_event, g);
    fg_err e = pseudonym_keyring_tick(g->keys, fg_now_ms());
    flush_key_events(g);
    if (e != FG_OK) {
        fg_error("pseudonym", "cannot create the pseudonym key of this epoch");
        return FG_ERR_IO;
    }
    setup_policy_stamp(&g->cfg, g->policy_stamp, sizeof g->policy_stamp);
    if (pthread_create(&g->hk, NULL, housekeeping, g) != 0) {
        fg_error("plugin", "cannot start the housekeeping thread: %s", strerror(errno));
        return FG_ERR_NOMEM;
    }
    g->hk_running = true;
    return FG_OK;
}

void fgp_housekeeping_stop(struct fgp *g)
{
    if (!g->hk_running)
        return;
    pthread_mutex_lock(&g->hk_lock);
    atomic_store(&g->stop, true);
    pthread_cond_signal(&g->hk_wake);
    pthread_mutex_unlock(&g->hk_lock);
    pthread_join(g->hk, NULL);
    g->hk_running = false;
}
