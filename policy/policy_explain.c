/* `fairgate policy explain` and `policy diff`: a policy in plain sentences, in
 * English, Dutch and German, that a works council member can check line by
 * line against what was agreed. The texts live in the message catalogue; the
 * sentence structure is the same in every language so the texts can be laid
 * side by side. Also the warnings of `policy check` (for the operator, English). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fg_i18n.h"
#include "common/fg_util.h"
#include "policy/policy_internal.h"

/* The reader's language: every text comes from the message catalogue
 * (common/fg_i18n_explain.c); L is the language, T(k) its text for key k. */
#define T(k) fg_tr(L, "ex." k)

static void fmt_date(int64_t ms, char *buf, size_t len)
{
    char t[40];
    fg_format_time(ms, t, sizeof t);
    /* valid_until written as a date means through the end of that day */
    if (strstr(t, "T23:59:59.999Z"))
        t[10] = '\0';
    snprintf(buf, len, "%s", t);
}

/* A list "a, b and c". */
static void list_text(fg_lang L, char *const *items, size_t n, char *out, size_t len)
{
    size_t at = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        const char *sep = i == 0 ? "" : i + 1 == n ? " " : ", ";
        int w = snprintf(out + at, len - at, "%s%s%s%s", sep,
                         i > 0 && i + 1 == n ? fg_tr(L, "and") : "", i > 0 && i + 1 == n ? " " : "",
                         items[i]);
        if (w < 0 || (size_t)w >= len - at)
            break;
        at += (size_t)w;
    }
}

/* "badge (worker identifier)", or just "zone" where the name already says it. */
static void field_label(fg_lang L, const char *name, const struct sensor_field *f, char *buf,
                        size_t len)
{
    if (!f) {
        snprintf(buf, len, "%s", name);
        return;
    }
    const char *cat = sensor_category_name(f->category), *words = fg_i18n_category(L, cat);
    if (!strcasecmp(name, cat) || !strcasecmp(name, words))
        snprintf(buf, len, "%s", name);
    else
        snprintf(buf, len, "%s (%s)", name, words);
}

/* Fields the route's condition reads: a message sent only when the condition
 * holds tells the receiver about them, so they never count as "never leaves". */
static bool in_condition(const struct policy_route_source *src, const struct policy_route *r,
                         size_t field)
{
    for (int c = 0; c < r->ncond; c++)
        if (r->cond[c].kind == POLICY_COND_CMP && src->cond_field[c] == (int)field)
            return true;
    return false;
}

/* Fields of the route's types that never leave through it (implied: false), or
 * that leave only implicitly, through the route's condition (implied: true). */
static void never_leaves(fg_lang L, const struct policy_route *r, bool implied, char *out,
                         size_t len)
{
    static char items[SENSOR_MAX_FIELDS * 2][96];
    char *ptrs[SENSOR_MAX_FIELDS * 2];
    size_t n = 0;
    for (size_t s = 0; s < r->nfrom; s++) {
        const struct policy_route_source *src = &r->sources[s];
        const struct sensor_type *t = src->type;
        for (size_t i = 0; i < t->nfields && n < SENSOR_MAX_FIELDS * 2; i++) {
            const char *name = t->fields[i].name;
            bool leaves = src->action[i] != -1 && src->action[i] != POLICY_DROP;
            if (src->partner_of[i] != -1)
                leaves = true; /* leaves as part of a zone */
            for (size_t e = 0; e < r->agg.nemit; e++)
                leaves = leaves || src->emit_field[e] == (int)i;
            for (size_t e = 0; e < r->agg.nby; e++)
                leaves = leaves || src->by_field[e] == (int)i;
            if (leaves || in_condition(src, r, i) != implied)
                continue;
            bool dup = false;
            char item[96];
            field_label(L, name, &t->fields[i], item, sizeof item);
            for (size_t k = 0; k < n; k++)
                dup = dup || !strcmp(items[k], item);
            if (dup)
                continue;
            snprintf(items[n], sizeof items[n], "%s", item);
            ptrs[n] = items[n];
            n++;
        }
    }
    list_text(L, ptrs, n, out, len);
}

