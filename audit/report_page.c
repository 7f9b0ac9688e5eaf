/* The report's pages: first page in plain words, charts over time, then every
 * event in words. A4 print styles; long unbroken strings wrap. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/fg_util.h"
#include "audit/report_internal.h"

#define T(k) fg_tr(d->lang, k)

static void esc(FILE *f, const char *s)
{
    fg_fputs_html(f, s);
}

/* key, or key.1 (the singular) when n is 1 and the catalogue has one */
static const char *pl(const char *key, double n, char *buf, size_t len)
{
    snprintf(buf, len, "%s.1", key);
    return n == 1 && fg_tr(FG_LANG_EN, buf) != buf ? buf : key;
}

static const char *cnt(const struct rp_data *d, double n, char *buf, size_t len)
{
    fg_i18n_count(d->lang, n, buf, len);
    return buf;
}

static const char css[] =
    "body{font:15px/1.45 system-ui,'DejaVu Sans',sans-serif;margin:2em auto;max-width:60em;"
    "color:#1d2430;padding:0 1em}h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.2em;"
    "margin-top:1.6em;border-bottom:1px solid #ccd;padding-bottom:.2em}h3{font-size:1.05em}"
    "table{border-collapse:collapse;margin:.6em 0;width:100%;table-layout:fixed}"
    "th,td{text-align:left;padding:.25em .5em;border-bottom:1px solid #e3e6ee;vertical-align:top;"
    "overflow-wrap:anywhere;word-break:break-word}td.num,th.num{text-align:right;"
    "font-variant-numeric:tabular-nums}th.when{width:11em}th.who{width:10em}th.num{width:8em}"
    "p,li{overflow-wrap:anywhere}code{overflow-wrap:anywhere;word-break:break-all}"
    ".ok{background:#e4f6e7;border:1px solid #3a8f4b;padding:.7em 1em;border-radius:6px}"
    ".bad{background:#fbe6e6;border:2px solid #b3261e;padding:.7em 1em;border-radius:6px}"
    ".muted{color:#556}.brief li{margin:.35em 0}code.fp{white-space:nowrap;word-break:normal}"
    "li.refused{color:#b3261e;font-weight:600}"
    "tr.refused td{background:#fbe6e6}tr.refused td:first-child{border-left:4px solid #b3261e}"
    "tr.weakening td{background:#fde3c8;font-weight:600}"
    "tr.weakening td:first-child{border-left:4px solid #c2410c}"
    "tr.attention td{background:#fff7d6}tr.attention td:first-child{border-left:4px solid #a16207}"
    ".tag{display:inline-block;font-size:.8em;font-weight:700;padding:0 .4em;border-radius:3px;"
    "margin-right:.4em;color:#fff}.tag.refused{background:#b3261e}.tag.weakening{background:#"
    "c2410c}"
    ".tag.attention{background:#a16207}.alert{background:#fde3c8;border:2px solid #c2410c;"
    "padding:.6em 1em;border-radius:6px}"
    "svg.chart{max-width:100%;height:auto}svg.chart text{font:11px system-ui,'DejaVu Sans',"
    "sans-serif;fill:#1d2430}svg.chart rect{fill:#3b6fb6}"
    "@page{size:A4;margin:14mm 12mm}"
    "@media print{body{margin:0;max-width:none;font-size:10.5pt}.page1{break-after:page}"
    "h2,h3{break-after:avoid}tr,li,svg{break-inside:avoid}a{color:inherit}}";

