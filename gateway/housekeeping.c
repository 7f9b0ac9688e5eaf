/* Housekeeping, on the main thread: everything a Paho callback must not wait
 * for happens here. Audit events (connects, losses, rejected inputs, flow
 * summaries, key events, retention deletions), audit checkpoints and epoch
 * hand-overs, the sealed re-identification writes queued by the input path,
 * the per-second ticks (pseudonym keys, aggregation windows, policy expiry,
 * retention) and the stats line. Hooks for more housekeeping go here. */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>

#include "audit/audit.h"
#include "audit/flows.h"
#include "audit/inbox.h"
#include "common/fg_log.h"
#include "common/fg_util.h"
#include "council/reident.h"
#include "gateway/gateway_internal.h"
#include "gateway/setup.h"
#include "outbox/outbox.h"

void gw_log_stats(struct gateway *gw, bool final)
{
    fg_log_ratelimit_flush(); /* bursts that stopped: say how many lines were held back */
    struct outbox_stats os;
    outbox_get_stats(gw->outbox, &os);
    char rej[512] = "";
    size_t o = 0;
    uint64_t rej_total = 0;
    const struct pipeline_counters *pc = pipeline_counters(gw->pipe);
    for (int r = 0; r < PIPE_REJ__COUNT; r++) {
        uint64_t v = atomic_load(&pc->rejected[r]);
        rej_total += v;
        uint64_t d = final ? v : v - gw->rej_last[r];
        if (d && o < sizeof rej)
            o += (size_t)snprintf(rej + o, sizeof rej - o, "%s%llu %s", o ? ", " : "",
                                  (unsigned long long)d, pipeline_reject_name((pipeline_reject)r));
        gw->rej_last[r] = v;
    }
    atomic_store(&gw->rej_logged_mask, 0);
    fg_info("stats",
            "%sin=%llu queued=%llu out=%llu rejected=%llu outbox=%llu inflight=%llu purged=%llu "
            "upstream=%s inputs=%s",
            final ? "final: " : "", (unsigned long long)atomic_load(&pc->in),
            (unsigned long long)atomic_load(&gw->c.forwarded_queued),
            (unsigned long long)atomic_load(&gw->c.out_acked), (unsigned long long)rej_total,
            (unsigned long long)os.depth, (unsigned long long)os.inflight,
            (unsigned long long)os.purged,
            atomic_load(&gw->upstream.state) == LINK_UP ? "up" : "down",
            !atomic_load(&gw->local.paused)                    ? "on"
            : atomic_load(&gw->pause_reason) == GW_PAUSE_WRITE ? "paused(outbox not writable)"
            : atomic_load(&gw->pause_reason) == GW_PAUSE_DISK  ? "paused(disk nearly full)"
                                                               : "paused(outbox full)");
    if (*rej)
        fg_warn("input", "rejected %s: %s", final ? "in total" : "since the last report", rej);
    if (gw->reident) {
        struct reident_stats rs;
        reident_get_stats(gw->reident, &rs);
        uint64_t lost = rs.dropped_nomem + rs.dropped_queue_full + rs.dropped_too_long;
        if (lost + rs.write_errors != gw->reident_reported) {
            gw->reident_reported = lost + rs.write_errors;
            fg_warn("reident",
                    "%llu pseudonym sighting(s) could not be kept for re-identification (no "
                    "memory %llu, queue full %llu, too long %llu); %llu failed write(s), %llu "
                    "waiting",
                    (unsigned long long)lost, (unsigned long long)rs.dropped_nomem,
                    (unsigned long long)rs.dropped_queue_full,
                    (unsigned long long)rs.dropped_too_long, (unsigned long long)rs.write_errors,
                    (unsigned long long)rs.queued);
        }
    }
}

void gw_audit_event(struct gateway *gw, const char *action, cJSON *object)
{
    if (audit_append(gw->audit, "gateway", action, object) != FG_OK)
        fg_log_ratelimited("audit-write", FG_LOG_ERROR, "audit",
                           "cannot write a %s event to the audit log", action);
    cJSON_Delete(object);
}

/* Retention deletions, summed per route and written once per sweep: after a
 * long outage thousands of entries may expire at once. */
struct purge_sum {
    struct gateway *gw;
    char route[64][64];
    uint64_t count[64];
    size_t n;
};

static void on_purge(void *ctx, const char *route, uint64_t count)
{
    struct purge_sum *ps = ctx;
    size_t i = 0;
    while (i < ps->n && strcmp(ps->route[i], route))
        i++;
    if (i == ps->n && ps->n < 64)
        snprintf(ps->route[ps->n++], sizeof ps->route[0], "%s", route);
    if (i < ps->n)
        ps->count[i] += count;
}

static void purge_expired(struct gateway *gw, int64_t now)
{
    struct purge_sum ps = {.gw = gw};
    if (!outbox_purge_expired(gw->outbox, now, on_purge, &ps))
        return;
    for (size_t i = 0; i < ps.n; i++) {
        fg_info("outbox", "deleted %llu unsent message(s) of route %s: retention ended",
                (unsigned long long)ps.count[i], ps.route[i]);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "route", ps.route[i]);
        cJSON_AddStringToObject(o, "destination", gw->upstream_uri);
        cJSON_AddNumberToObject(o, "count", (double)ps.count[i]);
        cJSON_AddStringToObject(o, "reason", "retention");
        gw_audit_event(gw, "outbox.purged", o);
    }
}