static void health_fields(const struct policy_route *r, char *out, size_t len)
{
    char *items[SENSOR_MAX_FIELDS];
    static char names[SENSOR_MAX_FIELDS][64];
    size_t n = 0;
    for (size_t s = 0; s < r->nfrom; s++) {
        const struct policy_route_source *src = &r->sources[s];
        const struct sensor_type *t = src->type;
        for (size_t i = 0; i < t->nfields && n < SENSOR_MAX_FIELDS; i++) {
            if (t->fields[i].category != SENSOR_CAT_HEALTH)
                continue;
            bool used = src->action[i] != -1 && src->action[i] != POLICY_DROP;
            for (size_t e = 0; e < r->agg.nemit; e++)
                used = used || src->emit_field[e] == (int)i;
            for (int c = 0; c < r->ncond; c++)
                used = used || (r->cond[c].kind == POLICY_COND_CMP && src->cond_field[c] == (int)i);
            bool dup = false;
            for (size_t k = 0; k < n; k++)
                dup = dup || !strcmp(names[k], t->fields[i].name);
            if (used && !dup) {
                snprintf(names[n], sizeof names[n], "%s", t->fields[i].name);
                items[n] = names[n];
                n++;
            }
        }
    }
    out[0] = '\0';
    size_t at = 0;
    for (size_t i = 0; i < n; i++)
        at += (size_t)snprintf(out + at, len - at, "%s%s", i ? ", " : "", items[i]);
}

/* "per machine and shift", with field names in the reader's words where known */
static void per_text(fg_lang L, const struct policy_route *r, char *out, size_t len)
{
    char words[POLICY_MAX_BY][64], k[96], *ptr[POLICY_MAX_BY], by[300];
    out[0] = '\0';
    if (!r->agg.nby)
        return;
    for (size_t i = 0; i < r->agg.nby; i++) {
        snprintf(words[i], sizeof words[i], "%s", policy_field_word(L, r->agg.by[i], k, sizeof k));
        ptr[i] = words[i];
    }
    list_text(L, ptr, r->agg.nby, by, sizeof by);
    snprintf(out, len, T("per"), by);
}

static void agg_summary(fg_lang L, const struct policy_route *r, char *out, size_t len)
{
    if (!r->agg.on) {
        snprintf(out, len, "%s", T("per_message"));
        return;
    }
    char d[64], per[300];
    policy_every(L, r->agg.window_ms, d, sizeof d);
    per_text(L, r, per, sizeof per);
    if (r->agg.min_group > 0)
        snprintf(out, len, T("agg_summary"), d, per[0] ? " " : "", per, r->agg.min_group,
                 r->agg.totals ? T("agg_totals") : "");
    else
        snprintf(out, len, T("agg_summary_any"), d, per[0] ? " " : "", per,
                 r->agg.totals ? T("agg_totals") : "");
}

/* What an aggregate emits, e.g. "the number of different workers, counted by their badge". */
static void emit_text(fg_lang L, const struct policy_route *r, const struct policy_agg_emit *em,
                      char *buf, size_t len)
{
    static const char *const fn[POLICY_AGG__COUNT] = {
        "ex.fn.count", "ex.fn.count_distinct", "ex.fn.sum", "ex.fn.mean", "ex.fn.min",
        "ex.fn.max",   "ex.fn.median",         "ex.fn.p90", "ex.fn.p99"};
    if (!em->field) {
        snprintf(buf, len, "%s", T("count_all"));
        return;
    }
    const struct sensor_field *f = policy_route_field(r, em->field);
    char k[96];
    const char *word = policy_field_word(L, em->field, k, sizeof k);
    if (em->fn == POLICY_AGG_COUNT_DISTINCT && f && f->category == SENSOR_CAT_WORKER_ID)
        fg_trf(buf, len, L, "ex.fn.distinct_workers", em->field);
    else
        fg_trf(buf, len, L, fn[em->fn], word);
}

static void purpose_line(fg_lang L, const struct policy_route *r, FILE *out)
{
    if (r->purpose_tr[L])
        fprintf(out, T("purpose"), r->purpose_tr[L]);
    else {
        /* a plain string, or no text in this language: as written, and said so */
        bool any = false;
        for (int l = 0; l < FG_LANG__COUNT; l++)
            any = any || r->purpose_tr[l];
        if (any || L != FG_LANG_EN)
            fprintf(out, T("purpose_untranslated"), r->purpose);
        else
            fprintf(out, T("purpose"), r->purpose);
    }
}

