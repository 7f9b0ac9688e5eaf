/* `fairgate policy explain` and `policy diff`: a policy in plain sentences, in
 * English and Dutch, that a works council member can check line by line
 * against what was agreed. One table of phrases per language; the sentence
 * structure is the same in both so the two texts can be compared side by side.
 * Also the warnings of `policy check`. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fg_i18n.h"
#include "common/fg_util.h"
#include "policy/policy_internal.h"

struct lang {
    const char *cat[SENSOR_CAT__COUNT];
    const char *policy_hdr;  /* name, version */
    const char *valid_until; /* date */
    const char *no_end;
    const char *pseudo; /* rotate, keep */
    const char *fail_closed;
    const char *health_warn; /* route, fields */
    const char *route_hdr;   /* name */
    const char *purpose;     /* purpose */
    const char *reads;       /* types */
    const char *only_when;   /* condition */
    const char *each_message;
    const char *each_message_when;
    const char *nothing_leaves;
    const char *keep, *pseudonymise;   /* pseudonymise: rotate */
    const char *round_num;             /* step */
    const char *round_time;            /* duration */
    const char *zone;                  /* partner */
    const char *grid;                  /* metres */
    const char *agg_hdr;               /* window, by-text */
    const char *agg_hdr_all;           /* window */
    const char *per;                   /* by list */
    const char *fn[POLICY_AGG__COUNT]; /* field */
    const char *count_all;
    const char *min_group; /* n */
    const char *no_min_group;
    const char *totals;
    const char *by_coarse; /* field, how */
    const char *never;     /* list */
    const char *to;        /* topic */
    const char *retention; /* duration */
    const char *no_retention;
    const char *and_;
    const char *units[4][2]; /* minute, hour, day, second: singular, plural */
    /* diff */
    const char *diff_hdr; /* old name, old version, new name, new version */
    const char *diff_none;
    const char *diff_valid;  /* old, new */
    const char *diff_rotate; /* old, new */
    const char *diff_keep;   /* old, new */
    const char *diff_zones;
    const char *diff_removed; /* route */
    const char *diff_added;   /* route */
    const char *diff_changed; /* route */
    const char *diff_purpose; /* old, new */
    const char *diff_from;    /* old, new */
    const char *diff_when;    /* old, new */
    const char *diff_always;
    const char *diff_field; /* field, category, new, old */
    const char *diff_not_leave;
    const char *diff_agg;       /* old, new */
    const char *diff_to;        /* old, new */
    const char *diff_retention; /* old, new */
    const char *unlimited;
    const char *per_message;
};

