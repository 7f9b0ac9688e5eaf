/* fairgate subject-report: what left the site about one worker. For every
 * epoch whose table is still kept: the worker's pseudonym per route, and every
 * audited flow of that route from the pseudonym's first sighting to the end of
 * the epoch. Needs the works council's key; the report is itself audited. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fg_command.h"
#include "common/fg_opt.h"
#include "common/fg_util.h"
#include "audit/audit.h"
#include "audit/inbox.h"
#include "gateway/config.h"
#include "council/keys.h"
#include "council/reident.h"
#include "cli/wc_options.h"
#include "policy/policy.h"

#define MAX_HITS 512

struct hits {
    struct reident_hit h[MAX_HITS];
    size_t n;
};

static void on_hit(void *ctx, const struct reident_hit *hit)
{
    struct hits *hs = ctx;
    if (hs->n < MAX_HITS)
        hs->h[hs->n++] = *hit;
}

struct flow_row {
    size_t hit;
    char since[40], until[40], destination[160], purpose[200], categories[200];
    double count;
};

struct subj_opts {
    const char *config, *id, *key, *html;
};
static const struct fg_opt subj_table[] = {
    FG_OPT_STR(struct subj_opts, config, "config", 'c', "FILE", "the gateway's configuration"),
    FG_OPT_STR(struct subj_opts, id, "id", 0, "IDENTIFIER", "the worker's identifier"),
    FG_OPT_STR(struct subj_opts, key, "key", 0, "WORKS_COUNCIL_SECRET",
               "the works council's secret key file"),
    FG_OPT_STR(struct subj_opts, html, "html", 0, "OUT", "also write the report as HTML"),
};
static const struct fg_opt_cmd subj_cmd = {
    "fairgate subject-report",
    "--config FILE --id IDENTIFIER\n--key WORKS_COUNCIL_SECRET [--html OUT]",
    "Lists, for every pseudonym epoch still kept, the worker's pseudonyms per route\n"
    "and every audited flow of those routes while the pseudonym was in use. This is\n"
    "how a worker sees, and can contest, what left the site about them.",
    subj_table,
    FG_OPT_N(subj_table),
    0,
    0};

struct rows {
    struct flow_row *v;
    size_t n, cap;
};

/* The epoch length of the policy in force (a day if it does not load). */
static int64_t epoch_length(const struct wc_state *st)
{
    char why[1024];
    int64_t rotate = 86400000LL;
    struct sensor_registry *reg = NULL;
    struct policy *pol = NULL;
    if (sensor_registry_new(&reg) == FG_OK &&
        (!st->cfg.sensors_builtin || sensor_registry_load_builtin(reg, why, sizeof why) == FG_OK)) {
        for (size_t i = 0; i < st->cfg.nsensor_dirs; i++)
            if (sensor_registry_load_dir(reg, st->cfg.sensor_dirs[i], why, sizeof why) != FG_OK)
                break;
        if (st->cfg.policy_file && policy_load_file(st->cfg.policy_file, reg, st->cfg.site, &pol,
                                                    why, sizeof why) == FG_OK)
            rotate = policy_rotate_ms(pol);
    }
    policy_free(pol);
    sensor_registry_free(reg);
    return rotate;
}

/* One flow summary ob of route r from since to until, a row for every hit
 * whose pseudonym was in use on r then. */
