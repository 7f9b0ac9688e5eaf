/* The report's second part: messages per day (all routes, then route by
 * route) as inline SVG, tables with the exact numbers (data-* attributes, so
 * tests and anyone can compare them with the log), and every event in words. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/fg_util.h"
#include "audit/report_internal.h"

static void esc(FILE *f, const char *s)
{
    fg_fputs_html(f, s);
}

/* Vertical bars, one per day, labelled with the day and the count. At most 62
 * days are drawn (the table below has every day). */
static void day_chart(FILE *f, const struct rp_data *d, const struct rp_tally *days,
                      const char *route, const char *label)
{
    size_t n = 0, skip = 0;
    double max = 1;
    for (size_t i = 0; i < days->n; i++) {
        const char *k = days->v[i].key;
        if (route && (strncmp(k, route, strlen(route)) || k[strlen(route)] != '\t'))
            continue;
        n++;
        max = days->v[i].n > max ? days->v[i].n : max;
    }
    if (!n)
        return;
    skip = n > 62 ? n - 62 : 0;
    size_t shown = n - skip;
    const int bw = shown > 31 ? 14 : 24, gap = 4, h = 120, top = 16, bottom = 34;
    int width = (int)shown * (bw + gap) + 10;
    fprintf(f,
            "<svg class=\"chart\" role=\"img\" aria-label=\"%s\" width=\"%d\" height=\"%d\" "
            "viewBox=\"0 0 %d %d\" xmlns=\"http://www.w3.org/2000/svg\">\n",
            label, width, h + top + bottom, width, h + top + bottom);
    size_t at = 0, seen = 0;
    for (size_t i = 0; i < days->n; i++) {
        const char *k = days->v[i].key;
        if (route && (strncmp(k, route, strlen(route)) || k[strlen(route)] != '\t'))
            continue;
        if (seen++ < skip)
            continue;
        const char *day = route ? k + strlen(route) + 1 : k;
        double bh = days->v[i].n / max * h;
        int x = 5 + (int)at * (bw + gap);
        char c[32];
        fg_i18n_count(d->lang, days->v[i].n, c, sizeof c);
        fprintf(f,
                "<rect x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"%.1f\"/>"
                "<text x=\"%d\" y=\"%.1f\" text-anchor=\"middle\">%s</text>"
                "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%.2s</text>"
                "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%.2s</text>\n",
                x, top + h - (bh < 1 ? 1 : bh), bw, bh < 1 ? 1 : bh, x + bw / 2,
                top + h - (bh < 1 ? 1 : bh) - 3, shown > 31 ? "" : c, x + bw / 2, top + h + 14,
                day + 8, x + bw / 2, top + h + 27, day + 5);
        at++;
    }
    fputs("</svg>\n", f);
}

static void table(FILE *f, const struct rp_data *d, const char *attr, const char *head_key,
                  const struct rp_tally *t, bool categories)
{
    fputs("<table><tr><th>", f);
    rp_say(f, d, head_key);
    fputs("</th><th class=\"num\">", f);
    rp_say(f, d, "rp.messages");
    fputs("</th></tr>\n", f);
    for (size_t i = 0; i < t->n; i++) {
        char c[32];
        fg_i18n_count(d->lang, t->v[i].n, c, sizeof c);
        fprintf(f, "<tr data-%s=\"", attr);
        esc(f, t->v[i].key);
        fprintf(f, "\" data-count=\"%.0f\"><td>", t->v[i].n);
        char day[64];
        int64_t ms;
        if (!strcmp(attr, "day") && fg_parse_time(t->v[i].key, strlen(t->v[i].key), &ms)) {
            fg_i18n_date(d->lang, ms, false, day, sizeof day);
            esc(f, day);
        } else
            esc(f, categories ? fg_i18n_category(d->lang, t->v[i].key) : t->v[i].key);
        fprintf(f, "</td><td class=\"num\">%s</td></tr>\n", c);
    }
    fputs("</table>\n", f);
}

static int by_count(const void *a, const void *b)
{
    const struct rp_item *x = a, *y = b;
    return x->n < y->n ? 1 : x->n > y->n ? -1 : strcmp(x->key, y->key);
}