static void verification(FILE *f, const struct rp_data *d)
{
    const struct audit_verify_result *vr = d->vr;
    char fp[32], a[64], n[32], k[64];
    audit_fingerprint(d->opt->pubkey, fp, sizeof fp);
    fg_i18n_date(d->lang, d->first_ms, true, a, sizeof a);
    if (!vr->ok) {
        snprintf(k, sizeof k, "damage.%s", audit_damage_str(vr->damage));
        snprintf(n, sizeof n, "%zu", vr->bad_line);
        fputs("<div class=\"bad\" id=\"verification\" data-ok=\"0\"><p><b>", f);
        rp_say(f, d, "rp.verify.bad", T(k), n);
        fputs("</b></p><p>", f);
        rp_say(f, d, "rp.verify.bad.what");
        fputs("</p><p class=\"muted\">", f);
        esc(f, vr->detail);
        fputs("</p></div>\n", f);
        return;
    }
    fputs("<div class=\"ok\" id=\"verification\" data-ok=\"1\"><p><b>", f);
    rp_say(f, d, "rp.verify.ok", a);
    fputs("</b> ", f);
    rp_say(f, d, "rp.verify.ok.key", cnt(d, (double)vr->events, n, sizeof n));
    fprintf(f, " <code class=\"fp\">%s</code>.</p><p>", fp);
    if (!d->opt->witness_path)
        rp_say(f, d, "rp.verify.no_witness");
    else if (vr->witness_checked)
        rp_say(f, d, "rp.verify.witness");
    else
        rp_say(f, d, "rp.verify.witness_pruned");
    if (d->pruned_before[0]) {
        int64_t ms;
        fputc(' ', f);
        if (fg_parse_time(d->pruned_before, strlen(d->pruned_before), &ms))
            fg_i18n_date(d->lang, ms, false, a, sizeof a);
        rp_say(f, d, "rp.verify.pruned", a);
    }
    if (vr->unsealed) {
        fputc(' ', f);
        char since[64] = "-", seal[64] = "-";
        int64_t ms;
        if (fg_parse_time(vr->unsealed_since, strlen(vr->unsealed_since), &ms))
            fg_i18n_date(d->lang, ms, true, since, sizeof since);
        if (fg_parse_time(vr->last_seal_time, strlen(vr->last_seal_time), &ms))
            fg_i18n_date(d->lang, ms, true, seal, sizeof seal);
        fputs("<b>", f);
        rp_say(f, d, "rp.verify.unsealed", cnt(d, (double)vr->unsealed, n, sizeof n), since, seal);
        fputs("</b>", f);
    }
    fputs("</p></div>\n", f);
}

static void li_open(FILE *f, const struct rp_data *d, const char *title_key)
{
    fputs("<li><b>", f);
    rp_say(f, d, title_key);
    fputs("</b> ", f);
}

static void brief_left(FILE *f, const struct rp_data *d)
{
    char a[32], b[32], c[32], k1[48];
    li_open(f, d, "rp.brief.left");
    fprintf(f, "<span data-figure=\"messages\" data-value=\"%.0f\">", d->total);
    if (d->total > 0) {
        char k[48], m[64], r[64], t[64];
        fg_trf(m, sizeof m, d->lang, pl("rp.count.messages", d->total, k, sizeof k),
               cnt(d, d->total, a, sizeof a));
        fg_trf(r, sizeof r, d->lang, pl("rp.count.routes", (double)d->routes.n, k, sizeof k),
               cnt(d, (double)d->routes.n, b, sizeof b));
        fg_trf(t, sizeof t, d->lang, pl("rp.count.destinations", (double)d->dests.n, k, sizeof k),
               cnt(d, (double)d->dests.n, c, sizeof c));
        rp_say(f, d, "rp.brief.left.n", m, r, t);
    } else
        rp_say(f, d, "rp.brief.left.none");
    fputs("</span>", f);
    if (d->purged > 0) {
        fprintf(f, " <span data-figure=\"purged\" data-value=\"%.0f\">", d->purged);
        rp_say(f, d, pl("rp.brief.purged", d->purged, k1, sizeof k1),
               cnt(d, d->purged, a, sizeof a));
        fputs("</span>", f);
    }
    fputs("</li>\n", f);
    if (d->purposes.n) {
        li_open(f, d, "rp.brief.purposes");
        fputs("<ul>", f);
        for (size_t i = 0; i < d->purposes.n; i++) {
            fputs("<li>", f);
            rp_say(f, d, "rp.brief.purpose", d->purposes.v[i].key, d->purposes.v[i].extra,
                   cnt(d, d->purposes.v[i].n, a, sizeof a));
            fputs("</li>", f);
        }
        fputs("</ul></li>\n", f);
    }
    li_open(f, d, "rp.brief.coarse");
    if (!d->routes.n)
        rp_say(f, d, "rp.brief.none");
    const cJSON *coarse = cJSON_GetObjectItemCaseSensitive(d->opt->coarse, fg_lang_code(d->lang));
    fputs("<ul>", f);
    for (size_t i = 0; i < d->routes.n; i++) {
        /* extra holds the route's categories, space-separated */
        cJSON *arr = cJSON_CreateArray();
        char *cats = strdup(d->routes.v[i].extra ? d->routes.v[i].extra : ""), *save = NULL;
        for (char *t = cats ? strtok_r(cats, " ", &save) : NULL; t; t = strtok_r(NULL, " ", &save))
            cJSON_AddItemToArray(arr, cJSON_CreateString(t));
        char list[512];
        rp_join(d->lang, arr, true, list, sizeof list);
        const char *how = rp_str(coarse, d->routes.v[i].key);
        fputs("<li>", f);
        rp_say(f, d, how[0] ? "rp.brief.route_how" : "rp.brief.route_cats", d->routes.v[i].key,
               list, how);
        fputs("</li>", f);
        free(cats);
        cJSON_Delete(arr);
    }
    fputs("</ul>", f);
    if (!coarse) {
        rp_say(f, d, "rp.brief.coarse.how");
    }
    fputs("</li>\n", f);
}

