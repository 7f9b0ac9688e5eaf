/* The works council report: one self-contained HTML file (inline CSS and SVG, no
 * scripts, no external assets) so it can be mailed, printed and archived as is.
 * This file reads the verified log once and gathers the figures; report_page.c
 * writes them, report_events.c turns events into sentences. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fg_util.h"
#include "audit/report_internal.h"

bool rp_tally_add(struct rp_tally *t, const char *key, double n, const char *extra)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->v[i].key, key) == 0) {
            t->v[i].n += n;
            return true;
        }
    if (t->n == t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 16;
        void *nv = realloc(t->v, nc * sizeof *t->v);
        if (!nv)
            return false;
        t->v = nv;
        t->cap = nc;
    }
    t->v[t->n].key = strdup(key);
    t->v[t->n].extra = extra ? strdup(extra) : NULL;
    t->v[t->n].n = n;
    t->n++;
    return true;
}

const struct rp_item *rp_tally_get(const struct rp_tally *t, const char *key)
{
    for (size_t i = 0; i < t->n; i++)
        if (!strcmp(t->v[i].key, key))
            return &t->v[i];
    return NULL;
}

void rp_tally_free(struct rp_tally *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->v[i].key);
        free(t->v[i].extra);
    }
    free(t->v);
}

static void add_gap(struct rp_data *d, int64_t from, int64_t to, const char *kind)
{
    cJSON *g = cJSON_CreateObject();
    cJSON_AddNumberToObject(g, "from_ms", (double)from);
    cJSON_AddNumberToObject(g, "to_ms", (double)to);
    cJSON_AddStringToObject(g, "kind", kind);
    cJSON_AddItemToArray(d->gaps, g);
}

static void add_flow(struct rp_data *d, const cJSON *ob, const char *t)
{
    double c = rp_num(ob, "count");
    d->total += c;
    d->nflows++;
    const char *route = rp_str(ob, "route")[0] ? rp_str(ob, "route") : "?";
    const cJSON *x;
    char catlist[512] = "";
    cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(ob, "categories"))
    {
        if (!cJSON_IsString(x))
            continue;
        rp_tally_add(&d->cats, x->valuestring, c, NULL);
        if (!strstr(catlist, x->valuestring) &&
            strlen(catlist) + strlen(x->valuestring) + 3 < sizeof catlist) {
            if (catlist[0])
                strcat(catlist, " ");
            strcat(catlist, x->valuestring);
        }
    }
    /* extra: the route's purpose and categories (the first summary names them) */
    rp_tally_add(&d->routes, route, c, catlist);
    rp_tally_add(&d->dests, rp_str(ob, "destination")[0] ? rp_str(ob, "destination") : "?", c,
                 NULL);
    rp_tally_add(&d->purposes, rp_str(ob, "purpose")[0] ? rp_str(ob, "purpose") : "?", c, route);
    /* the day the messages were sent: the summary's own interval start if it has one */
    const char *since = rp_str(ob, "since");
    char day[11], rd[96];
    snprintf(day, sizeof day, "%.10s", since[0] ? since : t);
    rp_tally_add(&d->days, day, c, NULL);
    snprintf(rd, sizeof rd, "%.64s\t%s", route, day);
    rp_tally_add(&d->route_days, rd, c, NULL);
}

/* input.rejected carries {reason: n, ...}; older writers used {count, reason}. */
static void add_rejected(struct rp_data *d, const cJSON *ob)
{
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(ob, "count");
    const char *reason = rp_str(ob, "reason");
    if (cJSON_IsNumber(c) && reason[0]) {
        d->rejected_total += c->valuedouble;
        rp_tally_add(&d->rejected, reason, c->valuedouble, NULL);
        return;
    }
    const cJSON *x;
    cJSON_ArrayForEach(x, ob)
    {
        if (!cJSON_IsNumber(x) || !x->string)
            continue;
        d->rejected_total += x->valuedouble;
        rp_tally_add(&d->rejected, x->string, x->valuedouble, NULL);
    }
}

/* Restarts: downtime runs from gateway.stop (clean) or from the last event of
 * the old run (crash) to gateway.start; the new run's key hand-over and seals
 * written before gateway.start do not count as activity of the old run. */
struct run_state {
    bool started, stopped;
    int64_t stop_ms, run_last_ms, prev_ms;
    bool any;
};

static void track_time(struct rp_data *d, struct run_state *rs, const char *act, int64_t ms)
{
    int64_t gap_ms = d->opt->gap_ms > 0 ? d->opt->gap_ms : 3600000;
    if (!rs->any)
        d->first_ms = ms;
    bool start = !strcmp(act, "gateway.start");
    if (rs->any && !start && ms - rs->prev_ms > gap_ms)
        add_gap(d, rs->prev_ms, ms, "silence");
    if (start) {
        if (rs->started) {
            int64_t from = rs->stopped ? rs->stop_ms : rs->run_last_ms;
            add_gap(d, from, ms, rs->stopped ? "restart" : "crash");
        } else if (rs->any && ms - rs->prev_ms > gap_ms)
            add_gap(d, rs->prev_ms, ms, "silence");
        rs->started = true;
        rs->stopped = false;
    } else if (!strcmp(act, "gateway.stop")) {
        rs->stopped = true;
        rs->stop_ms = ms;
    }
    bool bookkeeping = !strcmp(act, "checkpoint") || !strcmp(act, "key.handover") ||
                       !strcmp(act, "audit.repaired") || !strcmp(act, "config.changed");
    if (!bookkeeping || !rs->started)
        rs->run_last_ms = ms;
    rs->any = true;
    rs->prev_ms = ms;
    d->last_ms = ms;
}