static void fields_per_message(fg_lang L, const struct policy *p, const struct policy_route *r,
                               FILE *out)
{
    char buf[1024], label[160];
    bool any = false;
    for (size_t i = 0; i < r->nrules; i++)
        any = any || r->rules[i].action != POLICY_DROP;
    fprintf(out, "%s",
            !any                ? T("nothing_leaves")
            : r->cond_root >= 0 ? T("each_message_when")
                                : T("each_message"));
    for (size_t i = 0; i < r->nrules; i++) {
        const struct policy_field_rule *rule = &r->rules[i];
        if (rule->action == POLICY_DROP)
            continue;
        policy_field_phrase(p, r, rule, L, buf, sizeof buf);
        field_label(L, rule->field, policy_route_field(r, rule->field), label, sizeof label);
        fprintf(out, "    - %s: %s.\n", label, buf);
    }
}

static void totals_only(fg_lang L, const struct policy *p, const struct policy_route *r, FILE *out)
{
    char buf[1024], d[64], per[300];
    const struct policy_agg *a = &r->agg;
    policy_every(L, a->window_ms, d, sizeof d);
    per_text(L, r, per, sizeof per);
    if (per[0])
        fprintf(out, T("agg_hdr"), d, per);
    else
        fprintf(out, T("agg_hdr_all"), d);
    for (size_t i = 0; i < a->nemit; i++) {
        emit_text(L, r, &a->emit[i], buf, sizeof buf);
        fprintf(out, "    - %s: %s.\n", a->emit[i].name, buf);
    }
    for (size_t i = 0; i < r->nrules; i++) {
        if (r->rules[i].action != POLICY_GENERALISE)
            continue;
        policy_field_phrase(p, r, &r->rules[i], L, buf, sizeof buf);
        fprintf(out, T("by_coarse"), r->rules[i].field, buf);
    }
    if (a->min_group > 0)
        fprintf(out, T("min_group"), a->min_group);
    else
        fprintf(out, "%s", T("no_min_group"));
    if (a->totals)
        fprintf(out, "%s", T("totals"));
}

/* batch: the route's records leave several to a message (catalogue key ex.batch). */
static void explain_batch(fg_lang l, const struct policy_route *r, FILE *out)
{
    char d[64];
    if (r->batch_max < 2)
        return;
    fg_i18n_duration(l, r->batch_delay_ms, d, sizeof d);
    fg_trp(out, l, "ex.batch", r->batch_max, d);
}

static void explain_route(fg_lang L, const struct policy *p, const struct policy_route *r,
                          FILE *out, bool header)
{
    char buf[4096], d[64];
    if (header)
        fprintf(out, T("route_hdr"), r->name);
    purpose_line(L, r, out);
    list_text(L, (char *const *)r->from_names, r->nfrom, buf, sizeof buf);
    fprintf(out, T("reads"), buf);
    if (r->cond_root >= 0) {
        policy_cond_describe(r, r->cond_root, fg_lang_code(L), buf, sizeof buf);
        fprintf(out, T("only_when"), buf);
        policy_privacy_explain_when(r, fg_lang_code(L), out);
    }
    if (r->names_health) {
        health_fields(r, buf, sizeof buf);
        fprintf(out, T("health_warn"), buf);
    }
    if (!r->agg.on)
        fields_per_message(L, p, r, out);
    else
        totals_only(L, p, r, out);
    policy_privacy_explain_route(p, r, fg_lang_code(L), out);
    never_leaves(L, r, true, buf, sizeof buf);
    if (buf[0])
        fprintf(out, T("implied"), buf);
    never_leaves(L, r, false, buf, sizeof buf);
    if (buf[0])
        fprintf(out, T("never"), buf);
    fprintf(out, strchr(r->to, '{') ? T("to_filled") : T("to"), r->to);
    if (r->retention_ms) {
        fg_i18n_duration(L, r->retention_ms, d, sizeof d);
        fprintf(out, T("retention"), d);
    } else
        fprintf(out, "%s", T("no_retention"));
    explain_batch(L, r, out);
}