static const struct lang EN = {
    .cat = {"worker identifier", "device identifier", "location", "zone", "time", "health",
            "performance", "behaviour", "safety event", "environment", "machine", "device status"},
    .policy_hdr = "Policy \"%s\", version %d.\n",
    .valid_until = "Valid until %s. After that the gateway forwards nothing under this policy.\n",
    .no_end = "This policy has no end date.\n",
    .pseudo = "Pseudonyms change every %s. Their keys are destroyed %s after that; from then on "
              "nobody, the employer included, can link a pseudonym to a worker.\n",
    .fail_closed = "Everything this policy does not name stays on the site.\n",
    .health_warn = "  WARNING: health data leaves through this route (%s).\n",
    .route_hdr = "Route \"%s\"\n",
    .purpose = "  Purpose: %s.\n",
    .reads = "  Reads: %s.\n",
    .only_when = "  Only when: %s.\n",
    .each_message = "  With every message, these leave:\n",
    .each_message_when = "  With every message that matches, these leave:\n",
    .nothing_leaves = "  Nothing leaves with the message except that it happened.\n",
    .keep = "as measured",
    .pseudonymise = "as a pseudonym that changes every %s and differs per route",
    .round_num = "rounded to steps of %s",
    .round_time = "rounded down to %s",
    .zone = "only as the name of the zone the point lies in (together with %s)",
    .grid = "only as the centre of a grid cell of %s m",
    .agg_hdr = "  Only totals leave, no single record: every %s, %s:\n",
    .agg_hdr_all = "  Only totals leave, no single record: every %s, for all records together:\n",
    .per = "per %s",
    .fn = {"the number of messages with %s", "the number of different values of %s",
           "the sum of %s", "the average of %s", "the lowest %s", "the highest %s",
           "the median of %s", "the value of %s that 90%% of messages stay below",
           "the value of %s that 99%% of messages stay below"},
    .count_all = "the number of messages",
    .min_group = "  A group with fewer than %d different workers is not sent.\n",
    .no_min_group = "  Groups are sent whatever their size.\n",
    .totals = "  The total over all groups is sent too; when the total and the other groups "
              "would reveal a group that was not sent, a second group (or the total) is "
              "withheld as well.\n",
    .by_coarse = "  %s is used for grouping %s.\n",
    .never = "  Never leaves: %s.\n",
    .to = "  Sent to: %s.\n",
    .retention = "  Kept at the destination for at most %s.\n",
    .no_retention = "  No retention is set: the destination decides how long it keeps the data.\n",
    .and_ = "and",
    .units = {{"minute", "minutes"}, {"hour", "hours"}, {"day", "days"}, {"second", "seconds"}},
    .diff_hdr = "Changes from policy \"%s\" version %d to \"%s\" version %d:\n",
    .diff_none = "No changes for workers.\n",
    .diff_valid = "- The policy now ends on %s (before: %s).\n",
    .diff_rotate = "- Pseudonyms now change every %s (before: every %s).\n",
    .diff_keep = "- Pseudonym keys are now destroyed after %s (before: after %s).\n",
    .diff_zones = "- The map of zones changed.\n",
    .diff_removed = "- Route \"%s\" is removed: what it sent no longer leaves.\n",
    .diff_added = "- New route \"%s\":\n",
    .diff_changed = "- Route \"%s\" changes:\n",
    .diff_purpose = "  - purpose is now \"%s\" (before: \"%s\").\n",
    .diff_from = "  - it now reads %s (before: %s).\n",
    .diff_when = "  - it now sends only when %s (before: %s).\n",
    .diff_always = "always",
    .diff_field = "  - %s (%s) now leaves %s (before: %s).\n",
    .diff_not_leave = "not at all",
    .diff_agg = "  - aggregation is now: %s (before: %s).\n",
    .diff_to = "  - destination is now %s (before: %s).\n",
    .diff_retention = "  - kept at the destination for %s (before: %s).\n",
    .unlimited = "no limit",
    .per_message = "every message",
};

