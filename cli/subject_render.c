/* The subject report as the worker reads it: per pseudonym period (dates, not
 * epoch numbers) what left the site, who re-identified them and why, and the
 * bounds of the report (an upper bound; nothing before the kept periods). */
#include <stdarg.h>
#include <string.h>

#include "common/fg_util.h"
#include "cli/subject_report.h"

static void say(FILE *f, bool html, fg_lang l, const char *key, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, key);
    vsnprintf(buf, sizeof buf, fg_tr(l, key), ap);
    va_end(ap);
    if (html)
        fg_fputs_html(f, buf);
    else
        fputs(buf, f);
}

static void period(const struct subject_report *r, size_t k, char *from, char *to, size_t len)
{
    const struct reident_hit *h = &r->hits[k];
    int64_t start = r->rotate_ms ? h->epoch * r->rotate_ms : h->first_seen_ms;
    if (h->first_seen_ms > start)
        start = h->first_seen_ms;
    fg_i18n_date(r->lang, start, true, from, len);
    if (r->rotate_ms)
        fg_i18n_date(r->lang, (h->epoch + 1) * r->rotate_ms, true, to, len);
    else
        snprintf(to, len, "?");
}

static void outcome(const struct subject_report *r, const char *result, char *buf, size_t len)
{
    const char *k = !strncmp(result, "revealed", 8)           ? "res.revealed"
                    : strstr(result, "not the works council") ? "res.not_council"
                    : strstr(result, "cannot be read")        ? "res.unreadable_key"
                    : !strncmp(result, "not found", 9)        ? "res.not_found"
                                                              : NULL;
    snprintf(buf, len, "%s", k ? fg_tr(r->lang, k) : result);
}

static const char *who(fg_lang l, const char *actor, char *k, size_t len)
{
    snprintf(k, len, "actor.%s", actor);
    const char *t = fg_tr(l, k);
    return t == k ? actor : t;
}

static void bounds(FILE *f, bool html, const struct subject_report *r)
{
    char keep[64];
    fg_lang l = r->lang;
    if (r->keep_keys_ms)
        fg_i18n_duration(l, r->keep_keys_ms, keep, sizeof keep);
    else
        snprintf(keep, sizeof keep, "keep_keys");
    say(f, html, l, "sr.bounds.upper");
    fputs(html ? "</p><p>" : "\n", f);
    say(f, html, l, "sr.bounds.kept", keep);
    fputs(html ? "</p><p>" : "\n", f);
    say(f, html, l, "sr.bounds.contest");
}

/* Flow i when it belongs to hit h, with its period (from, to: 64 bytes each) and its
 * message count (32 bytes) in the report's language; NULL for another hit's flow. */
static const struct subject_flow *flow_of(const struct subject_report *r, size_t i, size_t h,
                                          char from[64], char to[64], char count[32])
{
    const struct subject_flow *fl = &r->flows[i];
    if (fl->hit != h)
        return NULL;
    fg_i18n_date(r->lang, fl->since_ms, true, from, 64);
    fg_i18n_date(r->lang, fl->until_ms, true, to, 64);
    fg_i18n_count(r->lang, fl->count, count, 32);
    return fl;
}

/* Re-identification i when it belongs to hit h, with its date (64 bytes), who asked (*by,
 * worded in key: 96 bytes) and its outcome (256 bytes) in the report's language; NULL for
 * another hit's. */
static const struct subject_reid *reid_of(const struct subject_report *r, size_t i, size_t h,
                                          char when[64], const char **by, char key[96],
                                          char res[256])
{
    const struct subject_reid *rd = &r->reids[i];
    if (rd->hit != h)
        return NULL;
    fg_i18n_date(r->lang, rd->when_ms, true, when, 64);
    outcome(r, rd->result, res, 256);
    *by = who(r->lang, rd->actor, key, 96);
    return rd;
}

void subject_write_text(FILE *f, const struct subject_report *r)
{
    fg_lang l = r->lang;
    char a[64], b[64], k[96], n[32], res[256];
    say(f, false, l, "sr.title");
    fputs("\n\n", f);
    say(f, false, l, "sr.intro");
    fputs("\n\n", f);
    if (!r->nhits) {
        say(f, false, l, "sr.none");
        fputs("\n\n", f);
    }
    for (size_t h = 0; h < r->nhits; h++) {
        period(r, h, a, b, sizeof a);
        say(f, false, l, "sr.period", r->hits[h].route, a, b);
        fputs("\n  ", f);
        say(f, false, l, "sr.pseudonym", r->hits[h].pseudonym);
        fputs("\n", f);
        bool any = false;
        for (size_t i = 0; i < r->nflows; i++) {
            const struct subject_flow *fl = flow_of(r, i, h, a, b, n);
            if (!fl)
                continue;
            any = true;
            fputs("  - ", f);
            say(f, false, l, "sr.flow", a, b, n, fl->destination, fl->purpose, fl->categories);
            fputs("\n", f);
        }
        if (!any) {
            fputs("  - ", f);
            say(f, false, l, "sr.noflow");
            fputs("\n", f);
        }
        for (size_t i = 0; i < r->nreids; i++) {
            const char *by;
            const struct subject_reid *rd = reid_of(r, i, h, a, &by, k, res);
            if (!rd)
                continue;
            fputs("  ! ", f);
            say(f, false, l, "sr.reid", a, by, rd->reason, res);
            fputs("\n", f);
        }
        fputs("\n", f);
    }
    bounds(f, false, r);
    fputs("\n", f);
}