/* Events of one kind as a nested list of sentences. */
static void list_events(FILE *f, const struct rp_data *d, const char *const *actions,
                        enum rp_mark only, bool any_mark, const char *skip)
{
    const cJSON *ev;
    fputs("<ul>", f);
    cJSON_ArrayForEach(ev, d->events)
    {
        const char *act = rp_str(ev, "action");
        enum rp_mark m = rp_mark_of(act, cJSON_GetObjectItemCaseSensitive(ev, "object"));
        bool hit = any_mark ? m == only : false;
        for (size_t i = 0; actions && actions[i]; i++)
            hit = hit || !strcmp(act, actions[i]);
        if (!hit || (skip && !strcmp(act, skip)))
            continue;
        char when[64], s[2048];
        const char *t = rp_str(ev, "time");
        int64_t ms = 0;
        fg_parse_time(t, strlen(t), &ms);
        fg_i18n_date(d->lang, ms, true, when, sizeof when);
        rp_event_sentence(d->lang, ev, s, sizeof s);
        fprintf(f, "<li%s>%s: ", m == RP_REFUSED ? " class=\"refused\"" : "", when);
        esc(f, s);
        fputs("</li>", f);
    }
    fputs("</ul>", f);
}

static void gap_sentence(FILE *f, const struct rp_data *d, const cJSON *g)
{
    char a[64], b[64], h[32];
    int64_t from = (int64_t)rp_num(g, "from_ms"), to = (int64_t)rp_num(g, "to_ms");
    fg_i18n_date(d->lang, from, true, a, sizeof a);
    fg_i18n_date(d->lang, to, true, b, sizeof b);
    double mins = (double)(to - from) / 60000.0;
    if (mins < 2)
        snprintf(h, sizeof h, "%.0f s", mins * 60);
    else if (mins < 120)
        snprintf(h, sizeof h, "%.0f min", mins);
    else
        snprintf(h, sizeof h, "%.1f h", mins / 60);
    char k[48];
    snprintf(k, sizeof k, "rp.gap.%s", rp_str(g, "kind"));
    fprintf(f, "<li data-gap=\"%s\" data-gap-ms=\"%lld\">", rp_str(g, "kind"),
            (long long)(to - from));
    rp_say(f, d, k, a, b, h);
    fputs("</li>", f);
}

static void brief_people(FILE *f, const struct rp_data *d)
{
    static const char *const looks[] = {"reidentify", "subject_report", NULL};
    char a[32], b[32], k1[48];
    li_open(f, d, "rp.brief.looked");
    if (!d->nreid && !d->nsubject)
        rp_say(f, d, "rp.brief.looked.none");
    else
        list_events(f, d, looks, RP_PLAIN, false, NULL);
    if (d->nreads) {
        fputs(" ", f);
        rp_say(f, d, pl("rp.brief.reads", (double)d->nreads, k1, sizeof k1),
               cnt(d, (double)d->nreads, a, sizeof a));
    }
    fputs("</li>\n", f);
    li_open(f, d, "rp.brief.refused");
    fprintf(f, "<span data-figure=\"rejected\" data-value=\"%.0f\">", d->rejected_total);
    rp_say(f, d, pl("rp.brief.rejected", d->rejected_total, k1, sizeof k1),
           cnt(d, d->rejected_total, a, sizeof a));
    fputs("</span>", f);
    if (d->rejected.n) {
        fputs(" (", f);
        for (size_t i = 0; i < d->rejected.n; i++) {
            char k[96];
            snprintf(k, sizeof k, "reject.%s", d->rejected.v[i].key);
            const char *t = fg_tr(d->lang, k);
            fprintf(f, "%s<span data-reason=\"", i ? "; " : "");
            esc(f, d->rejected.v[i].key);
            fprintf(f, "\" data-count=\"%.0f\">%s ", d->rejected.v[i].n,
                    cnt(d, d->rejected.v[i].n, b, sizeof b));
            esc(f, t == k ? d->rejected.v[i].key : t);
            fputs("</span>", f);
        }
        fputs(")", f);
    }
    fputs(". ", f);
    if (d->nrefused) {
        fprintf(f, "<span data-figure=\"refused\" data-value=\"%zu\">", d->nrefused);
        rp_say(f, d, pl("rp.brief.refused.n", (double)d->nrefused, k1, sizeof k1),
               cnt(d, (double)d->nrefused, a, sizeof a));
        fputs("</span>", f);
        list_events(f, d, NULL, RP_REFUSED, true, NULL);
    } else
        rp_say(f, d, "rp.brief.refused.none");
    fputs("</li>\n", f);
}

