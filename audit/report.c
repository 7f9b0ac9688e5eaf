/* The works council report: one self-contained HTML file (inline CSS and SVG, no
 * scripts, no external assets) so it can be mailed, printed and archived as is. */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fg_util.h"
#include "audit/audit.h"

/* A tiny ordered tally; report cardinalities are small (categories, routes, days). */
struct tally_item {
    char *key, *extra;
    double n;
};

struct tally {
    struct tally_item *v;
    size_t n, cap;
};

static bool tally_add(struct tally *t, const char *key, double n, const char *extra)
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

static void tally_free(struct tally *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->v[i].key);
        free(t->v[i].extra);
    }
    free(t->v);
}

static int by_count(const void *a, const void *b)
{
    const struct tally_item *x = a, *y = b;
    return x->n < y->n ? 1 : x->n > y->n ? -1 : strcmp(x->key, y->key);
}

static int by_key(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void esc(FILE *f, const char *s)
{
    fg_fputs_html(f, s);
}

static const char *str(const cJSON *o, const char *k)
{
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
    return s ? s : "";
}

static double num(const cJSON *o, const char *k)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(j) ? j->valuedouble : 0;
}

/* Horizontal bars, plus a table carrying the exact numbers (data-* for tests). */
static void bars(FILE *f, const char *title, const char *attr, struct tally *t, bool sort_count)
{
    if (sort_count && t->n)
        qsort(t->v, t->n, sizeof *t->v, by_count);
    fprintf(f, "<h2>%s</h2>\n", title);
    if (t->n == 0) {
        fputs("<p class=\"muted\">none in this period</p>\n", f);
        return;
    }
    double max = 1;
    for (size_t i = 0; i < t->n; i++)
        max = t->v[i].n > max ? t->v[i].n : max;
    /* the label column fits the longest label (about 7 px a character, at most
     * 56 characters shown; the table below has the full text) */
    size_t longest = 0;
    for (size_t i = 0; i < t->n; i++)
        longest = strlen(t->v[i].key) > longest ? strlen(t->v[i].key) : longest;
    longest = longest > 56 ? 56 : longest;
    const int row = 22, width = 420,
              label = (int)longest * 7 + 20 < 120 ? 120 : (int)longest * 7 + 20;
    fprintf(f,
            "<svg class=\"chart\" role=\"img\" aria-label=\"%s\" width=\"%d\" height=\"%zu\" "
            "viewBox=\"0 0 %d %zu\" xmlns=\"http://www.w3.org/2000/svg\">\n",
            title, label + width + 80, t->n * row + 4, label + width + 80, t->n * row + 4);
    for (size_t i = 0; i < t->n; i++) {
        double w = t->v[i].n / max * width;
        fprintf(f, "<text x=\"%d\" y=\"%zu\" text-anchor=\"end\">", label - 8, i * row + 16);
        if (strlen(t->v[i].key) > 56) {
            char cut[64];
            snprintf(cut, sizeof cut, "%.53s...", t->v[i].key);
            esc(f, cut);
        } else
            esc(f, t->v[i].key);
        fprintf(f,
                "</text><rect x=\"%d\" y=\"%zu\" width=\"%.1f\" height=\"%d\" rx=\"2\"/>"
                "<text x=\"%.1f\" y=\"%zu\">%.0f</text>\n",
                label, i * row + 4, w < 1 ? 1 : w, row - 6, label + (w < 1 ? 1 : w) + 6,
                i * row + 16, t->v[i].n);
    }
    fputs("</svg>\n<table><tr><th>", f);
    fputs(attr, f);
    fputs("</th><th class=\"num\">messages</th>", f);
    bool extra = false;
    for (size_t i = 0; i < t->n; i++)
        extra |= t->v[i].extra != NULL;
    if (extra)
        fputs("<th>details</th>", f);
    fputs("</tr>\n", f);
    for (size_t i = 0; i < t->n; i++) {
        fprintf(f, "<tr data-%s=\"", attr);
        esc(f, t->v[i].key);
        fprintf(f, "\" data-count=\"%.0f\"><td>", t->v[i].n);
        esc(f, t->v[i].key);
        fprintf(f, "</td><td class=\"num\">%.0f</td>", t->v[i].n);
        if (extra) {
            fputs("<td>", f);
            esc(f, t->v[i].extra);
            fputs("</td>", f);
        }
        fputs("</tr>\n", f);
    }
    fputs("</table>\n", f);
}