fg_err policy_explain(const struct policy *p, const char *lang, FILE *out)
{
    fg_lang L;
    if (!fg_lang_parse(lang ? lang : "en", &L))
        return FG_ERR_CONFIG;
    char a[64], b[64];
    fprintf(out, T("policy_hdr"), p->name, p->version);
    if (p->description_tr[L])
        fprintf(out, "%s\n", p->description_tr[L]);
    else if (p->description) {
        bool any = false;
        for (int l = 0; l < FG_LANG__COUNT; l++)
            any = any || p->description_tr[l];
        fprintf(out, "%s\n", p->description);
        if (any || L != FG_LANG_EN)
            fprintf(out, "%s", T("description_untranslated"));
    }
    if (p->valid_until_ms != INT64_MAX) {
        fmt_date(p->valid_until_ms, a, sizeof a);
        fprintf(out, T("valid_until"), a);
    } else
        fprintf(out, "%s", T("no_end"));
    policy_every(L, p->rotate_ms, a, sizeof a);
    fg_i18n_duration(L, p->keep_keys_ms, b, sizeof b);
    fprintf(out, T("pseudo"), a, b);
    fprintf(out, "%s", T("fail_closed"));
    for (size_t i = 0; i < p->nroutes; i++) {
        fprintf(out, "\n");
        explain_route(L, p, &p->routes[i], out, true);
    }
    return ferror(out) ? FG_ERR_IO : FG_OK;
}

/* ---- diff ------------------------------------------------------------------ */

static const struct policy_route *find_route(const struct policy *p, const char *name)
{
    for (size_t i = 0; i < p->nroutes; i++)
        if (!strcmp(p->routes[i].name, name))
            return &p->routes[i];
    return NULL;
}

static const struct policy_field_rule *find_rule(const struct policy_route *r, const char *f)
{
    for (size_t i = 0; i < r->nrules; i++)
        if (!strcmp(r->rules[i].field, f))
            return &r->rules[i];
    return NULL;
}

/* How field f leaves a route: a phrase, or "not at all". */
static void field_fate(fg_lang L, const struct policy *p, const struct policy_route *r,
                       const char *f, char *buf, size_t len)
{
    const struct policy_field_rule *rule = find_rule(r, f);
    if (rule && rule->action != POLICY_DROP) {
        policy_field_phrase(p, r, rule, L, buf, len);
        return;
    }
    for (size_t i = 0; i < r->agg.nby; i++)
        if (!strcmp(r->agg.by[i], f)) {
            snprintf(buf, len, "%s", T("keep"));
            return;
        }
    for (size_t i = 0; i < r->agg.nemit; i++)
        if (r->agg.emit[i].field && !strcmp(r->agg.emit[i].field, f)) {
            emit_text(L, r, &r->agg.emit[i], buf, len);
            return;
        }
    snprintf(buf, len, "%s", T("diff_not_leave"));
}

static bool same_zones(const struct policy *a, const struct policy *b)
{
    if (a->nzones != b->nzones)
        return false;
    for (size_t i = 0; i < a->nzones; i++) {
        const struct policy_zone *x = &a->zones[i], *y = &b->zones[i];
        if (strcmp(x->name, y->name) || x->npts != y->npts)
            return false;
        for (int k = 0; k < x->npts; k++)
            if (x->x[k] != y->x[k] || x->y[k] != y->y[k])
                return false;
    }
    return true;
}

static void sources_text(fg_lang L, const struct policy_route *r, char *buf, size_t len)
{
    list_text(L, (char *const *)r->from_names, r->nfrom, buf, len);
}