static void brief_weak(FILE *f, const struct rp_data *d)
{
    const cJSON *g, *w;
    /* in force at the last start (trust.weakened, issue 14), plus weakening events
     * that are not repeated at every start (a policy without the council's signature) */
    size_t other = 0, inforce = (size_t)cJSON_GetArraySize(d->weak);
    cJSON_ArrayForEach(g, d->events) other +=
        strcmp(rp_str(g, "action"), "trust.weakened") &&
        rp_mark_of(rp_str(g, "action"), cJSON_GetObjectItemCaseSensitive(g, "object")) ==
            RP_WEAKENING;
    fputs(inforce + other ? "<li class=\"alert\"><b>" : "<li><b>", f);
    rp_say(f, d, "rp.brief.weak");
    fputs("</b> ", f);
    fprintf(f, "<span data-figure=\"weakenings\" data-value=\"%zu\">", inforce + other);
    if (d->weak) {
        fprintf(f, "<span id=\"weakenings\" data-count=\"%zu\">", inforce);
        if (inforce) {
            rp_say(f, d, "rp.brief.weak.inforce");
            fputs("<ul>", f);
            cJSON_ArrayForEach(w, d->weak)
            {
                char s[1024], when[64];
                int64_t ms = 0;
                const char *t = rp_str(w, "since");
                fg_parse_time(t, strlen(t), &ms);
                fg_i18n_date(d->lang, ms, true, when, sizeof when);
                rp_weakening_sentence(d->lang, w, s, sizeof s);
                fprintf(f, "<li data-kind=\"");
                esc(f, rp_str(w, "kind"));
                fprintf(f, "\">");
                esc(f, s);
                fputs(" ", f);
                rp_say(f, d, "rp.brief.weak.since", when);
                fputs("</li>", f);
            }
            fputs("</ul>", f);
        } else if (!other)
            rp_say(f, d, "rp.brief.weak.none_trust");
        fputs("</span>", f);
    }
    if (other)
        list_events(f, d, NULL, RP_WEAKENING, true, "trust.weakened");
    else if (!d->weak)
        rp_say(f, d, "rp.brief.weak.none");
    fputs("</span></li>\n", f);
    li_open(f, d, "rp.brief.gaps");
    if (!cJSON_GetArraySize(d->gaps))
        rp_say(f, d, "rp.brief.gaps.none");
    else {
        fputs("<ul>", f);
        cJSON_ArrayForEach(g, d->gaps) gap_sentence(f, d, g);
        fputs("</ul>", f);
    }
    if (d->nattention) {
        static const char *const none[] = {NULL};
        fputs(" ", f);
        rp_say(f, d, "rp.brief.attention");
        list_events(f, d, none, RP_ATTENTION, true, NULL);
    }
    fputs("</li>\n", f);
}

void rp_write_page(FILE *f, const struct rp_data *d)
{
    char a[64], b[64], now[64];
    fg_i18n_date(d->lang, d->first_ms, false, a, sizeof a);
    fg_i18n_date(d->lang, d->last_ms, false, b, sizeof b);
    fg_i18n_date(d->lang, fg_now_ms(), true, now, sizeof now);
    fprintf(f,
            "<!DOCTYPE html>\n<html lang=\"%s\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width\"><title>",
            fg_lang_code(d->lang));
    rp_say(f, d, "rp.title");
    fprintf(f, "</title><style>%s</style></head><body>\n<section class=\"page1\">\n<h1>", css);
    rp_say(f, d, "rp.title");
    fputs("</h1>\n<p class=\"muted\">", f);
    rp_say(f, d, "rp.period", a, b, now);
    fputs("</p>\n", f);
    verification(f, d);
    fputs("<h2>", f);
    rp_say(f, d, "rp.brief");
    fputs("</h2>\n<ul class=\"brief\">\n", f);
    brief_weak(f, d);
    brief_left(f, d);
    brief_people(f, d);
    fputs("</ul>\n</section>\n", f);
    rp_write_charts(f, d);
    rp_write_events(f, d);
    fputs("<p class=\"muted\">", f);
    rp_say(f, d, "rp.footer");
    fputs("</p>\n</body></html>\n", f);
}
