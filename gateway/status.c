/* What the gateway shows about itself: the metrics snapshot (for /metrics and
 * /status, served by gateway/metrics.c) and the retained status message on
 * the local broker. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fg_log.h"
#include "common/fg_util.h"
#include "council/trust.h"
#include "gateway/gateway_internal.h"
#include "outbox/outbox.h"

static int cert_days_now(const struct gateway *gw, int i, int64_t now)
{
    if (gw->cert_days[i] < 0)
        return -1;
    int64_t d = gw->cert_days[i] - (now - gw->started_ms) / 86400000;
    return d < 0 ? 0 : (int)d;
}

/* Under the pipeline's policy read lock. */
static void fill_policy(void *ctx, const struct policy *p)
{
    struct metrics_snapshot *s = ctx;
    int64_t now = s->now_ms;
    if (p) {
        s->policy_loaded = true;
        snprintf(s->policy_name, sizeof s->policy_name, "%s", policy_name(p));
        s->policy_version = policy_version(p);
        int64_t until = policy_valid_until_ms(p);
        s->policy_valid_until_s = until == INT64_MAX ? 0 : until / 1000;
        s->policy_expired = policy_expired(p, now);
        size_t n = policy_route_count(p);
        for (size_t i = 0; i < n && s->nroutes < METRICS_MAX_ROUTES; i++) {
            struct policy_route_stats rs;
            struct metrics_route *m = &s->routes[s->nroutes++];
            policy_route_stats(p, i, &rs);
            snprintf(m->name, sizeof m->name, "%s", rs.name);
            m->matched = rs.matched;
            m->filtered = rs.filtered;
            m->emitted = rs.emitted;
            m->late = rs.late;
            m->groups_published = rs.groups_published;
            m->groups_suppressed = rs.groups_suppressed;
            m->groups_secondary = rs.groups_secondary;
            m->totals_published = rs.totals_published;
            m->totals_suppressed = rs.totals_suppressed;
        }
    }
}

static const char *const pause_codes[] = {"", "inputs-paused-full", "inputs-paused-write",
                                          "inputs-paused-disk"};

/* The degraded reasons right now, as codes; how many. */
static size_t degraded_reasons(struct gateway *gw, const struct outbox_stats *os,
                               char out[METRICS_MAX_DEGRADED][32])
{
    size_t n = 0;
    bool up = atomic_load(&gw->upstream.state) == LINK_UP;
    if (!up)
        snprintf(out[n++], 32, "upstream-down");
    else if (os->depth && fg_monotonic_ms() - atomic_load(&gw->last_progress_ms) > GW_STALL_MS)
        snprintf(out[n++], 32, "upstream-stalled");
    int pr = atomic_load(&gw->pause_reason);
    if (atomic_load(&gw->local.paused) && pr > 0 && pr < 4)
        snprintf(out[n++], 32, "%s", pause_codes[pr]);
    if (atomic_load(&gw->quarantined))
        snprintf(out[n++], 32, "quarantined");
    return n;
}

/* THREAD SAFETY: runs on the metrics server's thread as well as the main
 * thread: it reads atomics, outbox_get_stats (locked) and the policy under its
 * read lock, nothing else. Labels get route names and reasons only. */