static const char css[] =
    "body{font:15px/1.45 system-ui,'DejaVu Sans',sans-serif;margin:2em auto;max-width:52em;"
    "padding:0 1em;color:#1d2430}table{border-collapse:collapse;width:100%;table-layout:fixed}"
    "td,th{border-bottom:1px solid #dde;padding:.3em .5em;text-align:left;vertical-align:top;"
    "overflow-wrap:anywhere}th{background:#eef}td.num{text-align:right}code{word-break:break-all}"
    "p,h2{overflow-wrap:anywhere}.reid.refused{background:#fbe6e6;border-left-color:#b3261e}"
    ".reid{background:#fff4d6;border-left:4px solid #a16207;padding:.5em .8em;margin:.5em 0}"
    ".bounds{background:#eef3fb;border:1px solid #3b6fb6;padding:.6em 1em;border-radius:6px}"
    "@page{size:A4;margin:15mm}@media print{body{margin:0;max-width:none}h2{break-after:avoid}"
    "tr{break-inside:avoid}}";

static void html_period(FILE *f, const struct subject_report *r, size_t h)
{
    fg_lang l = r->lang;
    char a[64], b[64], n[32], k[96], res[256];
    period(r, h, a, b, sizeof a);
    fputs("<h2>", f);
    say(f, true, l, "sr.period", r->hits[h].route, a, b);
    fputs("</h2><p>", f);
    say(f, true, l, "sr.pseudonym", r->hits[h].pseudonym);
    fputs("</p>\n<table><tr><th>", f);
    say(f, true, l, "sr.col.when");
    fputs("</th><th class=\"num\">", f);
    say(f, true, l, "rp.messages");
    fputs("</th><th>", f);
    say(f, true, l, "sr.col.where");
    fputs("</th><th>", f);
    say(f, true, l, "sr.col.what");
    fputs("</th></tr>\n", f);
    bool any = false;
    for (size_t i = 0; i < r->nflows; i++) {
        const struct subject_flow *fl = flow_of(r, i, h, a, b, n);
        if (!fl)
            continue;
        any = true;
        fprintf(f, "<tr data-count=\"%.0f\"><td>%s &ndash; %s</td><td class=\"num\">%s</td><td>",
                fl->count, a, b, n);
        fg_fputs_html(f, fl->destination);
        fputs("</td><td>", f);
        say(f, true, l, "sr.flow.what", fl->purpose, fl->categories);
        fputs("</td></tr>\n", f);
    }
    if (!any) {
        fputs("<tr><td colspan=\"4\">", f);
        say(f, true, l, "sr.noflow");
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n", f);
    for (size_t i = 0; i < r->nreids; i++) {
        const char *by;
        const struct subject_reid *rd = reid_of(r, i, h, a, &by, k, res);
        if (!rd)
            continue;
        fprintf(f, "<p class=\"reid%s\" data-reid=\"1\">",
                strncmp(rd->result, "refused", 7) ? "" : " refused");
        say(f, true, l, "sr.reid", a, by, rd->reason, res);
        fputs("</p>\n", f);
    }
}

void subject_write_html(FILE *f, const struct subject_report *r)
{
    fg_lang l = r->lang;
    char now[64];
    fg_i18n_date(l, r->made_ms, true, now, sizeof now);
    fprintf(f, "<!DOCTYPE html>\n<html lang=\"%s\"><head><meta charset=\"utf-8\"><title>",
            fg_lang_code(l));
    say(f, true, l, "sr.title");
    fprintf(f, "</title><style>%s</style></head><body>\n<h1>", css);
    say(f, true, l, "sr.title");
    fputs("</h1>\n<p>", f);
    say(f, true, l, "sr.made", now);
    fputs(" ", f);
    say(f, true, l, "sr.intro");
    fputs("</p>\n", f);
    if (!r->nhits) {
        fputs("<p><b>", f);
        say(f, true, l, "sr.none");
        fputs("</b></p>\n", f);
    }
    for (size_t h = 0; h < r->nhits; h++)
        html_period(f, r, h);
    fputs("<div class=\"bounds\"><p>", f);
    bounds(f, true, r);
    fputs("</p></div>\n</body></html>\n", f);
}
