/* What `policy explain` and `policy check` say about the privacy rules of
 * issue 15: absent fields in conditions, persons behind things, zone lists,
 * small groups, movement tracks, overlapping aggregates and signed
 * exceptions. Kept apart from policy_explain.c so its phrases can be
 * translated in the message catalogue (keys "pv.*", en/nl/de). */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "policy/policy_internal.h"

/* The texts are in the message catalogue (common/fg_i18n_explain.c, keys "pv.*"). */
static fg_lang priv_lang(const char *lang)
{
    fg_lang l = FG_LANG_EN;
    if (lang && !fg_lang_parse(lang, &l))
        l = FG_LANG_EN;
    return l;
}

void policy_privacy_explain_when(const struct policy_route *r, const char *lang, FILE *out)
{
    fg_lang L = priv_lang(lang);
    for (int i = 0; i < r->ncond; i++)
        if (r->cond[i].kind == POLICY_COND_CMP) {
            fputs(fg_tr(L, "pv.absent"), out);
            return;
        }
}

/* ---- zone texts from a list ------------------------------------------------ */

static bool in_list(char *const *list, size_t n, const char *s, size_t len, const char **hit)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(list[i]) == len && memcmp(list[i], s, len) == 0) {
            *hit = list[i];
            return true;
        }
    return false;
}

void policy_zone_value(const struct policy *p, const struct policy_route *r,
                       const struct sensor_field *f, const char **s, size_t *len)
{
    const char *hit = NULL;
    bool ok = in_list(f->zones, f->nzones, *s, *len, &hit) ||
              in_list(p->site_zones, p->nsite_zones, *s, *len, &hit);
    for (size_t i = 0; !ok && i < p->nzones; i++)
        if (strlen(p->zones[i].name) == *len && memcmp(p->zones[i].name, *s, *len) == 0) {
            hit = p->zones[i].name;
            ok = true;
        }
    if (ok) {
        *s = hit;
        return;
    }
    /* counters are atomics the const route only points at */
    atomic_fetch_add((_Atomic uint64_t *)&r->c.zones_other, 1);
    *s = "other";
    *len = 5;
}

/* ---- movement tracks ---------------------------------------------------------- */

#define TRACK_WARN_POINTS 24.0 /* more than one point an hour per pseudonym is a track */
#define DAY_MS 86400000.0

static bool person_behind(const struct sensor_type *t)
{
    for (size_t i = 0; i < t->nfields; i++)
        if (t->fields[i].category == SENSOR_CAT_WORKER_ID || t->fields[i].person)
            return true;
    return false;
}

double policy_track_points(const struct policy *p, const struct policy_route *r,
                           const struct policy_route_source *src)
{
    const struct sensor_type *t = src->type;
    if (r->agg.on || !person_behind(t))
        return 0;
    bool loc = false, pseudo = false;
    double bucket = 1000; /* a time that does not leave still arrives with the message */
    for (size_t i = 0; i < t->nfields; i++) {
        int a = src->action[i];
        if (a < 0 || a == POLICY_DROP)
            continue;
        const struct sensor_field *f = &t->fields[i];
        const struct policy_field_rule *rule = &r->rules[src->rule[i]];
        if (f->category == SENSOR_CAT_LOCATION &&
            !(a == POLICY_GENERALISE && rule->gen == POLICY_GEN_ZONE))
            loc = true;
        if (f->type == SENSOR_TIMESTAMP && a == POLICY_GENERALISE && rule->step > bucket)
            bucket = rule->step;
        if (a == POLICY_PSEUDONYMISE)
            pseudo = true;
    }
    if (!loc)
        return 0;
    double life = pseudo && (double)p->rotate_ms < DAY_MS ? (double)p->rotate_ms : DAY_MS;
    return life / bucket;
}

/* ---- explain ---------------------------------------------------------------- */

static const char *const exc_what[POLICY_EXC__COUNT] = {"pv.exc.worker_id", "pv.exc.person",
                                                        "pv.exc.small_group"};

/* Distinct names a zone text of field f may leave as. */
static size_t zone_list_len(const struct policy *p, const struct sensor_field *f)
{
    const char *hit;
    size_t n = f->nzones;
    for (size_t i = 0; i < p->nsite_zones; i++)
        n += !in_list(f->zones, f->nzones, p->site_zones[i], strlen(p->site_zones[i]), &hit);
    for (size_t i = 0; i < p->nzones; i++) {
        const char *z = p->zones[i].name;
        n += !in_list(f->zones, f->nzones, z, strlen(z), &hit) &&
             !in_list(p->site_zones, p->nsite_zones, z, strlen(z), &hit);
    }
    return n;
}