void gw_fill_metrics(void *ctx, struct metrics_snapshot *s)
{
    struct gateway *gw = ctx;
    int64_t now = fg_now_ms();
    s->now_ms = now;
    s->started_ms = gw->started_ms;
    snprintf(s->version, sizeof s->version, "%s", FAIRGATE_VERSION);
    snprintf(s->site, sizeof s->site, "%s", gw->cfg->site);
    const struct pipeline_counters *pc = pipeline_counters(gw->pipe);
    s->inputs = atomic_load(&pc->in);
    s->queued = atomic_load(&gw->c.forwarded_queued);
    s->sent = atomic_load(&gw->c.out_acked);
    s->refused_upstream = atomic_load(&gw->c.out_failed);
    for (int r = 0; r < PIPE_REJ__COUNT && s->nreasons < METRICS_MAX_REASONS; r++, s->nreasons++) {
        snprintf(s->rejected[s->nreasons].name, METRICS_NAME_MAX, "%s",
                 pipeline_reject_name((pipeline_reject)r));
        s->rejected[s->nreasons].count = atomic_load(&pc->rejected[r]);
    }
    struct outbox_stats os;
    outbox_get_stats(gw->outbox, &os);
    s->outbox_messages = os.depth;
    s->outbox_bytes = os.bytes;
    s->outbox_inflight = os.inflight;
    s->outbox_oldest_age_ms = os.oldest_ms && now > os.oldest_ms ? now - os.oldest_ms : 0;
    s->outbox_write_errors = os.write_errors;
    s->retention_deleted = os.purged;
    s->inputs_paused = atomic_load(&gw->local.paused);
    s->input_pauses = atomic_load(&gw->c.paused);
    s->quarantined = atomic_load(&gw->quarantined);
    s->quarantined_total = atomic_load(&gw->quarantined_total);
    s->ndegraded = degraded_reasons(gw, &os, s->degraded);
    s->local.connected = atomic_load(&gw->local.state) == LINK_UP;
    s->local.connects = atomic_load(&gw->c.local_connects);
    s->local.losses = atomic_load(&gw->c.local_losses);
    s->local.cert_days_left = cert_days_now(gw, 0, now);
    s->upstream.connected = atomic_load(&gw->upstream.state) == LINK_UP;
    s->upstream.connects = atomic_load(&gw->c.upstream_connects);
    s->upstream.losses = atomic_load(&gw->c.upstream_losses);
    s->upstream.cert_days_left = cert_days_now(gw, 1, now);
    metrics_histogram_read(&gw->latency, &s->latency);
    s->trust_weakenings = (uint32_t)council_trust_weakenings(s->trust_weakening_kinds,
                                                             sizeof s->trust_weakening_kinds);
    pipeline_with_policy(gw->pipe, fill_policy, s);
}

/* Main thread, every stats interval: the retained status on the local broker
 * (QoS 1; fire and forget: the next one follows within an interval). */
void gw_publish_status(struct gateway *gw)
{
    if (!*gw->cfg->status_topic || atomic_load(&gw->local.state) != LINK_UP)
        return;
    struct metrics_snapshot *s = calloc(1, sizeof *s);
    char buf[2048];
    if (!s)
        return;
    gw_fill_metrics(gw, s);
    size_t n = metrics_render_status_json(s, buf, sizeof buf);
    free(s);
    if (n >= sizeof buf)
        return;
    MQTTAsync_message m = MQTTAsync_message_initializer;
    m.payload = buf;
    m.payloadlen = (int)n;
    m.qos = 1;
    m.retained = 1;
    int rc = MQTTAsync_sendMessage(gw->local.client, gw->cfg->status_topic, &m, NULL);
    if (rc != MQTTASYNC_SUCCESS)
        fg_debug("local", "status not published: %s", MQTTAsync_strerror(rc));
}

static const char *reason_text(const char *code)
{
    return !strcmp(code, "upstream-down")         ? "the upstream broker is not connected"
           : !strcmp(code, "upstream-stalled")    ? "the upstream broker acknowledges nothing"
           : !strcmp(code, "inputs-paused-full")  ? "inputs paused: the outbox is full"
           : !strcmp(code, "inputs-paused-write") ? "inputs paused: the outbox cannot be written"
           : !strcmp(code, "inputs-paused-disk")  ? "inputs paused: the disk is nearly full"
           : !strcmp(code, "quarantined")         ? "messages the upstream refused are in "
                                                    "quarantine (fairgate outbox list)"
                                                  : code;
}

void gw_check_state(struct gateway *gw)
{
    struct outbox_stats os;
    char codes[METRICS_MAX_DEGRADED][32], text[256] = "";
    outbox_get_stats(gw->outbox, &os);
    size_t n = degraded_reasons(gw, &os, codes), o = 0;
    for (size_t i = 0; i < n && o < sizeof text; i++)
        o += (size_t)snprintf(text + o, sizeof text - o, "%s%s", i ? "; " : "",
                              reason_text(codes[i]));
    if (!strcmp(text, gw->state_text))
        return;
    if (*text)
        fg_warn("status", "degraded: %s", text);
    else
        fg_info("status", "ok again (was degraded: %s)", gw->state_text);
    snprintf(gw->state_text, sizeof gw->state_text, "%s", text);
    gw_publish_status(gw);
}