void rp_write_charts(FILE *f, const struct rp_data *d)
{
    fputs("<section class=\"charts\">\n<h2>", f);
    rp_say(f, d, "rp.charts");
    fputs("</h2>\n", f);
    if (!d->days.n) {
        fputs("<p class=\"muted\">", f);
        rp_say(f, d, "rp.brief.left.none");
        fputs("</p>\n</section>\n", f);
        return;
    }
    fputs("<h3>", f);
    rp_say(f, d, "rp.chart.all");
    fputs("</h3>\n", f);
    day_chart(f, d, &d->days, NULL, fg_tr(d->lang, "rp.chart.all"));
    for (size_t i = 0; i < d->routes.n; i++) {
        fputs("<h3>", f);
        rp_say(f, d, "rp.chart.route", d->routes.v[i].key);
        fputs("</h3>\n", f);
        day_chart(f, d, &d->route_days, d->routes.v[i].key, d->routes.v[i].key);
    }
    table(f, d, "day", "rp.col.day", &d->days, false);
    /* sorted copies, largest first, for the tables */
    struct rp_tally cats = d->cats, routes = d->routes, dests = d->dests;
    struct rp_item *cv = malloc((cats.n + 1) * sizeof *cv),
                   *rv = malloc((routes.n + 1) * sizeof *rv),
                   *dv = malloc((dests.n + 1) * sizeof *dv);
    if (cv && rv && dv) {
        struct rp_tally *ts[] = {&cats, &routes, &dests};
        struct rp_item *vs[] = {cv, rv, dv};
        for (size_t i = 0; i < 3; i++) {
            if (ts[i]->n) { /* memcpy and qsort want a real pointer, even for 0 items */
                memcpy(vs[i], ts[i]->v, ts[i]->n * sizeof *vs[i]);
                qsort(vs[i], ts[i]->n, sizeof *vs[i], by_count);
            }
            ts[i]->v = vs[i];
        }
        fputs("<h3>", f);
        rp_say(f, d, "rp.table.categories");
        fputs("</h3>\n", f);
        table(f, d, "category", "rp.col.category", &cats, true);
        fputs("<h3>", f);
        rp_say(f, d, "rp.table.routes");
        fputs("</h3>\n", f);
        table(f, d, "route", "rp.col.route", &routes, false);
        fputs("<h3>", f);
        rp_say(f, d, "rp.table.destinations");
        fputs("</h3>\n", f);
        table(f, d, "destination", "rp.col.destination", &dests, false);
    }
    free(cv);
    free(rv);
    free(dv);
    fputs("</section>\n", f);
}

void rp_write_events(FILE *f, const struct rp_data *d)
{
    static const char *const cls[] = {"", "refused", "weakening", "attention"};
    static const char *const tag[] = {"", "rp.tag.refused", "rp.tag.weakening", "rp.tag.attention"};
    char a[32], b[32], c[32];
    fputs("<section class=\"events\">\n<h2>", f);
    rp_say(f, d, "rp.events");
    fputs("</h2>\n<p class=\"muted\">", f);
    fg_i18n_count(d->lang, (double)d->nflows, a, sizeof a);
    fg_i18n_count(d->lang, (double)d->nseals, b, sizeof b);
    fg_i18n_count(d->lang, (double)d->nhandovers, c, sizeof c);
    rp_say(f, d, "rp.events.note", a, b, c);
    fputs("</p>\n<table><tr><th class=\"when\">", f);
    rp_say(f, d, "rp.col.when");
    fputs("</th><th class=\"who\">", f);
    rp_say(f, d, "rp.col.who");
    fputs("</th><th>", f);
    rp_say(f, d, "rp.col.what");
    fputs("</th></tr>\n", f);
    const cJSON *ev;
    cJSON_ArrayForEach(ev, d->events)
    {
        const char *act = rp_str(ev, "action"), *t = rp_str(ev, "time");
        enum rp_mark m = rp_mark_of(act, cJSON_GetObjectItemCaseSensitive(ev, "object"));
        char when[64], who[96], s[2048];
        int64_t ms = 0;
        fg_parse_time(t, strlen(t), &ms);
        fg_i18n_date(d->lang, ms, true, when, sizeof when);
        snprintf(who, sizeof who, "actor.%s", rp_str(ev, "actor"));
        const char *w = fg_tr(d->lang, who);
        rp_event_sentence(d->lang, ev, s, sizeof s);
        fprintf(f, "<tr class=\"%s\" data-action=\"", cls[m]);
        esc(f, act);
        fprintf(f, "\" data-seq=\"%.0f\"><td>%s</td><td>", rp_num(ev, "seq"), when);
        esc(f, w == who ? rp_str(ev, "actor") : w);
        fputs("</td><td>", f);
        if (m != RP_PLAIN) {
            fprintf(f, "<span class=\"tag %s\">", cls[m]);
            rp_say(f, d, tag[m]);
            fputs("</span>", f);
        }
        esc(f, s);
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n</section>\n", f);
}