static int diff_route(fg_lang L, const struct policy *po, const struct policy_route *o,
                      const struct policy *pn, const struct policy_route *n, FILE *out)
{
    char a[2048], b[2048];
    int changes = 0;
#define HEAD()                                                                                     \
    do {                                                                                           \
        if (!changes++)                                                                            \
            fprintf(out, T("diff_changed"), n->name);                                              \
    } while (0)
    if (strcmp(o->purpose, n->purpose)) {
        HEAD();
        fprintf(out, T("diff_purpose"), n->purpose, o->purpose);
    }
    sources_text(L, o, a, sizeof a);
    sources_text(L, n, b, sizeof b);
    if (strcmp(a, b)) {
        HEAD();
        fprintf(out, T("diff_from"), b, a);
    }
    const char *lang = fg_lang_code(L);
    if (o->cond_root >= 0)
        policy_cond_describe(o, o->cond_root, lang, a, sizeof a);
    else
        snprintf(a, sizeof a, "%s", T("diff_always"));
    if (n->cond_root >= 0)
        policy_cond_describe(n, n->cond_root, lang, b, sizeof b);
    else
        snprintf(b, sizeof b, "%s", T("diff_always"));
    if (strcmp(a, b)) {
        HEAD();
        fprintf(out, T("diff_when"), b, a);
    }
    agg_summary(L, o, a, sizeof a);
    agg_summary(L, n, b, sizeof b);
    if (strcmp(a, b)) {
        HEAD();
        fprintf(out, T("diff_agg"), b, a);
    }
    /* every field of every type either route reads, once */
    const char *seen[SENSOR_MAX_FIELDS * POLICY_MAX_FROM * 2];
    size_t nseen = 0;
    const struct policy_route *both[2] = {n, o};
    for (int w = 0; w < 2; w++)
        for (size_t s = 0; s < both[w]->nfrom; s++) {
            const struct sensor_type *t = both[w]->sources[s].type;
            for (size_t i = 0; i < t->nfields; i++) {
                const char *f = t->fields[i].name;
                bool dup = false;
                for (size_t k = 0; k < nseen; k++)
                    dup = dup || !strcmp(seen[k], f);
                if (dup)
                    continue;
                seen[nseen++] = f;
                field_fate(L, po, o, f, a, sizeof a);
                field_fate(L, pn, n, f, b, sizeof b);
                if (strcmp(a, b)) {
                    HEAD();
                    fprintf(out, T("diff_field"), f,
                            fg_i18n_category(L, sensor_category_name(t->fields[i].category)), b, a);
                }
            }
        }
    if (strcmp(o->to, n->to)) {
        HEAD();
        fprintf(out, T("diff_to"), n->to, o->to);
    }
    if (o->retention_ms != n->retention_ms) {
        HEAD();
        if (o->retention_ms)
            fg_i18n_duration(L, o->retention_ms, a, sizeof a);
        else
            snprintf(a, sizeof a, "%s", T("unlimited"));
        if (n->retention_ms)
            fg_i18n_duration(L, n->retention_ms, b, sizeof b);
        else
            snprintf(b, sizeof b, "%s", T("unlimited"));
        fprintf(out, T("diff_retention"), b, a);
    }
    for (int k = 0; k < POLICY_EXC__COUNT; k++) {
        const char *was = o->exception[k], *now = n->exception[k];
        if ((was || now) && (!was || !now || strcmp(was, now))) {
            HEAD();
            policy_privacy_diff_exception((policy_exception_kind)k, was, now, lang, out);
        }
    }
#undef HEAD
    return changes;
}

fg_err policy_diff(const struct policy *po, const struct policy *pn, const char *lang, FILE *out)
{
    fg_lang L;
    if (!fg_lang_parse(lang ? lang : "en", &L))
        return FG_ERR_CONFIG;
    char a[128], b[128];
    int changes = 0;
    fprintf(out, T("diff_hdr"), po->name, po->version, pn->name, pn->version);
    if (po->valid_until_ms != pn->valid_until_ms) {
        if (po->valid_until_ms == INT64_MAX)
            snprintf(a, sizeof a, "%s", T("unlimited"));
        else
            fmt_date(po->valid_until_ms, a, sizeof a);
        if (pn->valid_until_ms == INT64_MAX)
            snprintf(b, sizeof b, "%s", T("unlimited"));
        else
            fmt_date(pn->valid_until_ms, b, sizeof b);
        fprintf(out, T("diff_valid"), b, a);
        changes++;
    }
    if (po->rotate_ms != pn->rotate_ms) {
        policy_every(L, po->rotate_ms, a, sizeof a);
        policy_every(L, pn->rotate_ms, b, sizeof b);
        fprintf(out, T("diff_rotate"), b, a);
        changes++;
    }
    if (po->keep_keys_ms != pn->keep_keys_ms) {
        fg_i18n_duration(L, po->keep_keys_ms, a, sizeof a);
        fg_i18n_duration(L, pn->keep_keys_ms, b, sizeof b);
        fprintf(out, T("diff_keep"), b, a);
        changes++;
    }
    if (!same_zones(po, pn)) {
        fprintf(out, "%s", T("diff_zones"));
        changes++;
    }
    for (size_t i = 0; i < po->nroutes; i++)
        if (!find_route(pn, po->routes[i].name)) {
            fprintf(out, T("diff_removed"), po->routes[i].name);
            changes++;
        }
    for (size_t i = 0; i < pn->nroutes; i++) {
        const struct policy_route *n = &pn->routes[i], *o = find_route(po, n->name);
        if (!o) {
            fprintf(out, T("diff_added"), n->name);
            explain_route(L, pn, n, out, false);
            changes++;
        } else
            changes += diff_route(L, po, o, pn, n, out);
    }
    if (!changes)
        fprintf(out, "%s", T("diff_none"));
    return ferror(out) ? FG_ERR_IO : FG_OK;
}

