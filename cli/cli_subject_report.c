/* fairgate subject-report: what left the site about one worker. For every
 * epoch whose table is still kept: the worker's pseudonym per route, every
 * audited flow of that route from the pseudonym's first sighting to the end of
 * the epoch, and every re-identification of that pseudonym. Needs the works
 * council's key; the report is itself audited. Written by subject_render.c. */
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

#include "cli/subject_report.h"

static void on_hit(void *ctx, const struct reident_hit *hit)
{
    struct subject_report *r = ctx;
    if (r->nhits < SUBJECT_MAX_HITS)
        r->hits[r->nhits++] = *hit;
}

struct subj_opts {
    const char *config, *id, *key, *html, *lang;
};
static const struct fg_opt subj_table[] = {
    FG_OPT_STR(struct subj_opts, config, "config", 'c', "FILE", "the gateway's configuration"),
    FG_OPT_STR(struct subj_opts, id, "id", 0, "IDENTIFIER", "the worker's identifier"),
    FG_OPT_STR(struct subj_opts, key, "key", 0, "WORKS_COUNCIL_SECRET",
               "the works council's secret key file"),
    FG_OPT_STR(struct subj_opts, html, "html", 0, "OUT", "also write the report as HTML"),
    FG_OPT_CHOICE(struct subj_opts, lang, "lang", 0, "en|nl|de",
                  "the worker's language (default from FAIRGATE_LANG or LANG, else en)"),
};
static const struct fg_opt_cmd subj_cmd = {
    "fairgate subject-report",
    "--config FILE --id IDENTIFIER\n--key WORKS_COUNCIL_SECRET [--html OUT] [--lang en|nl|de]",
    "Lists, for every pseudonym period still kept, the worker's pseudonyms per route,\n"
    "every audited flow of those routes while the pseudonym was in use, and every\n"
    "re-identification of those pseudonyms (who, when, why). This is how a worker\n"
    "sees, and can contest, what left the site about them.",
    subj_table,
    FG_OPT_N(subj_table),
    0,
    0};

static void add_flow(struct subject_report *r, const cJSON *ob, size_t k, int64_t s_ms,
                     int64_t u_ms)
{
    if (r->nflows % 64 == 0) {
        struct subject_flow *nf = realloc(r->flows, (r->nflows + 64) * sizeof *nf);
        if (!nf)
            return;
        r->flows = nf;
    }
    struct subject_flow *fr = &r->flows[r->nflows++];
    memset(fr, 0, sizeof *fr);
    fr->hit = k;
    fr->since_ms = s_ms;
    fr->until_ms = u_ms;
    const char *d = cJSON_GetStringValue(cJSON_GetObjectItem(ob, "destination"));
    const char *p = cJSON_GetStringValue(cJSON_GetObjectItem(ob, "purpose"));
    snprintf(fr->destination, sizeof fr->destination, "%s", d ? d : "");
    snprintf(fr->purpose, sizeof fr->purpose, "%s", p ? p : "");
    const cJSON *c;
    size_t o = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(ob, "categories"))
    {
        if (!cJSON_IsString(c) || o >= sizeof fr->categories)
            continue;
        o += (size_t)snprintf(fr->categories + o, sizeof fr->categories - o, "%s%s", o ? ", " : "",
                              fg_i18n_category(r->lang, c->valuestring));
    }
    fr->count = cJSON_GetNumberValue(cJSON_GetObjectItem(ob, "count"));
}

static void add_reid(struct subject_report *r, const cJSON *ev, const cJSON *ob)
{
    const char *route = cJSON_GetStringValue(cJSON_GetObjectItem(ob, "route"));
    const char *ps = cJSON_GetStringValue(cJSON_GetObjectItem(ob, "pseudonym"));
    const char *t = cJSON_GetStringValue(cJSON_GetObjectItem(ev, "time"));
    if (!route || !ps || !t)
        return;
    for (size_t k = 0; k < r->nhits; k++) {
        if (strcmp(route, r->hits[k].route) || strcmp(ps, r->hits[k].pseudonym))
            continue;
        if (r->nreids % 16 == 0) {
            struct subject_reid *nr = realloc(r->reids, (r->nreids + 16) * sizeof *nr);
            if (!nr)
                return;
            r->reids = nr;
        }
        struct subject_reid *x = &r->reids[r->nreids++];
        memset(x, 0, sizeof *x);
        x->hit = k;
        fg_parse_time(t, strlen(t), &x->when_ms);
        const char *a = cJSON_GetStringValue(cJSON_GetObjectItem(ev, "actor"));
        const char *why = cJSON_GetStringValue(cJSON_GetObjectItem(ob, "reason"));
        const char *res = cJSON_GetStringValue(cJSON_GetObjectItem(ob, "result"));
        snprintf(x->actor, sizeof x->actor, "%s", a ? a : "?");
        snprintf(x->reason, sizeof x->reason, "%s", why ? why : "");
        snprintf(x->result, sizeof x->result, "%s", res ? res : "");
    }
}

/* Flows of the worker's routes while a pseudonym was in use, and every
 * re-identification of one of those pseudonyms. */