static const struct lang NL = {
    .cat = {"identificatie van een medewerker", "apparaatnummer", "locatie", "zone", "tijdstip",
            "gezondheid", "prestatie", "gedrag", "veiligheidsmelding", "omgeving", "machine",
            "apparaatstatus"},
    .policy_hdr = "Beleid \"%s\", versie %d.\n",
    .valid_until = "Geldig tot en met %s. Daarna stuurt de gateway onder dit beleid niets meer "
                   "door.\n",
    .no_end = "Dit beleid heeft geen einddatum.\n",
    .pseudo = "Pseudoniemen wisselen elke %s. De sleutels worden %s daarna vernietigd; vanaf dan "
              "kan niemand, ook de werkgever niet, een pseudoniem nog aan een medewerker "
              "koppelen.\n",
    .fail_closed = "Alles wat dit beleid niet noemt, blijft op de locatie.\n",
    .health_warn = "  WAARSCHUWING: via deze route gaan gezondheidsgegevens naar buiten (%s).\n",
    .route_hdr = "Route \"%s\"\n",
    .purpose = "  Doel: %s.\n",
    .reads = "  Leest: %s.\n",
    .only_when = "  Alleen als: %s.\n",
    .each_message = "  Bij elk bericht gaat dit naar buiten:\n",
    .each_message_when = "  Bij elk bericht dat voldoet, gaat dit naar buiten:\n",
    .nothing_leaves = "  Met het bericht gaat niets mee behalve dat het gebeurde.\n",
    .keep = "zoals gemeten",
    .pseudonymise = "als pseudoniem dat elke %s wisselt en per route verschilt",
    .round_num = "afgerond op stappen van %s",
    .round_time = "naar beneden afgerond op %s",
    .zone = "alleen als de naam van de zone waarin het punt ligt (samen met %s)",
    .grid = "alleen als het midden van een rastervak van %s m",
    .agg_hdr = "  Alleen totalen gaan naar buiten, geen losse berichten: elke %s, %s:\n",
    .agg_hdr_all = "  Alleen totalen gaan naar buiten, geen losse berichten: elke %s, voor alle "
                   "berichten samen:\n",
    .per = "per %s",
    .fn = {"het aantal berichten met %s", "het aantal verschillende waarden van %s",
           "de som van %s", "het gemiddelde van %s", "de laagste %s", "de hoogste %s",
           "de mediaan van %s", "de waarde van %s waar 90%% van de berichten onder blijft",
           "de waarde van %s waar 99%% van de berichten onder blijft"},
    .count_all = "het aantal berichten",
    .min_group = "  Een groep met minder dan %d verschillende medewerkers wordt niet verstuurd.\n",
    .no_min_group = "  Groepen worden verstuurd, hoe klein ook.\n",
    .totals = "  Ook het totaal over alle groepen wordt verstuurd; als het totaal samen met de "
              "andere groepen een niet-verstuurde groep zou verraden, wordt nog een groep (of "
              "het totaal) achtergehouden.\n",
    .by_coarse = "  %s wordt %s gebruikt om te groeperen.\n",
    .never = "  Gaat nooit naar buiten: %s.\n",
    .to = "  Verstuurd naar: %s.\n",
    .retention = "  Wordt op de bestemming hoogstens %s bewaard.\n",
    .no_retention = "  Er is geen bewaartermijn ingesteld: de ontvanger bepaalt hoe lang de "
                    "gegevens bewaard blijven.\n",
    .and_ = "en",
    .units = {{"minuut", "minuten"}, {"uur", "uur"}, {"dag", "dagen"}, {"seconde", "seconden"}},
    .diff_hdr = "Wijzigingen van beleid \"%s\" versie %d naar \"%s\" versie %d:\n",
    .diff_none = "Geen wijzigingen voor medewerkers.\n",
    .diff_valid = "- Het beleid loopt nu af op %s (eerder: %s).\n",
    .diff_rotate = "- Pseudoniemen wisselen nu elke %s (eerder: elke %s).\n",
    .diff_keep = "- Pseudoniemsleutels worden nu na %s vernietigd (eerder: na %s).\n",
    .diff_zones = "- De indeling in zones is gewijzigd.\n",
    .diff_removed = "- Route \"%s\" vervalt: wat zij verstuurde, gaat niet meer naar buiten.\n",
    .diff_added = "- Nieuwe route \"%s\":\n",
    .diff_changed = "- Route \"%s\" wijzigt:\n",
    .diff_purpose = "  - het doel is nu \"%s\" (eerder: \"%s\").\n",
    .diff_from = "  - zij leest nu %s (eerder: %s).\n",
    .diff_when = "  - zij verstuurt nu alleen als %s (eerder: %s).\n",
    .diff_always = "altijd",
    .diff_field = "  - %s (%s) gaat nu naar buiten %s (eerder: %s).\n",
    .diff_not_leave = "helemaal niet",
    .diff_agg = "  - samenvoegen is nu: %s (eerder: %s).\n",
    .diff_to = "  - de bestemming is nu %s (eerder: %s).\n",
    .diff_retention = "  - bewaard op de bestemming: %s (eerder: %s).\n",
    .unlimited = "geen grens",
    .per_message = "elk bericht",
};

static const struct lang *pick(const char *lang)
{
    if (!lang || !strcmp(lang, "en"))
        return &EN;
    if (!strcmp(lang, "nl"))
        return &NL;
    return NULL;
}