static void event_table(FILE *f, const char *title, cJSON *evs, const char *none)
{
    fprintf(f, "<h2>%s</h2>\n", title);
    if (cJSON_GetArraySize(evs) == 0) {
        fprintf(f, "<p class=\"muted\">%s</p>\n", none);
        return;
    }
    fputs("<table><tr><th>seq</th><th>time (UTC)</th><th>actor</th><th>action</th>"
          "<th>details</th></tr>\n",
          f);
    const cJSON *ev;
    cJSON_ArrayForEach(ev, evs)
    {
        fprintf(f, "<tr><td class=\"num\">%.0f</td><td>", num(ev, "seq"));
        esc(f, str(ev, "time"));
        fputs("</td><td>", f);
        esc(f, str(ev, "actor"));
        fputs("</td><td>", f);
        esc(f, str(ev, "action"));
        fputs("</td><td>", f);
        const cJSON *c;
        bool firstc = true;
        cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(ev, "object"))
        {
            if (strcmp(c->string, "digest") == 0 || strcmp(c->string, "sig") == 0)
                continue;
            fputs(firstc ? "" : "; ", f);
            firstc = false;
            fputs("<b>", f);
            esc(f, c->string);
            fputs("</b>: ", f);
            if (cJSON_IsString(c)) {
                esc(f, c->valuestring);
            } else if (cJSON_IsArray(c)) {
                const cJSON *x;
                bool fx = true;
                cJSON_ArrayForEach(x, c)
                {
                    fputs(fx ? "" : ", ", f);
                    fx = false;
                    if (cJSON_IsString(x)) {
                        esc(f, x->valuestring);
                    } else {
                        /* signers may be objects: {role, key} */
                        const char *role = str(x, "role");
                        char *p = role[0] ? NULL : cJSON_PrintUnformatted(x);
                        esc(f, role[0] ? role : p);
                        free(p);
                    }
                }
            } else {
                char *p = cJSON_PrintUnformatted(c);
                esc(f, p);
                free(p);
            }
        }
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n", f);
}

static const char css[] =
    "body{font:15px/1.45 system-ui,sans-serif;margin:2em auto;max-width:60em;color:#1d2430;"
    "padding:0 1em}h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.2em;margin-top:1.8em;"
    "border-bottom:1px solid #ccd;padding-bottom:.2em}table{border-collapse:collapse;"
    "margin:.6em 0;width:100%}th,td{text-align:left;padding:.25em .6em;border-bottom:1px solid "
    "#e3e6ee;vertical-align:top}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}"
    ".ok{background:#e4f6e7;border:1px solid #3a8f4b;padding:.7em 1em;border-radius:6px}"
    ".bad{background:#fbe6e6;border:1px solid #b3261e;padding:.7em 1em;border-radius:6px}"
    ".muted{color:#667}svg.chart text{font:12px system-ui,sans-serif;fill:#1d2430}"
    "svg.chart rect{fill:#3b6fb6}.summary td{border:none}"
    "@media print{body{margin:0}h2{break-after:avoid}}";