static void scan_log(struct subject_report *r, char *log)
{
    int64_t rotate = r->rotate_ms ? r->rotate_ms : 86400000LL;
    for (char *line = log, *nl; line && *line; line = nl ? nl + 1 : NULL) {
        nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        cJSON *ev = audit_parse_line(line, len);
        const char *act = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ev, "action"));
        const cJSON *ob = cJSON_GetObjectItemCaseSensitive(ev, "object");
        if (act && !strcmp(act, "reidentify"))
            add_reid(r, ev, ob);
        if (act && !strcmp(act, "flow.summary") && ob) {
            const char *rt = cJSON_GetStringValue(cJSON_GetObjectItem(ob, "route"));
            const char *since = cJSON_GetStringValue(cJSON_GetObjectItem(ob, "since"));
            const char *until = cJSON_GetStringValue(cJSON_GetObjectItem(ob, "until"));
            int64_t s_ms, u_ms;
            if (rt && since && until && fg_parse_time(since, strlen(since), &s_ms) &&
                fg_parse_time(until, strlen(until), &u_ms))
                for (size_t k = 0; k < r->nhits; k++) {
                    int64_t from = r->hits[k].first_seen_ms, to = (r->hits[k].epoch + 1) * rotate;
                    if (!strcmp(rt, r->hits[k].route) && u_ms >= from && s_ms <= to)
                        add_flow(r, ob, k, s_ms, u_ms);
                }
        }
        cJSON_Delete(ev);
    }
}

static void load_policy_times(const struct wc_state *st, struct subject_report *r)
{
    struct sensor_registry *reg = NULL;
    struct policy *pol = wc_policy_load(st, &reg);
    if (pol) {
        r->rotate_ms = policy_rotate_ms(pol);
        r->keep_keys_ms = policy_keep_keys_ms(pol);
    }
    policy_free(pol);
    sensor_registry_free(reg);
}

static int refuse(const struct wc_state *st, const char *role)
{
    char why[512];
    fprintf(stderr, "subject-report: this is not the works council's key: no table opens\n");
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "result", "refused: not the works council's key");
    if (audit_submit(st->audit_log, st->audit_dir, keys_role_valid(role) ? role : "unknown-key",
                     "subject_report", o, 5000, why, sizeof why) != FG_OK)
        fprintf(stderr, "subject-report: could not audit the attempt: %s\n", why);
    cJSON_Delete(o);
    return 1;
}

static int subject_main(int argc, char **argv)
{
    struct subj_opts opt = {0};
    int prc = fg_opt_parse(&subj_cmd, argc, argv, &opt, NULL, NULL);
    if (prc != FG_OPT_OK)
        return fg_opt_exit(prc);
    const char *config = opt.config, *id = opt.id, *key = opt.key, *html = opt.html;
    if (!config || !id || !key)
        return fg_opt_error(&subj_cmd, "--config, --id and --key are required");
    struct subject_report *r = calloc(1, sizeof *r);
    if (!r)
        return 1;
    r->lang = fg_lang_from_env();
    if (opt.lang && !fg_lang_parse(opt.lang, &r->lang)) {
        free(r);
        fprintf(stderr, "subject-report: --lang is en, nl or de\n");
        return 2;
    }
    struct wc_state st;
    if (wc_state_load(&st, config, "subject-report")) {
        free(r);
        return 2;
    }
    char why[1024];
    int rc = 1;
    unsigned char *sk = NULL;
    char role[KEYS_ROLE_MAX + 1], *log = NULL;
    snprintf(role, sizeof role, "unknown-key");
    if (keys_load_secret(key, &sk, role, sizeof role, why, sizeof why) != FG_OK) {
        fprintf(stderr, "subject-report: %s\n", why);
        goto out;
    }
    size_t opened = 0, failed = 0;
    fg_err e = reident_subject(st.reident_dir, sk, id, on_hit, r, &opened, &failed);
    if (e == FG_ERR_CRYPTO) {
        rc = refuse(&st, role);
        goto out;
    }
    load_policy_times(&st, r);
    size_t loglen = 0;
    if (fg_read_file(st.audit_log, (size_t)1 << 31, &log, &loglen) == FG_OK)
        scan_log(r, log);
    /* The report is audited before it is shown; it names no one in the log. */
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "result", "produced");
    cJSON_AddNumberToObject(o, "pseudonyms", (double)r->nhits);
    cJSON_AddNumberToObject(o, "flows", (double)r->nflows);
    cJSON_AddNumberToObject(o, "reidentifications", (double)r->nreids);
    e = audit_submit(st.audit_log, st.audit_dir, keys_role_valid(role) ? role : "unknown-key",
                     "subject_report", o, 5000, why, sizeof why);
    cJSON_Delete(o);
    if (e) {
        fprintf(stderr, "subject-report: the report could not be audited (%s); not shown\n", why);
        goto out;
    }
    r->made_ms = fg_now_ms();
    subject_write_text(stdout, r);
    if (html) {
        FILE *f = fopen(html, "w");
        if (!f) {
            perror(html);
            goto out;
        }
        subject_write_html(f, r);
        if (fclose(f) != 0) {
            perror(html);
            goto out;
        }
        printf("\nHTML: %s\n", html);
    }
    rc = 0;
out:
    free(log);
    free(r->flows);
    free(r->reids);
    free(r);
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