static void add_flow(const cJSON *ob, const char *r, const char *since, const char *until,
                     const struct hits *hs, int64_t rotate, struct rows *rows)
{
    int64_t s_ms, u_ms;
    if (!fg_parse_time(since, strlen(since), &s_ms) || !fg_parse_time(until, strlen(until), &u_ms))
        return;
    for (size_t k = 0; k < hs->n; k++) {
        int64_t from = hs->h[k].first_seen_ms, to = (hs->h[k].epoch + 1) * rotate;
        if (strcmp(r, hs->h[k].route) || u_ms < from || s_ms > to)
            continue;
        if (rows->n == rows->cap) {
            size_t cap = rows->cap ? rows->cap * 2 : 64;
            struct flow_row *nr = realloc(rows->v, cap * sizeof *nr);
            if (!nr)
                return;
            rows->v = nr;
            rows->cap = cap;
        }
        struct flow_row *fr = &rows->v[rows->n++];
        memset(fr, 0, sizeof *fr);
        fr->hit = k;
        snprintf(fr->since, sizeof fr->since, "%s", since);
        snprintf(fr->until, sizeof fr->until, "%s", until);
        const char *d = cJSON_GetStringValue(cJSON_GetObjectItem(ob, "destination"));
        const char *p = cJSON_GetStringValue(cJSON_GetObjectItem(ob, "purpose"));
        snprintf(fr->destination, sizeof fr->destination, "%s", d ? d : "");
        snprintf(fr->purpose, sizeof fr->purpose, "%s", p ? p : "");
        const cJSON *cats = cJSON_GetObjectItem(ob, "categories"), *c;
        size_t o = 0;
        cJSON_ArrayForEach(c, cats) if (cJSON_IsString(c) && o < sizeof fr->categories) o +=
            (size_t)snprintf(fr->categories + o, sizeof fr->categories - o, "%s%s", o ? ", " : "",
                             c->valuestring);
        fr->count = cJSON_GetNumberValue(cJSON_GetObjectItem(ob, "count"));
    }
}

/* Every audited flow of the hits' routes while their pseudonyms were in use. */
static void collect_flows(const char *logpath, const struct hits *hs, int64_t rotate,
                          struct rows *rows)
{
    char *log = NULL;
    size_t loglen = 0;
    if (fg_read_file(logpath, (size_t)1 << 31, &log, &loglen) != FG_OK)
        return;
    for (char *line = log, *nl; line && *line; line = nl ? nl + 1 : NULL) {
        nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        cJSON *ev = audit_parse_line(line, len);
        const cJSON *act = cJSON_GetObjectItemCaseSensitive(ev, "action");
        const cJSON *ob = cJSON_GetObjectItemCaseSensitive(ev, "object");
        if (cJSON_IsString(act) && !strcmp(act->valuestring, "flow.summary") && ob) {
            const char *r = cJSON_GetStringValue(cJSON_GetObjectItem(ob, "route"));
            const char *since = cJSON_GetStringValue(cJSON_GetObjectItem(ob, "since"));
            const char *until = cJSON_GetStringValue(cJSON_GetObjectItem(ob, "until"));
            if (r && since && until)
                add_flow(ob, r, since, until, hs, rotate, rows);
        }
        cJSON_Delete(ev);
    }
    free(log);
}

static void print_report(size_t opened, const struct hits *hs, const struct rows *rows)
{
    printf("Subject report (tables opened: %zu entries)\n\n", opened);
    if (!hs->n)
        printf("No pseudonym of this identifier in any kept epoch: nothing about this worker "
               "can be linked to them any more, or nothing was forwarded.\n");
    for (size_t k = 0; k < hs->n; k++) {
        char first[40];
        fg_format_time(hs->h[k].first_seen_ms, first, sizeof first);
        printf("epoch %lld  route %-20s pseudonym %s  first seen %s\n", (long long)hs->h[k].epoch,
               hs->h[k].route, hs->h[k].pseudonym, first);
        for (size_t i = 0; i < rows->n; i++)
            if (rows->v[i].hit == k)
                printf("    flow %s .. %s  %5.0f messages  to %s  for \"%s\"  [%s]\n",
                       rows->v[i].since, rows->v[i].until, rows->v[i].count, rows->v[i].destination,
                       rows->v[i].purpose, rows->v[i].categories);
    }
}

static void html_hit(FILE *f, const struct reident_hit *h, size_t k, const struct rows *rows)
{
    char first[40];
    fg_format_time(h->first_seen_ms, first, sizeof first);
    fprintf(f, "<h2>Route ");
    fg_fputs_html(f, h->route);
    fprintf(f, ", period %lld</h2><p>Pseudonym <code>%s</code>, first seen %s</p>",
            (long long)h->epoch, h->pseudonym, first);
    fputs("<table><tr><th>from</th><th>until</th><th>messages</th><th>destination</th>"
          "<th>purpose</th><th>data categories</th></tr>",
          f);
    for (size_t i = 0; i < rows->n; i++)
        if (rows->v[i].hit == k) {
            fprintf(f, "<tr><td>%s</td><td>%s</td><td>%.0f</td><td>", rows->v[i].since,
                    rows->v[i].until, rows->v[i].count);
            fg_fputs_html(f, rows->v[i].destination);
            fputs("</td><td>", f);
            fg_fputs_html(f, rows->v[i].purpose);
            fputs("</td><td>", f);
            fg_fputs_html(f, rows->v[i].categories);
            fputs("</td></tr>", f);
        }
    fputs("</table>", f);
}

