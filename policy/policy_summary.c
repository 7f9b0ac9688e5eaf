/* Phrases shared by `policy explain` and the works council's audit report:
 * how one field leaves ("as a pseudonym", "rounded down to 1 minute"), how
 * often ("every hour", never "every 1 hour"), and one line per route saying
 * how coarse its data is, in the reader's language. */
#include <stdio.h>
#include <string.h>

#include "policy/policy_internal.h"

void policy_every(fg_lang l, int64_t ms, char *buf, size_t len)
{
    static const int64_t unit[] = {86400000, 3600000, 60000, 1000};
    static const char *const key[] = {"every.day", "every.hour", "every.minute", "every.second"};
    for (size_t u = 0; u < 4; u++)
        if (ms == unit[u]) {
            snprintf(buf, len, "%s", fg_tr(l, key[u]));
            return;
        }
    char d[64];
    fg_i18n_duration(l, ms, d, sizeof d);
    fg_trf(buf, len, l, "every.n", d);
}

/* A field name in the reader's words where the catalogue has one (shift -> dienst). */
const char *policy_field_word(fg_lang l, const char *field, char *k, size_t klen)
{
    snprintf(k, klen, "field.%s", field);
    const char *t = fg_tr(l, k);
    return t == k ? field : t;
}

void policy_field_phrase(const struct policy *p, const struct policy_route *r,
                         const struct policy_field_rule *rule, fg_lang l, char *buf, size_t len)
{
    char d[64], num[64];
    switch (rule->action) {
    case POLICY_KEEP:
        snprintf(buf, len, "%s", fg_tr(l, "ex.keep"));
        return;
    case POLICY_DROP:
        snprintf(buf, len, "%s", fg_tr(l, "ex.diff_not_leave"));
        return;
    case POLICY_PSEUDONYMISE:
        policy_every(l, p->rotate_ms, d, sizeof d);
        fg_trf(buf, len, l, "ex.pseudonymise", d);
        return;
    case POLICY_GENERALISE:
        break;
    }
    const struct sensor_field *f = policy_route_field(r, rule->field);
    if (rule->gen == POLICY_GEN_ZONE) {
        fg_trf(buf, len, l, "ex.zone", rule->partner);
    } else if (rule->gen == POLICY_GEN_GRID) {
        snprintf(num, sizeof num, "%g", rule->step);
        fg_trf(buf, len, l, "ex.grid", num);
    } else if (f && f->type == SENSOR_TIMESTAMP) {
        fg_i18n_duration(l, (int64_t)rule->step, d, sizeof d);
        fg_trf(buf, len, l, "ex.round_time", d);
    } else {
        const char *u = f ? f->unit : NULL;
        snprintf(num, sizeof num, "%g%s%s", rule->step, u ? " " : "", u ? u : "");
        fg_trf(buf, len, l, "ex.round_num", num);
    }
}

/* "a, b and c" of words. */
static void join(fg_lang l, char *const *items, size_t n, char *out, size_t len)
{
    size_t at = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        const char *sep = i == 0 ? "" : i + 1 == n ? " " : ", ";
        int w =
            snprintf(out + at, len - at, "%s%s%s%s", sep, i && i + 1 == n ? fg_tr(l, "and") : "",
                     i && i + 1 == n ? " " : "", items[i]);
        if (w < 0 || (size_t)w >= len - at)
            break;
        at += (size_t)w;
    }
}

void policy_route_summary(const struct policy *p, const struct policy_route *r, fg_lang l,
                          char *buf, size_t len)
{
    char every[64], items[POLICY_MAX_FIELD_RULES][160], list[1200];
    char *ptr[POLICY_MAX_FIELD_RULES] = {0};
    size_t n = 0;
    if (r->agg.on) {
        char by[POLICY_MAX_BY][64], k[96], *bp[POLICY_MAX_BY], per[400] = "", bys[300];
        for (size_t i = 0; i < r->agg.nby; i++) {
            snprintf(by[i], sizeof by[i], "%s", policy_field_word(l, r->agg.by[i], k, sizeof k));
            bp[i] = by[i];
        }
        join(l, bp, r->agg.nby, bys, sizeof bys);
        if (r->agg.nby)
            fg_trf(per, sizeof per, l, "ex.per", bys);
        policy_every(l, r->agg.window_ms, every, sizeof every);
        if (r->agg.min_group > 0)
            fg_trf(buf, len, l, "cs.totals", every, per[0] ? " " : "", per, r->agg.min_group);
        else
            fg_trf(buf, len, l, "cs.totals_any", every, per[0] ? " " : "", per);
        return;
    }
    for (size_t i = 0; i < r->nrules && n < POLICY_MAX_FIELD_RULES; i++) {
        if (r->rules[i].action == POLICY_DROP)
            continue;
        char ph[128];
        policy_field_phrase(p, r, &r->rules[i], l, ph, sizeof ph);
        snprintf(items[n], sizeof items[n], "%s %s", r->rules[i].field, ph);
        ptr[n] = items[n];
        n++;
    }
    join(l, ptr, n, list, sizeof list);
    fg_trf(buf, len, l, n ? "cs.each" : "cs.nothing", list);
}

cJSON *policy_coarseness(const struct policy *p)
{
    cJSON *o = cJSON_CreateObject();
    for (int l = 0; o && l < FG_LANG__COUNT; l++) {
        cJSON *m = cJSON_AddObjectToObject(o, fg_lang_code((fg_lang)l));
        for (size_t i = 0; m && i < p->nroutes; i++) {
            char buf[1600];
            policy_route_summary(p, &p->routes[i], (fg_lang)l, buf, sizeof buf);
            cJSON_AddStringToObject(m, p->routes[i].name, buf);
        }
    }
    return o;
}