static void count_mark(struct rp_data *d, enum rp_mark m)
{
    d->nrefused += m == RP_REFUSED;
    d->nweak += m == RP_WEAKENING;
    d->nattention += m == RP_ATTENTION;
}

static void gather(struct rp_data *d, char *buf, size_t len)
{
    struct run_state rs = {0};
    if (len > 10 && !strncmp(buf, "{\"anchor\":", 10)) {
        cJSON *j = cJSON_ParseWithLength(buf, strcspn(buf, "\n"));
        const char *pb = rp_str(cJSON_GetObjectItemCaseSensitive(j, "anchor"), "pruned_before");
        snprintf(d->pruned_before, sizeof d->pruned_before, "%s", pb);
        cJSON_Delete(j);
    }
    for (char *p = buf, *end = buf + len; p < end;) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        cJSON *ev = audit_parse_line(p, n);
        p += n + 1;
        if (!ev)
            continue;
        const char *act = rp_str(ev, "action"), *t = rp_str(ev, "time");
        const cJSON *ob = cJSON_GetObjectItemCaseSensitive(ev, "object");
        int64_t ms = 0;
        fg_parse_time(t, strlen(t), &ms);
        track_time(d, &rs, act, ms);
        if (!strcmp(act, "flow.summary")) {
            add_flow(d, ob, t);
            cJSON_Delete(ev);
            continue;
        }
        if (!strcmp(act, "checkpoint") || !strcmp(act, "key.handover")) {
            d->nseals += act[0] == 'c';
            d->nhandovers += act[0] == 'k';
            cJSON_Delete(ev);
            continue;
        }
        if (!strcmp(act, "input.rejected"))
            add_rejected(d, ob);
        else if (!strcmp(act, "outbox.purged")) {
            d->purged += rp_num(ob, "count");
            rp_tally_add(&d->purged_routes, rp_str(ob, "route"), rp_num(ob, "count"), NULL);
        } else if (!strcmp(act, "reidentify"))
            d->nreid++;
        else if (!strcmp(act, "subject_report"))
            d->nsubject++;
        else if (!strncmp(act, "audit.", 6))
            d->nreads++;
        count_mark(d, rp_mark_of(act, ob));
        cJSON_AddItemToArray(d->events, ev);
    }
}

static int by_key(const void *a, const void *b)
{
    return strcmp(((const struct rp_item *)a)->key, ((const struct rp_item *)b)->key);
}

/* A log the daemon is appending to: the line being written is not read yet. */
static fg_err verify_live(const struct audit_report_options *o, struct audit_verify_result *vr,
                          char **buf, size_t *len)
{
    char *w = NULL;
    fg_err e = fg_read_file(o->log_path, (size_t)1 << 34, buf, len);
    if (e != FG_OK)
        return e;
    while (*len && (*buf)[*len - 1] != '\n')
        (*len)--;
    (*buf)[*len] = '\0';
    if (o->witness_path && (e = fg_read_file(o->witness_path, 65536, &w, NULL)) != FG_OK) {
        free(*buf);
        return e;
    }
    e = audit_verify_buffer(*buf, *len, o->pubkey, w, vr);
    free(w);
    if (e != FG_OK)
        free(*buf);
    return e;
}

fg_err audit_report_html(const struct audit_report_options *o, char *why, size_t why_len)
{
    /* The figures come from the very bytes that were verified, not a second read. */
    struct audit_verify_result vr;
    char *buf;
    size_t len;
    fg_err e =
        o->live ? verify_live(o, &vr, &buf, &len)
                : audit_verify_file_text(o->log_path, o->pubkey, o->witness_path, &vr, &buf, &len);
    if (e != FG_OK) {
        snprintf(why, why_len, "cannot read %s%s%s: %s", o->log_path, o->witness_path ? " or " : "",
                 o->witness_path ? o->witness_path : "", fg_strerror(e));
        return e;
    }
    if (o->result)
        *o->result = vr;
    struct rp_data d = {.lang = o->lang, .opt = o, .vr = &vr};
    d.events = cJSON_CreateArray();
    d.gaps = cJSON_CreateArray();
    gather(&d, buf, len);
    d.weak = audit_weakenings_collect(buf, len); /* issue 14 */
    free(buf);
    if (d.days.n) /* qsort and memcpy want a real pointer, even for 0 items */
        qsort(d.days.v, d.days.n, sizeof *d.days.v, by_key);
    if (d.route_days.n)
        qsort(d.route_days.v, d.route_days.n, sizeof *d.route_days.v, by_key);
    FILE *f = fopen(o->out_path, "w");
    if (!f) {
        snprintf(why, why_len, "cannot write %s: %s", o->out_path, strerror(errno));
        e = FG_ERR_IO;
    } else {
        rp_write_page(f, &d);
        if (fclose(f) != 0) {
            snprintf(why, why_len, "cannot write %s", o->out_path);
            e = FG_ERR_IO;
        }
    }
    struct rp_tally *ts[] = {&d.cats,   &d.dests,      &d.purposes, &d.days,
                             &d.routes, &d.route_days, &d.rejected, &d.purged_routes};
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++)
        rp_tally_free(ts[i]);
    cJSON_Delete(d.events);
    cJSON_Delete(d.gaps);
    cJSON_Delete(d.weak);
    return e;
}

/* A catalogue sentence with its arguments, HTML-escaped as a whole. */
void rp_say(FILE *f, const struct rp_data *d, const char *key, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, key);
    vsnprintf(buf, sizeof buf, fg_tr(d->lang, key), ap);
    va_end(ap);
    fg_fputs_html(f, buf);
}