void policy_privacy_explain_route(const struct policy *p, const struct policy_route *r,
                                  const char *lang, FILE *out)
{
    fg_lang L = priv_lang(lang);
    bool red = isatty(fileno(out));
    for (int k = 0; k < POLICY_EXC__COUNT; k++) {
        if (!r->exception[k])
            continue;
        if (red)
            fputs("\033[1;31m", out);
        fprintf(out, fg_tr(L, "pv.exc_hdr"), fg_tr(L, exc_what[k]), r->exception[k]);
        if (red)
            fputs("\033[0m", out);
    }
    const char *seen[SENSOR_MAX_FIELDS];
    size_t nseen = 0;
    double track = 0;
    for (size_t s = 0; s < r->nfrom; s++) {
        const struct policy_route_source *src = &r->sources[s];
        const struct sensor_type *t = src->type;
        for (size_t i = 0; r->agg.on && i < r->agg.nby; i++) {
            const struct sensor_field *f = &t->fields[src->by_field[i]];
            if (f->person)
                fprintf(out, fg_tr(L, "pv.person"), f->name, f->person, f->name);
        }
        for (size_t i = 0; i < t->nfields; i++) {
            if (!src->zone_check[i])
                continue;
            bool dup = false;
            for (size_t k = 0; k < nseen; k++)
                dup = dup || !strcmp(seen[k], t->fields[i].name);
            if (dup || nseen == SENSOR_MAX_FIELDS)
                continue;
            seen[nseen++] = t->fields[i].name;
            fprintf(out, fg_tr(L, "pv.zone_list"), t->fields[i].name,
                    zone_list_len(p, &t->fields[i]));
        }
        double pts = policy_track_points(p, r, src);
        track = pts > track ? pts : track;
    }
    if (r->agg.on && r->agg.min_group >= 2 && r->agg.min_group < 5)
        fprintf(out, fg_tr(L, "pv.small"), r->agg.min_group);
    if (track > TRACK_WARN_POINTS)
        fprintf(out, fg_tr(L, "pv.track"), track);
}

void policy_privacy_diff_exception(policy_exception_kind k, const char *was, const char *now,
                                   const char *lang, FILE *out)
{
    fg_lang L = priv_lang(lang);
    const char *what = fg_tr(L, exc_what[k]);
    if (!was)
        fprintf(out, fg_tr(L, "pv.diff_new"), what, now);
    else if (!now)
        fprintf(out, fg_tr(L, "pv.diff_ends"), what);
    else
        fprintf(out, fg_tr(L, "pv.diff_reason"), what, now, was);
}

/* ---- policy check ------------------------------------------------------------ */

size_t policy_privacy_warnings(const struct policy *p, policy_warn_fn fn, void *ctx)
{
    size_t n = 0;
    for (size_t ri = 0; ri < p->nroutes; ri++) {
        const struct policy_route *r = &p->routes[ri];
        for (int k = 0; k < POLICY_EXC__COUNT; k++)
            if (r->exception[k])
                policy_warnf(
                    fn, ctx, &n,
                    "route '%s' declares the exception '%s' (%s): it runs only under a policy "
                    "that is signed",
                    r->name, policy_exception_names[k], fg_tr(FG_LANG_EN, exc_what[k]));
        bool workers = false;
        double track = 0;
        for (size_t s = 0; s < r->nfrom; s++) {
            workers = workers || r->sources[s].nworker_fields > 0;
            double pts = policy_track_points(p, r, &r->sources[s]);
            track = pts > track ? pts : track;
        }
        if (r->agg.on && workers && r->agg.min_group >= 2 && r->agg.min_group < 5)
            policy_warnf(
                fn, ctx, &n,
                "route '%s' publishes groups of as few as %d workers: 5 or more is advised",
                r->name, r->agg.min_group);
        if (track > TRACK_WARN_POINTS)
            policy_warnf(
                fn, ctx, &n,
                "route '%s' sends about %.0f locations per person and day (at most %.0f "
                "advised): that is a movement track; rotate pseudonyms more often (e.g. "
                "rotate: 1h), send coarser times (generalise(15m) or more) or coarser cells "
                "(generalise(zone), a larger grid), or aggregate",
                r->name, track, TRACK_WARN_POINTS);
    }
    return n;
}

bool policy_needs_signatures(const struct policy *p)
{
    if (policy_names_health(p))
        return true;
    for (size_t i = 0; i < p->nroutes; i++)
        for (int k = 0; k < POLICY_EXC__COUNT; k++)
            if (p->routes[i].exception[k])
                return true;
    return false;
}