/* "15 minutes", "24 hours", "30 days": the largest unit that divides evenly. */
static void human_duration(const struct lang *L, int64_t ms, char *buf, size_t len)
{
    static const int64_t unit_ms[] = {60000, 3600000, 86400000, 1000};
    int order[] = {2, 1, 0, 3};
    for (size_t k = 0; k < 4; k++) {
        int u = order[k];
        if (u == 2 && ms < 2 * unit_ms[u])
            continue; /* "24 hours" reads better than "1 day" */
        if (ms >= unit_ms[u] && ms % unit_ms[u] == 0) {
            long long n = ms / unit_ms[u];
            snprintf(buf, len, "%lld %s", n, L->units[u][n != 1]);
            return;
        }
    }
    snprintf(buf, len, "%lld ms", (long long)ms);
}

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
static void list_text(const struct lang *L, char *const *items, size_t n, char *out, size_t len)
{
    size_t at = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        const char *sep = i == 0 ? "" : i + 1 == n ? " " : ", ";
        int w = snprintf(out + at, len - at, "%s%s%s%s", sep, i > 0 && i + 1 == n ? L->and_ : "",
                         i > 0 && i + 1 == n ? " " : "", items[i]);
        if (w < 0 || (size_t)w >= len - at)
            break;
        at += (size_t)w;
    }
}

static const char *unit_of(const struct policy_route *r, const char *field)
{
    for (size_t s = 0; s < r->nfrom; s++) {
        int idx = sensor_field_index(r->sources[s].type, field);
        if (idx >= 0 && r->sources[s].type->fields[idx].unit)
            return r->sources[s].type->fields[idx].unit;
    }
    return NULL;
}

static const struct sensor_field *field_of(const struct policy_route *r, const char *name)
{
    for (size_t s = 0; s < r->nfrom; s++) {
        int idx = sensor_field_index(r->sources[s].type, name);
        if (idx >= 0)
            return &r->sources[s].type->fields[idx];
    }
    return NULL;
}

/* How one field leaves under a rule, as a phrase. */
static void action_text(const struct lang *L, const struct policy *p, const struct policy_route *r,
                        const struct policy_field_rule *rule, char *buf, size_t len)
{
    char d[64], num[64];
    switch (rule->action) {
    case POLICY_KEEP:
        snprintf(buf, len, "%s", L->keep);
        return;
    case POLICY_DROP:
        snprintf(buf, len, "%s", L->diff_not_leave);
        return;
    case POLICY_PSEUDONYMISE:
        human_duration(L, p->rotate_ms, d, sizeof d);
        snprintf(buf, len, L->pseudonymise, d);
        return;
    case POLICY_GENERALISE:
        break;
    }
    const struct sensor_field *f = field_of(r, rule->field);
    if (rule->gen == POLICY_GEN_ZONE) {
        snprintf(buf, len, L->zone, rule->partner);
    } else if (rule->gen == POLICY_GEN_GRID) {
        snprintf(num, sizeof num, "%g", rule->step);
        snprintf(buf, len, L->grid, num);
    } else if (f && f->type == SENSOR_TIMESTAMP) {
        human_duration(L, (int64_t)rule->step, d, sizeof d);
        snprintf(buf, len, L->round_time, d);
    } else {
        const char *u = unit_of(r, rule->field);
        snprintf(num, sizeof num, "%g%s%s", rule->step, u ? " " : "", u ? u : "");
        snprintf(buf, len, L->round_num, num);
    }
}

/* Fields of the route's types that never leave through it. */
static void never_leaves(const struct lang *L, const struct policy_route *r, char *out, size_t len)
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
            if (leaves)
                continue;
            bool dup = false;
            char item[96];
            snprintf(item, sizeof item, "%s (%s)", name, L->cat[t->fields[i].category]);
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