fg_err audit_report_html(const struct audit_report_options *o, char *why, size_t why_len)
{
    /* The figures come from the very bytes that were verified, not a second read. */
    struct audit_verify_result vr;
    char *buf;
    size_t len;
    fg_err e = audit_verify_file_text(o->log_path, o->pubkey, o->witness_path, &vr, &buf, &len);
    if (e != FG_OK) {
        snprintf(why, why_len, "cannot read %s%s%s: %s", o->log_path, o->witness_path ? " or " : "",
                 o->witness_path ? o->witness_path : "", fg_strerror(e));
        return e;
    }
    int64_t gap_ms = o->gap_ms > 0 ? o->gap_ms : 3600000;
    struct tally cats = {0}, dests = {0}, purposes = {0}, days = {0}, routes = {0};
    cJSON *policy = cJSON_CreateArray(), *reid = cJSON_CreateArray(), *purges = cJSON_CreateArray(),
          *keys = cJSON_CreateArray(), *reads = cJSON_CreateArray(), *other = cJSON_CreateArray(),
          *gaps = cJSON_CreateArray();
    double total = 0, purged = 0, rejected = 0;
    int64_t first_ms = 0, last_ms = 0, prev_ms = 0;
    bool stopped = true, any = false, started_once = false;
    for (char *p = buf, *end = buf + len; p < end;) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        cJSON *ev = audit_parse_line(p, n);
        p += n + 1;
        if (!ev)
            continue;
        const char *act = str(ev, "action"), *t = str(ev, "time");
        const cJSON *ob = cJSON_GetObjectItemCaseSensitive(ev, "object");
        int64_t ms = 0;
        fg_parse_time(t, strlen(t), &ms);
        if (!any)
            first_ms = ms;
        if (any && ms - prev_ms > gap_ms) {
            char a[32], b[32], d[96];
            fg_format_time(prev_ms, a, sizeof a);
            fg_format_time(ms, b, sizeof b);
            snprintf(d, sizeof d, "%.1f h without events", (double)(ms - prev_ms) / 3600000.0);
            cJSON *g = cJSON_CreateObject();
            cJSON_AddStringToObject(g, "from", a);
            cJSON_AddStringToObject(g, "to", b);
            cJSON_AddStringToObject(g, "what", d);
            cJSON_AddItemToArray(gaps, g);
        }
        if (strcmp(act, "gateway.start") == 0) {
            if (started_once) {
                char a[32];
                fg_format_time(prev_ms, a, sizeof a);
                cJSON *g = cJSON_CreateObject();
                cJSON_AddStringToObject(g, "from", a);
                cJSON_AddStringToObject(g, "to", t);
                cJSON_AddStringToObject(g, "what",
                                        stopped ? "gateway stopped and started"
                                                : "restart without a gateway.stop (crash or "
                                                  "power loss)");
                cJSON_AddItemToArray(gaps, g);
            }
            stopped = false;
            started_once = true;
        } else if (strcmp(act, "gateway.stop") == 0) {
            stopped = true;
        }
        any = true;
        prev_ms = ms;
        last_ms = ms;
        cJSON *keep = NULL;
        if (strcmp(act, "flow.summary") == 0) {
            double c = num(ob, "count");
            total += c;
            const cJSON *x;
            char catlist[512] = "";
            cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(ob, "categories"))
            {
                if (!cJSON_IsString(x))
                    continue;
                tally_add(&cats, x->valuestring, c, NULL);
                if (strlen(catlist) + strlen(x->valuestring) + 3 < sizeof catlist) {
                    if (catlist[0])
                        strcat(catlist, ", ");
                    strcat(catlist, x->valuestring);
                }
            }
            char extra[1024];
            snprintf(extra, sizeof extra, "to %s for %s; categories: %s", str(ob, "destination"),
                     str(ob, "purpose"), catlist);
            tally_add(&routes, str(ob, "route")[0] ? str(ob, "route") : "(unnamed)", c, extra);
            tally_add(&dests, str(ob, "destination")[0] ? str(ob, "destination") : "(none)", c,
                      NULL);
            tally_add(&purposes, str(ob, "purpose")[0] ? str(ob, "purpose") : "(none)", c, NULL);
            char day[11];
            snprintf(day, sizeof day, "%.10s", t);
            tally_add(&days, day, c, NULL);
        } else if (strncmp(act, "policy.", 7) == 0 || strcmp(act, "config.changed") == 0) {
            keep = policy;
        } else if (strcmp(act, "reidentify") == 0 || strcmp(act, "subject_report") == 0) {
            keep = reid;
        } else if (strcmp(act, "outbox.purged") == 0) {
            purged += num(ob, "count");
            keep = purges;
        } else if (strncmp(act, "pseudonym.", 10) == 0) {
            keep = keys;
        } else if (strncmp(act, "audit.", 6) == 0) {
            keep = reads;
        } else if (strcmp(act, "input.rejected") == 0) {
            rejected += num(ob, "count");
        } else if (strcmp(act, "upstream.lost") == 0 || strcmp(act, "upstream.connected") == 0 ||
                   strcmp(act, "gateway.start") == 0 || strcmp(act, "gateway.stop") == 0) {
            keep = other;
        }
        if (keep)
            cJSON_AddItemToArray(keep, ev);
        else
            cJSON_Delete(ev);
    }
    cJSON *weak = audit_weakenings_collect(buf, len); /* issue 14 */
    free(buf);
    /* Days in calendar order. */
    if (days.n) /* qsort(NULL, 0) is undefined: a log without flows has no days */
        qsort(days.v, days.n, sizeof *days.v, by_key);

    FILE *f = fopen(o->out_path, "w");
    if (!f) {
        snprintf(why, why_len, "cannot write %s: %s", o->out_path, strerror(errno));
        e = FG_ERR_IO;
        goto out;
    }
    char a[32], b[32], now[32], fp[32];
    fg_format_time(first_ms, a, sizeof a);
    fg_format_time(last_ms, b, sizeof b);
    fg_format_time(fg_now_ms(), now, sizeof now);
    audit_fingerprint(o->pubkey, fp, sizeof fp);
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
          "<meta name=\"viewport\" content=\"width=device-width\">"
          "<title>fairgate audit report</title><style>",
          f);
    fputs(css, f);
    fputs("</style></head><body>\n<h1>What left the site: audit report</h1>\n", f);
    audit_weakenings_html(f, weak); /* issue 14: weakenings in red, on top */
    fputs("<table class=\"summary\"><tr><td>log</td><td>", f);
    esc(f, o->log_path);
    fprintf(f,
            "</td></tr><tr><td>period (UTC)</td><td>%s &ndash; %s</td></tr>"
            "<tr><td>generated</td><td>%s</td></tr><tr><td>first key fingerprint</td>"
            "<td><code>%s</code></td></tr></table>\n",
            a, b, now, fp);
    if (vr.ok) {
        fprintf(f,
                "<p class=\"ok\" id=\"verification\" data-ok=\"1\"><b>Verification passed.</b> "
                "%zu events, %zu signed checkpoints, %zu key hand-overs, all from the first "
                "key above.%s%s",
                vr.events, vr.checkpoints, vr.handovers,
                !o->witness_path     ? " No witness file given."
                : vr.witness_checked ? " The log extends the witnessed checkpoint."
                                     : " The witnessed checkpoint lies in the pruned part; it "
                                       "was not compared.",
                vr.anchored ? " Older events were pruned; the anchor verifies." : "");
        if (vr.unsealed)
            fprintf(f,
                    " <b>%zu newest line(s), written since %s, are not yet sealed</b> by a "
                    "checkpoint (the last one is from %s); anyone with the file could still "
                    "change them.",
                    vr.unsealed, vr.unsealed_since, vr.last_seal_time[0] ? vr.last_seal_time : "-");
        fputs("</p>\n", f);
    } else {
        fprintf(f,
                "<p class=\"bad\" id=\"verification\" data-ok=\"0\"><b>Verification FAILED</b> at "
                "line %zu: %s. ",
                vr.bad_line, audit_damage_str(vr.damage));
        esc(f, vr.detail);
        fputs(" The figures below come from the readable lines and cannot be trusted.</p>\n", f);
    }
    fprintf(f,
            "<p>%.0f messages left the site in this period; %.0f were deleted unsent when "
            "their retention ended; %.0f inputs were rejected.</p>\n",
            total, purged, rejected);
    bars(f, "Data categories that left the site", "category", &cats, true);
    bars(f, "Destinations", "destination", &dests, true);
    bars(f, "Purposes", "purpose", &purposes, true);
    bars(f, "Routes", "route", &routes, true);
    bars(f, "Messages per day", "day", &days, false);
    event_table(f, "Policy changes and their signers", policy, "no policy changes");
    event_table(f, "Re-identifications and subject reports", reid,
                "no re-identification in this period");
    event_table(f, "Retention deletions", purges, "no deletions");
    event_table(f, "Pseudonym key rotation and destruction", keys, "none");
    fputs("<h2>Gaps in the log</h2>\n", f);
    if (cJSON_GetArraySize(gaps) == 0) {
        fprintf(f, "<p class=\"muted\">no silence longer than %.1f h, no unclean restart</p>\n",
                (double)gap_ms / 3600000.0);
    } else {
        fputs("<table><tr><th>from</th><th>to</th><th>what</th></tr>\n", f);
        const cJSON *g;
        cJSON_ArrayForEach(g, gaps)
        {
            fprintf(f, "<tr class=\"gap\"><td>%s</td><td>", str(g, "from"));
            esc(f, str(g, "to"));
            fprintf(f, "</td><td>%s</td></tr>\n", str(g, "what"));
        }
        fputs("</table>\n", f);
    }
    event_table(f, "Gateway starts, stops and upstream connection", other, "none");
    event_table(f, "Reads and exports of this log", reads, "none");
    fputs("<p class=\"muted\">Produced by <code>fairgate audit report</code>. Check it "
          "yourself: <code>fairgate audit verify LOG --key FIRST_KEY --witness "
          "WITNESS</code>.</p>\n</body></html>\n",
          f);
    if (fclose(f) != 0) {
        snprintf(why, why_len, "cannot write %s", o->out_path);
        e = FG_ERR_IO;
    }
out:
    tally_free(&cats);
    tally_free(&dests);
    tally_free(&purposes);
    tally_free(&days);
    tally_free(&routes);
    cJSON_Delete(policy);
    cJSON_Delete(reid);
    cJSON_Delete(purges);
    cJSON_Delete(keys);
    cJSON_Delete(reads);
    cJSON_Delete(other);
    cJSON_Delete(gaps);
    cJSON_Delete(weak);
    return e;
}