/* ---- warnings ---------------------------------------------------------------- */

void policy_warnf(policy_warn_fn fn, void *ctx, size_t *n, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    (*n)++;
    if (fn)
        fn(ctx, msg);
}

size_t policy_check_warnings(const struct policy *p, policy_warn_fn fn, void *ctx)
{
    size_t n = 0;
    char buf[1024];
    for (size_t ri = 0; ri < p->nroutes; ri++) {
        const struct policy_route *r = &p->routes[ri];
        if (r->names_health) {
            health_fields(r, buf, sizeof buf);
            policy_warnf(
                fn, ctx, &n,
                "HEALTH DATA LEAVES THE SITE: route '%s' names health fields (%s). The policy "
                "must be signed by the works council before the gateway runs it.",
                r->name, buf);
        }
        if (!r->retention_ms)
            policy_warnf(fn, ctx, &n,
                         "route '%s' sets no retention: the destination may keep the data "
                         "for ever",
                         r->name);
        for (size_t s = 0; s < r->nfrom; s++) {
            const struct policy_route_source *src = &r->sources[s];
            const struct sensor_type *t = src->type;
            bool pseudo = false, precise_loc = false;
            for (size_t i = 0; i < t->nfields; i++) {
                int a = src->action[i];
                const struct sensor_field *f = &t->fields[i];
                if (a == POLICY_PSEUDONYMISE)
                    pseudo = true;
                if (r->agg.on)
                    continue;
                if (a == POLICY_KEEP && f->category == SENSOR_CAT_WORKER_ID)
                    policy_warnf(fn, ctx, &n,
                                 "route '%s' sends the worker identifier '%s' of %s as it is: "
                                 "pseudonymise it unless the purpose needs the real identity",
                                 r->name, f->name, t->name);
                if (a == POLICY_KEEP && f->category == SENSOR_CAT_LOCATION)
                    precise_loc = true;
                if (a == POLICY_KEEP && f->category == SENSOR_CAT_DEVICE_ID)
                    policy_warnf(
                        fn, ctx, &n,
                        "route '%s' sends the device identifier '%s' of %s: a device worn or "
                        "driven by one person identifies that person",
                        r->name, f->name, t->name);
            }
            if (pseudo && precise_loc)
                policy_warnf(
                    fn, ctx, &n,
                    "route '%s' sends precise locations of %s together with a pseudonym: that "
                    "is a movement track per worker; generalise the location",
                    r->name, t->name);
            /* per-person data in a small group is that person's data */
            bool personal = false;
            for (size_t e = 0; r->agg.on && e < r->agg.nemit; e++) {
                int f = src->emit_field[e];
                sensor_category cat = f >= 0 ? t->fields[f].category : SENSOR_CAT_MACHINE;
                personal = personal || cat == SENSOR_CAT_PERFORMANCE ||
                           cat == SENSOR_CAT_BEHAVIOUR || cat == SENSOR_CAT_HEALTH ||
                           cat == SENSOR_CAT_WORKER_ID || cat == SENSOR_CAT_LOCATION;
            }
            if (r->agg.on && r->agg.min_group == 0 && src->nworker_fields > 0 && personal)
                policy_warnf(
                    fn, ctx, &n,
                    "route '%s' aggregates records of workers (%s) without min_group: a small "
                    "group can single out a person",
                    r->name, t->name);
            for (size_t i = 0; r->agg.on && i < r->agg.nby; i++) {
                int f = src->by_field[i];
                if (t->fields[f].category == SENSOR_CAT_DEVICE_ID)
                    policy_warnf(
                        fn, ctx, &n,
                        "route '%s' groups by the device identifier '%s': a device used by "
                        "one person makes a group of one",
                        r->name, t->fields[f].name);
            }
        }
    }
    return n + policy_privacy_warnings(p, fn, ctx);
}