void gw_on_key_event(void *ctx, const char *action, int64_t epoch)
{
    struct gateway *gw = ctx;
    /* The sealed table goes with the key: afterwards nobody can re-identify. */
    if (gw->reident && !strcmp(action, "pseudonym.key_destroyed"))
        reident_destroy_epoch(gw->reident, epoch);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "epoch", (double)epoch);
    gw_audit_event(gw, action, o);
}

/* The council's report reads how coarse each route is from the policy in force. */
struct report_tick {
    struct gateway *gw;
    int64_t mono;
};
static void report_tick_with(void *ctx, const struct policy *p)
{
    struct report_tick *rt = ctx;
    audit_reporter_tick(rt->gw->reporter, rt->gw->audit, p, rt->mono, gw_report);
}

/* Events raised by Paho callbacks are written here, on the main thread, so no
 * callback ever waits for the disk. */
void gw_housekeeping(struct gateway *gw, int64_t mono, bool final)
{
    uint64_t c = atomic_load(&gw->c.upstream_connects), l = atomic_load(&gw->c.upstream_losses);
    if (c != gw->seen_connects) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "broker", gw->upstream_uri);
        cJSON_AddNumberToObject(o, "count", (double)(c - gw->seen_connects));
        gw_audit_event(gw, "upstream.connected", o);
        gw->seen_connects = c;
    }
    if (l != gw->seen_losses) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "broker", gw->upstream_uri);
        cJSON_AddNumberToObject(o, "count", (double)(l - gw->seen_losses));
        gw_audit_event(gw, "upstream.lost", o);
        gw->seen_losses = l;
    }
    if (final || mono - gw->last_flow_ms >= gw->cfg->audit_flow_interval_ms) {
        int64_t now = fg_now_ms();
        flows_flush(gw->flows, gw->audit, gw->upstream_uri, gw->last_flow_wall_ms, now);
        gw->last_flow_ms = mono;
        gw->last_flow_wall_ms = now;
        /* Rejected inputs: counts by reason, never content. */
        cJSON *o = NULL;
        const struct pipeline_counters *pc = pipeline_counters(gw->pipe);
        for (int r = 0; r < PIPE_REJ__COUNT; r++) {
            uint64_t v = atomic_load(&pc->rejected[r]);
            if (v == gw->rej_audited[r])
                continue;
            if (!o)
                o = cJSON_CreateObject();
            cJSON_AddNumberToObject(o, pipeline_reject_name((pipeline_reject)r),
                                    (double)(v - gw->rej_audited[r]));
            gw->rej_audited[r] = v;
        }
        if (o)
            gw_audit_event(gw, "input.rejected", o);
    }
    if (mono - gw->last_rotate_ms >= gw->cfg->audit_rotate_ms) {
        gw->last_rotate_ms = mono;
        if (audit_rotate_epoch(gw->audit) != FG_OK)
            fg_error("audit", "cannot hand the audit log over to a new signing key");
    }
    audit_inbox_ingest(gw->audit, gw->audit_dir);
    struct report_tick rt = {gw, mono};
    pipeline_with_policy(gw->pipe, report_tick_with, &rt); /* under the policy's read lock */
    gw_report = 0;
    audit_tick(gw->audit, mono);
    /* Sightings queued by the input path: sealed and written here. */
    reident_flush(gw->reident);
}

/* Free space on the outbox's filesystem: below the headroom inputs pause
 * (gw_manage_local) before a write can fail; twice the headroom resumes them.
 * Sending meanwhile frees space (acknowledged segments are deleted). */
static void check_disk(struct gateway *gw)
{
    struct statvfs sv;
    if (statvfs(gw->outdir, &sv) != 0)
        return;
    gw->disk_free = (uint64_t)sv.f_bavail * sv.f_frsize;
    if (!gw->disk_low && gw->disk_free < gw->disk_headroom)
        gw->disk_low = true;
    else if (gw->disk_low && gw->disk_free >= 2 * gw->disk_headroom)
        gw->disk_low = false;
}

/* Once a second: pseudonym keys, aggregation windows, policy expiry, retention. */
void gw_second_tick(struct gateway *gw, int64_t now)
{
    if (pseudonym_keyring_tick(gw->keys, now) != FG_OK)
        fg_error("pseudonym", "cannot rotate pseudonym keys");
    if (pipeline_tick(gw->pipe, now, false) != FG_OK)
        fg_warn("policy", "could not close an aggregation window");
    gw_check_policy_expiry(gw, now);
    purge_expired(gw, now);
    check_disk(gw);
    gw_check_state(gw);
}

/* The audit log opens before anything else happens, and a changed
 * configuration file is recorded (its digest, not its content). */
fg_err gw_open_audit(struct gateway *gw)
{
    char why[512];
    if (setup_open_audit(gw->cfg, "gateway", &gw->audit, gw->audit_dir, why, sizeof why) != FG_OK) {
        fg_error("audit", "cannot open the audit log: %s", why);
        return FG_ERR_IO;
    }
    char logpath[4096], adir[4096], rdir[4096];
    config_state_paths(gw->cfg, logpath, adir, rdir, sizeof logpath);
    if (flows_new(&gw->flows) != FG_OK ||
        audit_reporter_new(gw->audit, logpath, gw->cfg->report_dir, gw->cfg->report_every_ms,
                           &gw->reporter) != FG_OK)
        return FG_ERR_NOMEM;
    return FG_OK;
}

/* A random id made once per state directory: message ids stay unique across
 * restarts, and never name the site or the box. */