static void agg_summary(const struct lang *L, const struct policy_route *r, char *out, size_t len)
{
    if (!r->agg.on) {
        snprintf(out, len, "%s", L->per_message);
        return;
    }
    char d[64], by[256] = "", per[300] = "";
    human_duration(L, r->agg.window_ms, d, sizeof d);
    list_text(L, r->agg.by, r->agg.nby, by, sizeof by);
    if (r->agg.nby)
        snprintf(per, sizeof per, L->per, by);
    snprintf(out, len, "%s%s%s, min_group %d%s", d, per[0] ? " " : "", per, r->agg.min_group,
             r->agg.totals ? ", totals" : "");
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

static void explain_route(const struct lang *L, const struct policy *p,
                          const struct policy_route *r, FILE *out, bool header)
{
    char buf[4096], d[64];
    if (header)
        fprintf(out, L->route_hdr, r->name);
    fprintf(out, L->purpose, r->purpose);
    list_text(L, (char *const *)r->from_names, r->nfrom, buf, sizeof buf);
    fprintf(out, L->reads, buf);
    if (r->cond_root >= 0) {
        policy_cond_describe(r, r->cond_root, L == &NL ? "nl" : "en", buf, sizeof buf);
        fprintf(out, L->only_when, buf);
        policy_privacy_explain_when(r, L == &NL ? "nl" : "en", out);
    }
    if (r->names_health) {
        health_fields(r, buf, sizeof buf);
        fprintf(out, L->health_warn, buf);
    }
    if (!r->agg.on) {
        bool any = false;
        for (size_t i = 0; i < r->nrules; i++)
            any = any || r->rules[i].action != POLICY_DROP;
        fprintf(out, "%s",
                !any                ? L->nothing_leaves
                : r->cond_root >= 0 ? L->each_message_when
                                    : L->each_message);
        for (size_t i = 0; i < r->nrules; i++) {
            const struct policy_field_rule *rule = &r->rules[i];
            if (rule->action == POLICY_DROP)
                continue;
            const struct sensor_field *f = field_of(r, rule->field);
            action_text(L, p, r, rule, buf, sizeof buf);
            fprintf(out, "    - %s (%s): %s.\n", rule->field, f ? L->cat[f->category] : "?", buf);
        }
    } else {
        const struct policy_agg *a = &r->agg;
        human_duration(L, a->window_ms, d, sizeof d);
        if (a->nby) {
            char by[256], per[300];
            list_text(L, a->by, a->nby, by, sizeof by);
            snprintf(per, sizeof per, L->per, by);
            fprintf(out, L->agg_hdr, d, per);
        } else
            fprintf(out, L->agg_hdr_all, d);
        for (size_t i = 0; i < a->nemit; i++) {
            if (a->emit[i].field)
                snprintf(buf, sizeof buf, L->fn[a->emit[i].fn], a->emit[i].field);
            else
                snprintf(buf, sizeof buf, "%s", L->count_all);
            fprintf(out, "    - %s: %s.\n", a->emit[i].name, buf);
        }
        for (size_t i = 0; i < r->nrules; i++) {
            if (r->rules[i].action != POLICY_GENERALISE)
                continue;
            action_text(L, p, r, &r->rules[i], buf, sizeof buf);
            fprintf(out, L->by_coarse, r->rules[i].field, buf);
        }
        if (a->min_group > 0)
            fprintf(out, L->min_group, a->min_group);
        else
            fprintf(out, "%s", L->no_min_group);
        if (a->totals)
            fprintf(out, "%s", L->totals);
    }
    never_leaves(L, r, buf, sizeof buf);
    if (buf[0])
        fprintf(out, L->never, buf);
    fprintf(out, L->to, r->to);
    if (r->retention_ms) {
        human_duration(L, r->retention_ms, d, sizeof d);
        fprintf(out, L->retention, d);
    } else
        fprintf(out, "%s", L->no_retention);
    explain_batch(L == &NL ? FG_LANG_NL : FG_LANG_EN, r, out);
}

fg_err policy_explain(const struct policy *p, const char *lang, FILE *out)
{
    const struct lang *L = pick(lang);
    if (!L)
        return FG_ERR_CONFIG;
    char a[64], b[64];
    fprintf(out, L->policy_hdr, p->name, p->version);
    if (p->description)
        fprintf(out, "%s\n", p->description);
    if (p->valid_until_ms != INT64_MAX) {
        fmt_date(p->valid_until_ms, a, sizeof a);
        fprintf(out, L->valid_until, a);
    } else
        fprintf(out, "%s", L->no_end);
    human_duration(L, p->rotate_ms, a, sizeof a);
    human_duration(L, p->keep_keys_ms, b, sizeof b);
    fprintf(out, L->pseudo, a, b);
    fprintf(out, "%s", L->fail_closed);
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
static void field_fate(const struct lang *L, const struct policy *p, const struct policy_route *r,
                       const char *f, char *buf, size_t len)
{
    const struct policy_field_rule *rule = find_rule(r, f);
    if (rule && rule->action != POLICY_DROP) {
        action_text(L, p, r, rule, buf, len);
        return;
    }
    for (size_t i = 0; i < r->agg.nby; i++)
        if (!strcmp(r->agg.by[i], f)) {
            snprintf(buf, len, "%s", L->keep);
            return;
        }
    for (size_t i = 0; i < r->agg.nemit; i++)
        if (r->agg.emit[i].field && !strcmp(r->agg.emit[i].field, f)) {
            snprintf(buf, len, L->fn[r->agg.emit[i].fn], f);
            return;
        }
    snprintf(buf, len, "%s", L->diff_not_leave);
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

static void sources_text(const struct lang *L, const struct policy_route *r, char *buf, size_t len)
{
    list_text(L, (char *const *)r->from_names, r->nfrom, buf, len);
}

static int diff_route(const struct lang *L, const struct policy *po, const struct policy_route *o,
                      const struct policy *pn, const struct policy_route *n, FILE *out)
{
    char a[2048], b[2048];
    int changes = 0;
#define HEAD()                                                                                     \
    do {                                                                                           \
        if (!changes++)                                                                            \
            fprintf(out, L->diff_changed, n->name);                                                \
    } while (0)
    if (strcmp(o->purpose, n->purpose)) {
        HEAD();
        fprintf(out, L->diff_purpose, n->purpose, o->purpose);
    }
    sources_text(L, o, a, sizeof a);
    sources_text(L, n, b, sizeof b);
    if (strcmp(a, b)) {
        HEAD();
        fprintf(out, L->diff_from, b, a);
    }
    const char *lang = L == &NL ? "nl" : "en";
    if (o->cond_root >= 0)
        policy_cond_describe(o, o->cond_root, lang, a, sizeof a);
    else
        snprintf(a, sizeof a, "%s", L->diff_always);
    if (n->cond_root >= 0)
        policy_cond_describe(n, n->cond_root, lang, b, sizeof b);
    else
        snprintf(b, sizeof b, "%s", L->diff_always);
    if (strcmp(a, b)) {
        HEAD();
        fprintf(out, L->diff_when, b, a);
    }
    agg_summary(L, o, a, sizeof a);
    agg_summary(L, n, b, sizeof b);
    if (strcmp(a, b)) {
        HEAD();
        fprintf(out, L->diff_agg, b, a);
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
                    fprintf(out, L->diff_field, f, L->cat[t->fields[i].category], b, a);
                }
            }
        }
    if (strcmp(o->to, n->to)) {
        HEAD();
        fprintf(out, L->diff_to, n->to, o->to);
    }
    if (o->retention_ms != n->retention_ms) {
        HEAD();
        if (o->retention_ms)
            human_duration(L, o->retention_ms, a, sizeof a);
        else
            snprintf(a, sizeof a, "%s", L->unlimited);
        if (n->retention_ms)
            human_duration(L, n->retention_ms, b, sizeof b);
        else
            snprintf(b, sizeof b, "%s", L->unlimited);
        fprintf(out, L->diff_retention, b, a);
    }
#undef HEAD
    return changes;
}

fg_err policy_diff(const struct policy *po, const struct policy *pn, const char *lang, FILE *out)
{
    const struct lang *L = pick(lang);
    if (!L)
        return FG_ERR_CONFIG;
    char a[128], b[128];
    int changes = 0;
    fprintf(out, L->diff_hdr, po->name, po->version, pn->name, pn->version);
    if (po->valid_until_ms != pn->valid_until_ms) {
        if (po->valid_until_ms == INT64_MAX)
            snprintf(a, sizeof a, "%s", L->unlimited);
        else
            fmt_date(po->valid_until_ms, a, sizeof a);
        if (pn->valid_until_ms == INT64_MAX)
            snprintf(b, sizeof b, "%s", L->unlimited);
        else
            fmt_date(pn->valid_until_ms, b, sizeof b);
        fprintf(out, L->diff_valid, b, a);
        changes++;
    }
    if (po->rotate_ms != pn->rotate_ms) {
        human_duration(L, po->rotate_ms, a, sizeof a);
        human_duration(L, pn->rotate_ms, b, sizeof b);
        fprintf(out, L->diff_rotate, b, a);
        changes++;
    }
    if (po->keep_keys_ms != pn->keep_keys_ms) {
        human_duration(L, po->keep_keys_ms, a, sizeof a);
        human_duration(L, pn->keep_keys_ms, b, sizeof b);
        fprintf(out, L->diff_keep, b, a);
        changes++;
    }
    if (!same_zones(po, pn)) {
        fprintf(out, "%s", L->diff_zones);
        changes++;
    }
    for (size_t i = 0; i < po->nroutes; i++)
        if (!find_route(pn, po->routes[i].name)) {
            fprintf(out, L->diff_removed, po->routes[i].name);
            changes++;
        }
    for (size_t i = 0; i < pn->nroutes; i++) {
        const struct policy_route *n = &pn->routes[i], *o = find_route(po, n->name);
        if (!o) {
            fprintf(out, L->diff_added, n->name);
            explain_route(L, pn, n, out, false);
            changes++;
        } else
            changes += diff_route(L, po, o, pn, n, out);
    }
    if (!changes)
        fprintf(out, "%s", L->diff_none);
    return ferror(out) ? FG_ERR_IO : FG_OK;
}

/* ---- warnings ---------------------------------------------------------------- */

static void warnf(policy_warn_fn fn, void *ctx, size_t *n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void warnf(policy_warn_fn fn, void *ctx, size_t *n, const char *fmt, ...)
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
            warnf(fn, ctx, &n,
                  "HEALTH DATA LEAVES THE SITE: route '%s' names health fields (%s). The policy "
                  "must be signed by the works council before the gateway runs it.",
                  r->name, buf);
        }
        if (!r->retention_ms)
            warnf(fn, ctx, &n,
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
                    warnf(fn, ctx, &n,
                          "route '%s' sends the worker identifier '%s' of %s as it is: "
                          "pseudonymise it unless the purpose needs the real identity",
                          r->name, f->name, t->name);
                if (a == POLICY_KEEP && f->category == SENSOR_CAT_LOCATION)
                    precise_loc = true;
                if (a == POLICY_KEEP && f->category == SENSOR_CAT_DEVICE_ID)
                    warnf(fn, ctx, &n,
                          "route '%s' sends the device identifier '%s' of %s: a device worn or "
                          "driven by one person identifies that person",
                          r->name, f->name, t->name);
            }
            if (pseudo && precise_loc)
                warnf(fn, ctx, &n,
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
                warnf(fn, ctx, &n,
                      "route '%s' aggregates records of workers (%s) without min_group: a small "
                      "group can single out a person",
                      r->name, t->name);
            for (size_t i = 0; r->agg.on && i < r->agg.nby; i++) {
                int f = src->by_field[i];
                if (t->fields[f].category == SENSOR_CAT_DEVICE_ID)
                    warnf(fn, ctx, &n,
                          "route '%s' groups by the device identifier '%s': a device used by "
                          "one person makes a group of one",
                          r->name, t->fields[f].name);
            }
        }
    }
    return n;
}