static bool write_html(const char *html, const struct hits *hs, const struct rows *rows)
{
    FILE *f = fopen(html, "w");
    if (!f) {
        perror(html);
        return false;
    }
    fputs("<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>fairgate subject "
          "report</title><style>body{font:15px/1.4 system-ui,sans-serif;margin:2em;max-width:"
          "60em}table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:"
          ".3em .5em;text-align:left}th{background:#eef}</style><h1>What left the site about "
          "you</h1><p>Produced with the works council's key. Each pseudonym below stood for "
          "you on one route during one period; each flow is a batch of minimised messages "
          "of that route sent while your pseudonym was in use.</p>",
          f);
    if (!hs->n)
        fputs("<p><b>No pseudonym in any kept period.</b></p>", f);
    for (size_t k = 0; k < hs->n; k++)
        html_hit(f, &hs->h[k], k, rows);
    fputs("</html>\n", f);
    fclose(f);
    printf("\nHTML report: %s\n", html);
    return true;
}

/* The attempt with someone else's key is audited too. */
static void audit_refusal(const struct wc_state *st, const char *role)
{
    char why[1024];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "result", "refused: not the works council's key");
    if (audit_submit(st->audit_log, st->audit_dir, keys_role_valid(role) ? role : "unknown-key",
                     "subject_report", o, 5000, why, sizeof why) != FG_OK)
        fprintf(stderr, "subject-report: could not audit the attempt: %s\n", why);
    cJSON_Delete(o);
}

static int subject_main(int argc, char **argv)
{
    struct subj_opts opt = {0};
    int prc = fg_opt_parse(&subj_cmd, argc, argv, &opt, NULL, NULL);
    if (prc != FG_OPT_OK)
        return fg_opt_exit(prc);
    if (!opt.config || !opt.id || !opt.key)
        return fg_opt_error(&subj_cmd, "--config, --id and --key are required");
    struct wc_state st;
    if (wc_state_load(&st, opt.config, "subject-report"))
        return 2;
    char why[1024];
    int rc = 1;
    unsigned char *sk = NULL;
    char role[KEYS_ROLE_MAX + 1];
    struct hits *hs = calloc(1, sizeof *hs);
    struct rows rows = {0};
    snprintf(role, sizeof role, "unknown-key");
    if (!hs || keys_load_secret(opt.key, &sk, role, sizeof role, why, sizeof why) != FG_OK) {
        fprintf(stderr, "subject-report: %s\n", hs ? why : "out of memory");
        goto out;
    }
    size_t opened = 0, failed = 0;
    fg_err e = reident_subject(st.reident_dir, sk, opt.id, on_hit, hs, &opened, &failed);
    if (e == FG_ERR_CRYPTO) {
        fprintf(stderr, "subject-report: this is not the works council's key: no table opens\n");
        audit_refusal(&st, role);
        goto out;
    }
    collect_flows(st.audit_log, hs, epoch_length(&st), &rows);
    /* The report is audited before it is shown; it names no one in the log. */
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "result", "produced");
    cJSON_AddNumberToObject(o, "pseudonyms", (double)hs->n);
    cJSON_AddNumberToObject(o, "flows", (double)rows.n);
    e = audit_submit(st.audit_log, st.audit_dir, keys_role_valid(role) ? role : "unknown-key",
                     "subject_report", o, 5000, why, sizeof why);
    cJSON_Delete(o);
    if (e) {
        fprintf(stderr, "subject-report: the report could not be audited (%s); not shown\n", why);
        goto out;
    }
    print_report(opened, hs, &rows);
    if (opt.html && !write_html(opt.html, hs, &rows))
        goto out;
    rc = 0;
out:
    free(rows.v);
    free(hs);
    if (sk)
        sodium_free(sk);
    wc_state_free(&st);
    return rc;
}

const struct fg_command fg_cmd_subject_report = {
    .name = "subject-report",
    .summary = "what left the site about one worker (works council key, audited)",
    .main = subject_main,
};
