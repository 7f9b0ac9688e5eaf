/* Policy files (YAML) into the compiled model. Every mistake is an error with
 * file:line:col; a policy that does not load forwards nothing. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fg_util.h"
#include "common/fg_yaml.h"
#include "policy/policy_internal.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char *const top_keys[] = {"policy",     "version", "valid_until", "description",
                                       "pseudonyms", "zones",   "limits",      "routes"};
static const char *const route_keys[] = {"name", "purpose", "from",      "to",
                                         "when", "fields",  "aggregate", "retention"};
static const char *const agg_keys[] = {"window",     "by",          "emit",
                                       "min_group",  "totals",      "totals_to",
                                       "max_groups", "max_samples", "workers"};
static const char *const pseudonym_keys[] = {"rotate", "keep_keys"};
static const char *const limit_keys[] = {"max_groups", "max_distinct"};
static const char *const zone_keys[] = {"rect", "polygon"};
static const char *const action_names[] = {"keep", "drop", "pseudonymise", "generalise"};
static const char *const agg_fn_names[] = {
    "count", "count_distinct", "sum", "mean", "min", "max", "p50", "p90", "p99"};

struct ctx {
    struct fg_yaml *y;
    const struct sensor_registry *reg;
    char *why;
    size_t why_len;
};

static fg_err bad(struct ctx *c, yaml_node_t *n, const char *fmt, const char *a, const char *b)
{
    char where[512], msg[512];
    fg_yaml_where(c->y, n, where, sizeof where);
    snprintf(msg, sizeof msg, fmt, a ? a : "", b ? b : "");
    snprintf(c->why, c->why_len, "%s: %s", where, msg);
    return FG_ERR_CONFIG;
}

static fg_err bad_word(struct ctx *c, yaml_node_t *n, const char *what, const char *word,
                       const char *const *valid, size_t nvalid)
{
    const char *s = fg_suggest(word, valid, nvalid);
    char where[512];
    fg_yaml_where(c->y, n, where, sizeof where);
    snprintf(c->why, c->why_len, "%s: unknown %s '%s'%s%s%s", where, what, word,
             s ? " (did you mean '" : "", s ? s : "", s ? "'?)" : "");
    return FG_ERR_CONFIG;
}

static fg_err text(struct ctx *c, yaml_node_t *n, const char *key, char **out)
{
    const char *v = fg_yaml_scalar(n);
    if (!v || !*v)
        return bad(c, n, "'%s' must be a non-empty text value", key, NULL);
    /* Names and purposes travel as MQTT properties and topic levels: a line
     * break or other control character would make brokers drop the link. */
    if (!policy_text_valid(v, strlen(v)))
        return bad(c, n,
                   "'%s' contains a control character (e.g. a line break) or a non-character: "
                   "write it on one line",
                   key, NULL);
    free(*out);
    *out = strdup(v);
    return *out ? FG_OK : FG_ERR_NOMEM;
}

static fg_err duration(struct ctx *c, yaml_node_t *n, const char *key, int64_t *out)
{
    const char *v = fg_yaml_scalar(n);
    if (!v || !fg_parse_duration(v, out) || *out <= 0)
        return bad(c, n, "'%s' must be a duration like 15m, 24h or 30d", key, NULL);
    return FG_OK;
}

static fg_err whole(struct ctx *c, yaml_node_t *n, const char *key, int64_t lo, int64_t hi,
                    int64_t *out)
{
    char range[96];
    snprintf(range, sizeof range, "%lld to %lld", (long long)lo, (long long)hi);
    if (!fg_yaml_to_int(fg_yaml_scalar(n), out) || *out < lo || *out > hi)
        return bad(c, n, "'%s' must be a whole number from %s", key, range);
    return FG_OK;
}

/* x pairs with y, lat with lon: the two coordinates of one point. */
static const char *default_partner(const char *f)
{
    static const char *const pairs[][2] = {
        {"x", "y"}, {"lat", "lon"}, {"latitude", "longitude"}, {"lat", "lng"}};
    for (size_t i = 0; i < N(pairs); i++) {
        if (!strcmp(f, pairs[i][0]))
            return pairs[i][1];
        if (!strcmp(f, pairs[i][1]))
            return pairs[i][0];
    }
    return NULL;
}

static bool is_longitude(const char *f)
{
    return !strcmp(f, "lon") || !strcmp(f, "lng") || !strcmp(f, "longitude");
}

/* The argument of generalise(...): "1m", "0.5", "zone", "zone y", "grid 500m". */
static fg_err parse_generalise(struct ctx *c, yaml_node_t *n, struct policy_field_rule *rule,
                               char *arg)
{
    for (char *q = arg; *q; q++)
        if (*q == ',')
            *q = ' ';
    char w1[64] = "", w2[64] = "", w3[8] = "";
    int nw = sscanf(arg, "%63s %63s %7s", w1, w2, w3);
    if (nw <= 0)
        return bad(c, n,
                   "generalise needs a step, e.g. generalise(1m), generalise(0.5), "
                   "generalise(zone) or generalise(grid 500m)",
                   NULL, NULL);
    if (!strcmp(w1, "zone")) {
        if (nw > 2)
            return bad(c, n, "write generalise(zone) or generalise(zone, OTHER_COORDINATE)", NULL,
                       NULL);
        rule->gen = POLICY_GEN_ZONE;
        const char *partner = nw == 2 ? w2 : default_partner(rule->field);
        if (!partner)
            return bad(c, n,
                       "generalise(zone) on '%s': name the other coordinate, e.g. "
                       "generalise(zone, y)",
                       rule->field, NULL);
        rule->partner = strdup(partner);
        return rule->partner ? FG_OK : FG_ERR_NOMEM;
    }
    if (!strcmp(w1, "grid")) {
        double m = 0;
        char *end = NULL;
        if (nw >= 2)
            m = strtod(w2, &end);
        if (nw < 2 || nw > 2 || end == w2 || !(m > 0) ||
            (strcmp(end, "m") != 0 && strcmp(end, "km") != 0))
            return bad(c, n, "write the grid cell size in metres, e.g. generalise(grid 500m)", NULL,
                       NULL);
        rule->gen = POLICY_GEN_GRID;
        rule->step = !strcmp(end, "km") ? m * 1000 : m;
        if (!strcmp(rule->field, "lat") || !strcmp(rule->field, "latitude"))
            rule->grid_axis = POLICY_GRID_LAT;
        else if (is_longitude(rule->field)) {
            rule->grid_axis = POLICY_GRID_LON;
            /* a longitude cell's width in degrees depends on the latitude */
            rule->partner = strdup(default_partner(rule->field));
            if (!rule->partner)
                return FG_ERR_NOMEM;
        }
        return FG_OK;
    }
    if (nw != 1)
        return bad(c, n, "generalise takes one step, e.g. generalise(1m) or generalise(0.5)", NULL,
                   NULL);
    int64_t ms;
    double d;
    rule->gen = POLICY_GEN_STEP;
    if (fg_parse_duration(w1, &ms) && ms > 0)
        rule->step = (double)ms;
    else if (fg_yaml_to_double(w1, &d) && d > 0 && isfinite(d)) {
        rule->step = d;
        if (d < 1) /* 0.1 * 3 is 0.30000000000000004: apply rounds to these digits */
            rule->round_scale = pow(10, ceil(-log10(d)) + 1);
    } else
        return bad(c, n,
                   "generalise step '%s' is neither a duration, a positive number, zone nor grid",
                   w1, NULL);
    return FG_OK;
}

/* "pseudonymise", "keep", "generalise(1m)", "generalise(zone)", "generalise(grid 500m)" */
static fg_err parse_action(struct ctx *c, yaml_node_t *n, struct policy_field_rule *rule)
{
    const char *v = fg_yaml_scalar(n);
    if (!v)
        return bad(c, n, "the action for field '%s' must be a word such as keep or pseudonymise",
                   rule->field, NULL);
    char word[64];
    size_t wl = strcspn(v, "(");
    while (wl > 0 && v[wl - 1] == ' ')
        wl--;
    if (wl >= sizeof word)
        return bad(c, n, "unknown action '%s'", v, NULL);
    memcpy(word, v, wl);
    word[wl] = '\0';
    int found = -1;
    for (size_t i = 0; i < N(action_names); i++)
        if (strcmp(word, action_names[i]) == 0)
            found = (int)i;
    if (found < 0)
        return bad_word(c, n, "field action", word, action_names, N(action_names));
    rule->action = (policy_action_kind)found;
    const char *arg = v + strcspn(v, "(");
    if (rule->action == POLICY_GENERALISE) {
        size_t al = strlen(arg);
        if (al < 3 || arg[0] != '(' || arg[al - 1] != ')')
            return bad(c, n,
                       "generalise needs a step, e.g. generalise(1m), generalise(0.5), "
                       "generalise(zone) or generalise(grid 500m)",
                       NULL, NULL);
        char step[128];
        if (al - 2 >= sizeof step)
            return bad(c, n, "generalise step too long", NULL, NULL);
        memcpy(step, arg + 1, al - 2);
        step[al - 2] = '\0';
        return parse_generalise(c, n, rule, step);
    }
    if (*arg != '\0')
        return bad(c, n, "action '%s' takes no argument", word, NULL);
    return FG_OK;
}

/* Checks that an action fits the field's type, for every source type. */
static fg_err check_fit(struct ctx *c, yaml_node_t *n, const struct sensor_field *f,
                        const struct policy_field_rule *rule)
{
    if (rule->action == POLICY_PSEUDONYMISE && f->type != SENSOR_STRING &&
        f->type != SENSOR_INTEGER && f->type != SENSOR_ENUM)
        return bad(c, n, "cannot pseudonymise '%s': it is a %s, not an identifier", f->name,
                   sensor_ftype_name(f->type));
    if (rule->action != POLICY_GENERALISE)
        return FG_OK;
    if (rule->gen == POLICY_GEN_STEP && f->type != SENSOR_NUMBER && f->type != SENSOR_INTEGER &&
        f->type != SENSOR_TIMESTAMP)
        return bad(c, n, "cannot generalise '%s': it is a %s; generalise needs a number or time",
                   f->name, sensor_ftype_name(f->type));
    if (rule->gen == POLICY_GEN_STEP && f->type == SENSOR_TIMESTAMP && rule->step < 1)
        return bad(c, n, "'%s' is a time: generalise it to a duration such as 1m or 1h", f->name,
                   NULL);
    if (rule->gen != POLICY_GEN_STEP && ((f->type != SENSOR_NUMBER && f->type != SENSOR_INTEGER) ||
                                         f->category != SENSOR_CAT_LOCATION))
        return bad(c, n, "cannot map '%s' to a %s: it is not a location coordinate", f->name,
                   rule->gen == POLICY_GEN_ZONE ? "zone" : "grid cell");
    return FG_OK;
}

/* A list of field names, or one name. */
static fg_err name_list(struct ctx *c, yaml_node_t *n, const char *key, char **out, size_t max,
                        size_t *count)
{
    yaml_node_t *items[16];
    size_t ni = 0;
    if (n->type == YAML_SCALAR_NODE)
        items[ni++] = n;
    else if (n->type == YAML_SEQUENCE_NODE) {
        FG_YAML_SEQ_FOREACH(c->y, n, it)
        {
            if (ni == max || ni == N(items))
                return bad(c, n, "too many names in '%s'", key, NULL);
            items[ni++] = fg_yaml_node(c->y, *it);
        }
    }
    if (ni == 0)
        return bad(c, n, "'%s' must be a field name or a list of them", key, NULL);
    for (size_t i = 0; i < ni; i++) {
        const char *v = fg_yaml_scalar(items[i]);
        if (!v || !*v)
            return bad(c, items[i], "'%s' must list field names", key, NULL);
        for (size_t k = 0; k < i; k++)
            if (!strcmp(out[k], v))
                return bad(c, items[i], "'%s' is named twice in '%s'", v, key);
        if (!(out[i] = strdup(v)))
            return FG_ERR_NOMEM;
        *count = i + 1;
    }
    return FG_OK;
}

/* Field `name` must exist in every source type of the route. */
static fg_err need_field(struct ctx *c, yaml_node_t *n, const struct policy_route *r,
                         const char *name, const char *what)
{
    for (size_t s = 0; s < r->nfrom; s++) {
        const struct sensor_type *t = r->sources[s].type;
        if (sensor_field_index(t, name) >= 0)
            continue;
        const char *names[SENSOR_MAX_FIELDS];
        for (size_t k = 0; k < t->nfields; k++)
            names[k] = t->fields[k].name;
        char desc[200];
        snprintf(desc, sizeof desc, "%s: field of %s", what, t->name);
        return bad_word(c, n, desc, name, names, t->nfields);
    }
    return FG_OK;
}

static fg_err parse_emit(struct ctx *c, yaml_node_t *kn, yaml_node_t *vn, struct policy_route *r)
{
    struct policy_agg *a = &r->agg;
    const char *name = fg_yaml_scalar(kn), *v = fg_yaml_scalar(vn);
    if (!name || !*name)
        return bad(c, kn, "emit names must be text", NULL, NULL);
    if (!v)
        return bad(c, vn, "'%s' must be a function such as count_distinct(badge)", name, NULL);
    if (a->nemit == POLICY_MAX_EMIT)
        return bad(c, kn, "too many values in 'emit'", NULL, NULL);
    if (!strcmp(name, "window_start") || !strcmp(name, "window_end") || !strcmp(name, "total"))
        return bad(c, kn, "'%s' is a reserved name in aggregate messages", name, NULL);
    for (size_t i = 0; i < a->nby; i++)
        if (!strcmp(a->by[i], name))
            return bad(c, kn, "'%s' is already a 'by' key", name, NULL);
    for (size_t i = 0; i < a->nemit; i++)
        if (!strcmp(a->emit[i].name, name))
            return bad(c, kn, "'%s' is emitted twice", name, NULL);
    char fn[32], field[128] = "";
    size_t fl = strcspn(v, "(");
    const char *open = v + fl;
    if (fl == 0 || fl >= sizeof fn || *open != '(' || v[strlen(v) - 1] != ')')
        return bad(c, vn, "'%s' must be written FUNCTION(FIELD), e.g. mean(temperature)", v, NULL);
    memcpy(fn, v, fl);
    fn[fl] = '\0';
    size_t al = strlen(open) - 2;
    if (al >= sizeof field)
        return bad(c, vn, "field name too long in '%s'", v, NULL);
    memcpy(field, open + 1, al);
    field[al] = '\0';
    /* trim spaces */
    char *f = field;
    while (*f == ' ')
        f++;
    for (size_t l = strlen(f); l > 0 && f[l - 1] == ' '; l--)
        f[l - 1] = '\0';
    int found = -1;
    for (size_t i = 0; i < N(agg_fn_names); i++)
        if (!strcmp(fn, agg_fn_names[i]))
            found = (int)i;
    if (found < 0)
        return bad_word(c, vn, "aggregate function", fn, agg_fn_names, N(agg_fn_names));
    struct policy_agg_emit *em = &a->emit[a->nemit];
    em->fn = (policy_agg_fn)found;
    if (!(em->name = strdup(name)))
        return FG_ERR_NOMEM;
    a->nemit++;
    if (!*f) {
        if (em->fn != POLICY_AGG_COUNT)
            return bad(c, vn, "%s needs a field, e.g. %s(temperature)", fn, fn);
        return FG_OK;
    }
    fg_err e = need_field(c, vn, r, f, "aggregate");
    if (e)
        return e;
    if (!(em->field = strdup(f)))
        return FG_ERR_NOMEM;
    for (size_t s = 0; s < r->nfrom; s++) {
        const struct sensor_type *t = r->sources[s].type;
        const struct sensor_field *fd = &t->fields[sensor_field_index(t, f)];
        bool ident = fd->category == SENSOR_CAT_WORKER_ID || fd->category == SENSOR_CAT_DEVICE_ID;
        bool numeric = fd->type == SENSOR_NUMBER || fd->type == SENSOR_INTEGER;
        /* max(driver) would publish an identifier: identifiers are only counted */
        if (ident && em->fn != POLICY_AGG_COUNT && em->fn != POLICY_AGG_COUNT_DISTINCT)
            return bad(c, vn, "'%s' is an identifier: it can only be counted (count_distinct)", f,
                       NULL);
        if (em->fn >= POLICY_AGG_SUM && !numeric)
            return bad(c, vn, "%s needs a number, but '%s' is not one", fn, f);
        if (fd->category == SENSOR_CAT_HEALTH)
            r->names_health = true;
    }
    return FG_OK;
}

static fg_err parse_aggregate(struct ctx *c, yaml_node_t *n, struct policy_route *r)
{
    struct policy_agg *a = &r->agg;
    struct fg_yaml *y = c->y;
    fg_err e = FG_OK;
    if (n->type != YAML_MAPPING_NODE)
        return bad(c, n, "'aggregate' must be a mapping with window, by, emit and min_group", NULL,
                   NULL);
    a->on = true;
    a->max_groups = 1024;
    a->max_samples = 1024;
    yaml_node_t *emit = NULL, *by = NULL, *workers = NULL;
    FG_YAML_MAP_FOREACH(y, n, pair)
    {
        yaml_node_t *kn = fg_yaml_node(y, pair->key), *vn = fg_yaml_node(y, pair->value);
        const char *k = fg_yaml_scalar(kn);
        int64_t v;
        if (!k)
            return bad(c, kn, "keys must be text", NULL, NULL);
        if (!strcmp(k, "window"))
            e = duration(c, vn, k, &a->window_ms);
        else if (!strcmp(k, "by"))
            by = vn;
        else if (!strcmp(k, "emit"))
            emit = vn;
        else if (!strcmp(k, "workers"))
            workers = vn;
        else if (!strcmp(k, "min_group")) {
            e = whole(c, vn, k, 0, 1000000, &v);
            a->min_group = (int)v;
        } else if (!strcmp(k, "max_groups")) {
            e = whole(c, vn, k, 1, 1000000, &v);
            a->max_groups = (size_t)v;
        } else if (!strcmp(k, "max_samples")) {
            e = whole(c, vn, k, 16, 1000000, &v);
            a->max_samples = (size_t)v;
        } else if (!strcmp(k, "totals")) {
            if (!fg_yaml_to_bool(fg_yaml_scalar(vn), &a->totals))
                return bad(c, vn, "'totals' must be true or false", NULL, NULL);
        } else if (!strcmp(k, "totals_to"))
            e = text(c, vn, k, &a->totals_to);
        else
            return bad_word(c, kn, "aggregate key", k, agg_keys, N(agg_keys));
        if (e)
            return e;
    }
    if (!a->window_ms)
        return bad(c, n, "'aggregate' needs a 'window', e.g. window: 15m", NULL, NULL);
    if (by) {
        if ((e = name_list(c, by, "by", a->by, POLICY_MAX_BY, &a->nby)))
            return e;
        for (size_t i = 0; i < a->nby; i++) {
            if ((e = need_field(c, by, r, a->by[i], "by")))
                return e;
            for (size_t s = 0; s < r->nfrom; s++) {
                const struct sensor_type *t = r->sources[s].type;
                if (t->fields[sensor_field_index(t, a->by[i])].category == SENSOR_CAT_WORKER_ID)
                    return bad(c, by,
                               "cannot group by '%s': it identifies a worker, so every group "
                               "would be one person",
                               a->by[i], NULL);
            }
        }
    }
    if (a->totals && a->nby == 0)
        return bad(c, n, "'totals' needs 'by': without groups the total is the only group", NULL,
                   NULL);
    if (!emit || emit->type != YAML_MAPPING_NODE || !emit->data.mapping.pairs.top ||
        emit->data.mapping.pairs.top == emit->data.mapping.pairs.start)
        return bad(c, emit ? emit : n,
                   "'aggregate' needs 'emit': a mapping of name to function, e.g. "
                   "{ people: count_distinct(badge) }",
                   NULL, NULL);
    FG_YAML_MAP_FOREACH(y, emit, pair)
    {
        if ((e = parse_emit(c, fg_yaml_node(y, pair->key), fg_yaml_node(y, pair->value), r)))
            return e;
    }
    if (workers) {
        if ((e = name_list(c, workers, "workers", a->workers, POLICY_MAX_WORKER_FIELDS,
                           &a->nworkers)))
            return e;
        for (size_t i = 0; i < a->nworkers; i++)
            if ((e = need_field(c, workers, r, a->workers[i], "workers")))
                return e;
    }
    return FG_OK;
}

/* Compiles the `when` text and type-checks it against every source. */
static fg_err compile_when(struct ctx *c, yaml_node_t *n, struct policy_route *r)
{
    const char *v = fg_yaml_scalar(n);
    char msg[256];
    int col = 0;
    if (!v || !*v)
        return bad(c, n, "'when' must be a condition such as man_down == true", NULL, NULL);
    if (!(r->when = strdup(v)))
        return FG_ERR_NOMEM;
    if (policy_cond_parse(r, v, msg, sizeof msg, &col)) {
        /* point at the offending column of a plain one-line scalar */
        bool plain = n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && !strchr(v, '\n');
        snprintf(c->why, c->why_len, "%s:%d:%d: in 'when': %s", c->y->file,
                 (int)n->start_mark.line + 1, (int)n->start_mark.column + 1 + (plain ? col : 0),
                 msg);
        return FG_ERR_CONFIG;
    }
    for (int i = 0; i < r->ncond; i++) {
        struct policy_cond *cd = &r->cond[i];
        if (cd->kind != POLICY_COND_CMP)
            continue;
        bool anywhere = false;
        for (size_t s = 0; s < r->nfrom; s++) {
            struct policy_route_source *src = &r->sources[s];
            int idx = sensor_field_index(src->type, cd->field);
            src->cond_field[i] = (signed char)idx;
            if (idx < 0)
                continue;
            anywhere = true;
            const struct sensor_field *f = &src->type->fields[idx];
            if (f->category == SENSOR_CAT_HEALTH)
                r->names_health = true; /* a message that exists only if hr > 180 tells it */
            switch (f->type) {
            case SENSOR_BOOLEAN:
                if (cd->lit != POLICY_LIT_BOOL || cd->op > POLICY_OP_NE)
                    return bad(c, n, "'%s' is true or false: compare it with == true or == false",
                               cd->field, NULL);
                break;
            case SENSOR_STRING:
            case SENSOR_ENUM:
                if (cd->lit != POLICY_LIT_STR || cd->op > POLICY_OP_NE)
                    return bad(c, n, "'%s' is text: compare it with == or != and a text value",
                               cd->field, NULL);
                if (f->type == SENSOR_ENUM) {
                    bool ok = false;
                    for (size_t k = 0; k < f->nvalues; k++)
                        ok = ok || !strcmp(f->values[k], cd->str);
                    if (!ok)
                        return bad_word(c, n, "value of", cd->str, (const char *const *)f->values,
                                        f->nvalues);
                }
                break;
            case SENSOR_TIMESTAMP:
                if (cd->lit == POLICY_LIT_STR) {
                    int64_t ms;
                    if (!fg_parse_time(cd->str, cd->str_len, &ms))
                        return bad(c, n, "'%s' is a time: compare it with a time like %s",
                                   cd->field, "2026-01-01T00:00:00Z");
                    cd->lit = POLICY_LIT_NUM;
                    cd->num = (double)ms;
                } else if (cd->lit != POLICY_LIT_NUM || !cd->str)
                    return bad(c, n, "'%s' is a time: compare it with a time like %s", cd->field,
                               "2026-01-01T00:00:00Z");
                break;
            case SENSOR_NUMBER:
            case SENSOR_INTEGER:
                if (cd->lit != POLICY_LIT_NUM || cd->str)
                    return bad(c, n, "'%s' is a number: compare it with a number", cd->field, NULL);
                break;
            default:
                return bad(c, n, "cannot compare '%s'", cd->field, NULL);
            }
        }
        if (!anywhere)
            return need_field(c, n, r, cd->field, "when");
    }
    return FG_OK;
}

static fg_err parse_fields(struct ctx *c, yaml_node_t *fields, struct policy_route *r)
{
    struct fg_yaml *y = c->y;
    fg_err e;
    FG_YAML_MAP_FOREACH(y, fields, pair)
    {
        yaml_node_t *kn = fg_yaml_node(y, pair->key), *vn = fg_yaml_node(y, pair->value);
        const char *fname = fg_yaml_scalar(kn);
        if (!fname)
            return bad(c, kn, "field names must be text", NULL, NULL);
        if (r->nrules == POLICY_MAX_FIELD_RULES)
            return bad(c, kn, "too many field rules", NULL, NULL);
        struct policy_field_rule *rule = &r->rules[r->nrules];
        if (!(rule->field = strdup(fname)))
            return FG_ERR_NOMEM;
        rule->line = (int)kn->start_mark.line + 1;
        rule->col = (int)kn->start_mark.column + 1;
        r->nrules++;
        if ((e = parse_action(c, vn, rule)))
            return e;
        if (r->agg.on) {
            /* In an aggregate route, fields only say how coarse a group key is. */
            bool is_by = false;
            for (size_t i = 0; i < r->agg.nby; i++)
                is_by = is_by || !strcmp(r->agg.by[i], fname);
            if (!is_by)
                return bad(c, kn,
                           "'%s' is not a 'by' key: an aggregate route sends only its groups "
                           "and the values in 'emit'",
                           fname, NULL);
            if (rule->action != POLICY_KEEP && rule->action != POLICY_GENERALISE)
                return bad(c, vn, "a 'by' key can only be kept or generalised", NULL, NULL);
        }
        bool known_somewhere = false;
        for (size_t s = 0; s < r->nfrom; s++) {
            const struct sensor_type *t = r->sources[s].type;
            int idx = sensor_field_index(t, fname);
            if (idx < 0)
                continue;
            known_somewhere = true;
            if ((e = check_fit(c, vn, &t->fields[idx], rule)))
                return e;
            if (r->sources[s].action[idx] != -1)
                return bad(c, kn, "field '%s' has two rules", fname, NULL);
            r->sources[s].action[idx] = (signed char)rule->action;
            r->sources[s].rule[idx] = (int)(r->nrules - 1);
            if (t->fields[idx].category == SENSOR_CAT_HEALTH && rule->action != POLICY_DROP)
                r->names_health = true;
        }
        if (!known_somewhere) {
            const char *names[SENSOR_MAX_FIELDS];
            const struct sensor_type *t0 = r->sources[0].type;
            for (size_t k = 0; k < t0->nfields; k++)
                names[k] = t0->fields[k].name;
            char what[160];
            snprintf(what, sizeof what, "field of %s", t0->name);
            return bad_word(c, kn, what, fname, names, t0->nfields);
        }
    }
    /* Partners: generalise(zone) consumes the other coordinate; a grid on a
     * longitude reads the latitude. */
    for (size_t ri = 0; ri < r->nrules; ri++) {
        struct policy_field_rule *rule = &r->rules[ri];
        if (rule->action != POLICY_GENERALISE || !rule->partner)
            continue;
        for (size_t s = 0; s < r->nfrom; s++) {
            struct policy_route_source *src = &r->sources[s];
            int idx = sensor_field_index(src->type, rule->field);
            if (idx < 0)
                continue;
            int pi = sensor_field_index(src->type, rule->partner);
            if (pi < 0 || pi == idx ||
                (src->type->fields[pi].type != SENSOR_NUMBER &&
                 src->type->fields[pi].type != SENSOR_INTEGER))
                return bad(c, fields,
                           "'%s' needs its other coordinate '%s' (a number in the same record)",
                           rule->field, rule->partner);
            if (rule->gen == POLICY_GEN_ZONE) {
                int pa = src->action[pi];
                if (pa != -1 && pa != POLICY_DROP)
                    return bad(c, fields,
                               "'%s' is mapped to a zone together with '%s', which therefore "
                               "cannot also leave on its own",
                               rule->field, rule->partner);
                if (src->partner_of[pi] != -1)
                    return bad(c, fields, "'%s' is the other coordinate of two zone rules",
                               rule->partner, NULL);
                src->partner_of[pi] = (signed char)idx;
            }
            src->partner[idx] = (signed char)pi;
        }
    }
    return FG_OK;
}

/* Destination placeholders: {site}, {route}, {type}; for a per-message route
 * a field that leaves, for an aggregate route a `by` key. */
static fg_err check_topic(struct ctx *c, yaml_node_t *n, const struct policy_route *r,
                          const char *to)
{
    for (const char *q = strchr(to, '{'); q; q = strchr(q + 1, '{')) {
        const char *end = strchr(q, '}');
        if (!end)
            return bad(c, n, "destination '%s' has an unclosed '{'", to, NULL);
        char ph[64];
        size_t l = (size_t)(end - q - 1);
        if (l == 0 || l >= sizeof ph || memchr(q + 1, '{', l))
            return bad(c, n, "destination '%s' has a bad placeholder", to, NULL);
        memcpy(ph, q + 1, l);
        ph[l] = '\0';
        if (!strcmp(ph, "site") || !strcmp(ph, "route") || !strcmp(ph, "type"))
            continue;
        bool ok = false;
        if (r->agg.on) {
            for (size_t i = 0; i < r->agg.nby; i++)
                ok = ok || !strcmp(r->agg.by[i], ph);
        } else {
            for (size_t s = 0; s < r->nfrom; s++) {
                int idx = sensor_field_index(r->sources[s].type, ph);
                ok = idx >= 0 && r->sources[s].action[idx] != -1 &&
                     r->sources[s].action[idx] != POLICY_DROP;
                if (!ok)
                    break;
            }
        }
        if (!ok)
            return bad(c, n,
                       r->agg.on ? "destination placeholder {%s} must be {site}, {route}, {type} "
                                   "or a 'by' key"
                                 : "destination placeholder {%s} must be {site}, {route}, {type} "
                                   "or a field this route lets leave",
                       ph, NULL);
    }
    if (strchr(to, '+') || strchr(to, '#'))
        return bad(c, n, "destination '%s' must not contain MQTT wildcards", to, NULL);
    return FG_OK;
}

/* Splits a checked per-message destination into segments and resolves field
 * placeholders per source, so apply neither searches for braces nor compares
 * placeholder names. */
static fg_err compile_topic(struct policy_route *r)
{
    const char *to = r->to, *s = to;
    size_t max = 1;
    for (const char *q = strchr(to, '{'); q; q = strchr(q + 1, '{'))
        max += 2; /* a placeholder and the literal after it */
    if (!(r->to_seg = calloc(max, sizeof *r->to_seg)))
        return FG_ERR_NOMEM;
    int n = 0;
    while (*s) {
        struct policy_topic_seg *g = &r->to_seg[n++];
        const char *open = strchr(s, '{');
        if (open != s) {
            size_t l = open ? (size_t)(open - s) : strlen(s);
            *g = (struct policy_topic_seg){POLICY_TOPIC_LIT, (uint32_t)(s - to), (uint32_t)l, {0}};
            s += l;
            continue;
        }
        const char *close = strchr(open, '}'); /* check_topic: present, name below 64 */
        size_t l = (size_t)(close - open - 1);
        *g = (struct policy_topic_seg){
            POLICY_TOPIC_FIELD, (uint32_t)(open + 1 - to), (uint32_t)l, {0}};
        if (l == 4 && !memcmp(open + 1, "site", 4))
            g->kind = POLICY_TOPIC_SITE;
        else if (l == 5 && !memcmp(open + 1, "route", 5))
            g->kind = POLICY_TOPIC_ROUTE;
        else if (l == 4 && !memcmp(open + 1, "type", 4))
            g->kind = POLICY_TOPIC_TYPE;
        else {
            char ph[64];
            memcpy(ph, open + 1, l);
            ph[l] = '\0';
            for (size_t k = 0; k < r->nfrom; k++)
                g->field[k] = (signed char)sensor_field_index(r->sources[k].type, ph);
        }
        s = close + 1;
    }
    r->nto_seg = n;
    return FG_OK;
}

static fg_err parse_route(struct ctx *c, yaml_node_t *n, struct policy *p, struct policy_route *r)
{
    struct fg_yaml *y = c->y;
    fg_err e;
    r->cond_root = -1;
    if (n->type != YAML_MAPPING_NODE)
        return bad(c, n, "each route must be a mapping with name, purpose, from, to", NULL, NULL);
    yaml_node_t *fields = NULL, *from = NULL, *when = NULL, *agg = NULL, *to_node = n;
    FG_YAML_MAP_FOREACH(y, n, pair)
    {
        yaml_node_t *kn = fg_yaml_node(y, pair->key), *vn = fg_yaml_node(y, pair->value);
        const char *k = fg_yaml_scalar(kn);
        if (!k)
            return bad(c, kn, "keys must be text", NULL, NULL);
        e = FG_OK;
        if (!strcmp(k, "name"))
            e = text(c, vn, k, &r->name);
        else if (!strcmp(k, "purpose"))
            e = text(c, vn, k, &r->purpose);
        else if (!strcmp(k, "to")) {
            e = text(c, vn, k, &r->to);
            to_node = vn;
        } else if (!strcmp(k, "retention"))
            e = duration(c, vn, k, &r->retention_ms);
        else if (!strcmp(k, "fields"))
            fields = vn;
        else if (!strcmp(k, "from"))
            from = vn;
        else if (!strcmp(k, "when"))
            when = vn;
        else if (!strcmp(k, "aggregate"))
            agg = vn;
        else
            return bad_word(c, kn, "route key", k, route_keys, N(route_keys));
        if (e)
            return e;
    }
    if (!r->name)
        return bad(c, n, "a route has no name", NULL, NULL);
    for (size_t i = 0; i < p->nroutes; i++)
        if (strcmp(p->routes[i].name, r->name) == 0)
            return bad(c, n, "route '%s' is defined twice", r->name, NULL);
    if (!r->purpose)
        return bad(c, n, "route '%s' has no purpose: every route must say what the data is for",
                   r->name, NULL);
    if (!r->to)
        return bad(c, n, "route '%s' has no destination ('to')", r->name, NULL);
    if (!from)
        return bad(c, n, "route '%s' has no source sensor type ('from')", r->name, NULL);
    /* from: one name or a list */
    yaml_node_t *items[POLICY_MAX_FROM];
    size_t nitems = 0;
    if (from->type == YAML_SCALAR_NODE)
        items[nitems++] = from;
    else if (from->type == YAML_SEQUENCE_NODE) {
        FG_YAML_SEQ_FOREACH(y, from, it)
        {
            if (nitems == POLICY_MAX_FROM)
                return bad(c, from, "too many source types", NULL, NULL);
            items[nitems++] = fg_yaml_node(y, *it);
        }
    }
    if (nitems == 0)
        return bad(c, from, "'from' must name a sensor type or a list of them", NULL, NULL);
    for (size_t i = 0; i < nitems; i++) {
        const char *tn = fg_yaml_scalar(items[i]);
        const struct sensor_type *t = tn ? sensor_registry_find(c->reg, tn) : NULL;
        if (!t) {
            const char *names[128];
            size_t nn = 0;
            for (size_t k = 0; k < sensor_registry_count(c->reg) && nn < 128; k++)
                names[nn++] = sensor_registry_at(c->reg, k)->name;
            return bad_word(c, items[i], "sensor type", tn ? tn : "?", names, nn);
        }
        for (size_t k = 0; k < r->nfrom; k++)
            if (r->sources[k].type == t)
                return bad(c, items[i], "'%s' is named twice in 'from'", tn, NULL);
        if (!(r->from_names[r->nfrom] = strdup(tn)))
            return FG_ERR_NOMEM;
        struct policy_route_source *src = &r->sources[r->nfrom];
        src->type = t;
        memset(src->action, -1, sizeof src->action);
        memset(src->partner_of, -1, sizeof src->partner_of);
        memset(src->partner, -1, sizeof src->partner);
        memset(src->cond_field, -1, sizeof src->cond_field);
        memset(src->by_field, -1, sizeof src->by_field);
        memset(src->emit_field, -1, sizeof src->emit_field);
        r->nfrom++;
    }
    if (when && (e = compile_when(c, when, r)))
        return e;
    if (agg && (e = parse_aggregate(c, agg, r)))
        return e;
    if (!agg && (!fields || fields->type != YAML_MAPPING_NODE))
        return bad(c, fields ? fields : n,
                   "route '%s' needs 'fields' (a mapping of field name to action) or 'aggregate'",
                   r->name, NULL);
    if (fields && fields->type != YAML_MAPPING_NODE)
        return bad(c, fields, "'fields' must be a mapping of field name to action", NULL, NULL);
    if (fields && (e = parse_fields(c, fields, r)))
        return e;
    if (r->agg.on) {
        struct policy_agg *a = &r->agg;
        for (size_t s = 0; s < r->nfrom; s++) {
            struct policy_route_source *src = &r->sources[s];
            const struct sensor_type *t = src->type;
            for (size_t i = 0; i < a->nby; i++) {
                int idx = sensor_field_index(t, a->by[i]);
                src->by_field[i] = (signed char)idx;
                if (src->action[idx] == -1)
                    src->action[idx] = POLICY_KEEP; /* a by key is kept unless generalised */
                if (t->fields[idx].category == SENSOR_CAT_HEALTH)
                    r->names_health = true;
            }
            for (size_t i = 0; i < a->nemit; i++)
                src->emit_field[i] =
                    (signed char)(a->emit[i].field ? sensor_field_index(t, a->emit[i].field) : -1);
            if (a->nworkers) {
                for (size_t i = 0; i < a->nworkers; i++)
                    src->worker_field[src->nworker_fields++] =
                        (signed char)sensor_field_index(t, a->workers[i]);
            } else {
                for (size_t k = 0; k < t->nfields && src->nworker_fields < POLICY_MAX_WORKER_FIELDS;
                     k++)
                    if (t->fields[k].category == SENSOR_CAT_WORKER_ID)
                        src->worker_field[src->nworker_fields++] = (signed char)k;
            }
            if (a->min_group > 0 && src->nworker_fields == 0)
                return bad(c, agg,
                           "min_group counts distinct workers, but %s has no worker-id field: "
                           "name the fields with 'workers:' or drop min_group",
                           t->name, NULL);
        }
    }
    if ((e = check_topic(c, to_node, r, r->to)))
        return e;
    if (r->agg.totals_to && (e = check_topic(c, agg, r, r->agg.totals_to)))
        return e;
    return r->agg.on ? FG_OK : compile_topic(r);
}

static fg_err parse_zones(struct ctx *c, yaml_node_t *n, struct policy *p)
{
    struct fg_yaml *y = c->y;
    if (n->type != YAML_MAPPING_NODE)
        return bad(c, n,
                   "'zones' must map zone names to { rect: [x0, y0, x1, y1] } or "
                   "{ polygon: [[x, y], ...] }",
                   NULL, NULL);
    FG_YAML_MAP_FOREACH(y, n, pair)
    {
        yaml_node_t *kn = fg_yaml_node(y, pair->key), *vn = fg_yaml_node(y, pair->value);
        const char *zn = fg_yaml_scalar(kn);
        if (!zn || !*zn)
            return bad(c, kn, "zone names must be text", NULL, NULL);
        if (p->nzones == POLICY_MAX_ZONES)
            return bad(c, kn, "too many zones", NULL, NULL);
        for (size_t i = 0; i < p->nzones; i++)
            if (!strcmp(p->zones[i].name, zn))
                return bad(c, kn, "zone '%s' is defined twice", zn, NULL);
        struct policy_zone *z = &p->zones[p->nzones];
        if (!(z->name = strdup(zn)))
            return FG_ERR_NOMEM;
        p->nzones++;
        if (vn->type != YAML_MAPPING_NODE ||
            vn->data.mapping.pairs.top - vn->data.mapping.pairs.start != 1)
            return bad(c, vn, "zone '%s' must be { rect: [x0, y0, x1, y1] } or { polygon: ... }",
                       zn, NULL);
        yaml_node_pair_t *pp = vn->data.mapping.pairs.start;
        yaml_node_t *sk = fg_yaml_node(y, pp->key), *sv = fg_yaml_node(y, pp->value);
        const char *shape = fg_yaml_scalar(sk);
        if (!shape || (strcmp(shape, "rect") && strcmp(shape, "polygon")))
            return bad_word(c, sk, "zone shape", shape ? shape : "?", zone_keys, N(zone_keys));
        if (sv->type != YAML_SEQUENCE_NODE)
            return bad(c, sv, "'%s' must be a list", shape, NULL);
        if (!strcmp(shape, "rect")) {
            double v[4];
            int k = 0;
            FG_YAML_SEQ_FOREACH(y, sv, it)
            {
                if (k == 4 || !fg_yaml_to_double(fg_yaml_scalar(fg_yaml_node(y, *it)), &v[k]))
                    return bad(c, sv, "rect must be four numbers: [x0, y0, x1, y1]", NULL, NULL);
                k++;
            }
            if (k != 4 || !(v[2] > v[0]) || !(v[3] > v[1]))
                return bad(c, sv, "rect must be [x0, y0, x1, y1] with x1 > x0 and y1 > y0", NULL,
                           NULL);
            z->npts = 2;
            z->x[0] = v[0], z->y[0] = v[1], z->x[1] = v[2], z->y[1] = v[3];
        } else {
            FG_YAML_SEQ_FOREACH(y, sv, it)
            {
                yaml_node_t *pt = fg_yaml_node(y, *it);
                double xy[2];
                int k = 0;
                if (pt->type == YAML_SEQUENCE_NODE) {
                    FG_YAML_SEQ_FOREACH(y, pt, q)
                    {
                        if (k == 2 ||
                            !fg_yaml_to_double(fg_yaml_scalar(fg_yaml_node(y, *q)), &xy[k]))
                            break;
                        k++;
                    }
                    if (k == 2 && pt->data.sequence.items.top - pt->data.sequence.items.start != 2)
                        k = 0;
                }
                if (k != 2)
                    return bad(c, pt, "each polygon point must be [x, y]", NULL, NULL);
                if (z->npts == POLICY_MAX_POLY)
                    return bad(c, pt, "a polygon has at most 32 points", NULL, NULL);
                z->x[z->npts] = xy[0];
                z->y[z->npts] = xy[1];
                z->npts++;
            }
            if (z->npts < 3)
                return bad(c, sv, "a polygon needs at least 3 points", NULL, NULL);
        }
    }
    return FG_OK;
}

static fg_err parse_policy(struct ctx *c, struct policy *p)
{
    struct fg_yaml *y = c->y;
    yaml_node_t *root = fg_yaml_root(y);
    fg_err e = FG_OK;
    if (!root || root->type != YAML_MAPPING_NODE)
        return bad(c, root, "a policy must be a mapping", NULL, NULL);
    yaml_node_t *routes = NULL, *zones = NULL;
    FG_YAML_MAP_FOREACH(y, root, pair)
    {
        yaml_node_t *kn = fg_yaml_node(y, pair->key), *vn = fg_yaml_node(y, pair->value);
        const char *k = fg_yaml_scalar(kn);
        if (!k)
            return bad(c, kn, "keys must be text", NULL, NULL);
        if (!strcmp(k, "policy"))
            e = text(c, vn, k, &p->name);
        else if (!strcmp(k, "description"))
            e = text(c, vn, k, &p->description);
        else if (!strcmp(k, "version")) {
            int64_t v;
            if (!fg_yaml_to_int(fg_yaml_scalar(vn), &v) || v < 1 || v > 1000000)
                return bad(c, vn, "'version' must be a whole number from 1", NULL, NULL);
            p->version = (int)v;
        } else if (!strcmp(k, "valid_until")) {
            const char *v = fg_yaml_scalar(vn);
            int64_t ms;
            if (!v || !fg_parse_time(v, strlen(v), &ms))
                return bad(c, vn, "'valid_until' must be a date like 2027-06-30", NULL, NULL);
            /* A date means through the end of that day (UTC). */
            p->valid_until_ms = strlen(v) == 10 ? ms + 86400000 - 1 : ms;
        } else if (!strcmp(k, "pseudonyms")) {
            if (vn->type != YAML_MAPPING_NODE)
                return bad(c, vn, "'pseudonyms' must be a mapping with rotate and keep_keys", NULL,
                           NULL);
            FG_YAML_MAP_FOREACH(y, vn, pp)
            {
                yaml_node_t *pk = fg_yaml_node(y, pp->key), *pv = fg_yaml_node(y, pp->value);
                const char *ks = fg_yaml_scalar(pk);
                if (ks && !strcmp(ks, "rotate"))
                    e = duration(c, pv, ks, &p->rotate_ms);
                else if (ks && !strcmp(ks, "keep_keys"))
                    e = duration(c, pv, ks, &p->keep_keys_ms);
                else
                    return bad_word(c, pk, "pseudonyms key", ks ? ks : "?", pseudonym_keys,
                                    N(pseudonym_keys));
                if (e)
                    return e;
            }
        } else if (!strcmp(k, "limits")) {
            if (vn->type != YAML_MAPPING_NODE)
                return bad(c, vn, "'limits' must be a mapping with max_groups and max_distinct",
                           NULL, NULL);
            FG_YAML_MAP_FOREACH(y, vn, pp)
            {
                yaml_node_t *pk = fg_yaml_node(y, pp->key), *pv = fg_yaml_node(y, pp->value);
                const char *ks = fg_yaml_scalar(pk);
                int64_t v = 0;
                if (ks && !strcmp(ks, "max_groups")) {
                    e = whole(c, pv, ks, 1, 10000000, &v);
                    p->max_groups_total = (size_t)v;
                } else if (ks && !strcmp(ks, "max_distinct")) {
                    e = whole(c, pv, ks, 1, 100000000, &v);
                    p->max_distinct = (size_t)v;
                } else
                    return bad_word(c, pk, "limits key", ks ? ks : "?", limit_keys, N(limit_keys));
                if (e)
                    return e;
            }
        } else if (!strcmp(k, "zones")) {
            zones = vn;
        } else if (!strcmp(k, "routes")) {
            routes = vn;
        } else
            return bad_word(c, kn, "policy key", k, top_keys, N(top_keys));
        if (e)
            return e;
    }
    if (!p->name)
        return bad(c, root, "the policy has no name ('policy: NAME')", NULL, NULL);
    if (!p->version)
        return bad(c, root, "the policy has no 'version'", NULL, NULL);
    if (zones && (e = parse_zones(c, zones, p)))
        return e;
    if (!routes || routes->type != YAML_SEQUENCE_NODE)
        return bad(c, routes ? routes : root, "'routes' must be a list", NULL, NULL);
    FG_YAML_SEQ_FOREACH(y, routes, it)
    {
        if (p->nroutes == POLICY_MAX_ROUTES)
            return bad(c, routes, "too many routes", NULL, NULL);
        struct policy_route *r = &p->routes[p->nroutes];
        e = parse_route(c, fg_yaml_node(y, *it), p, r);
        p->nroutes++; /* counted even on error, so policy_free frees it */
        if (e)
            return e;
        for (size_t i = 0; i < r->nrules; i++)
            if (r->rules[i].action == POLICY_GENERALISE && r->rules[i].gen == POLICY_GEN_ZONE &&
                p->nzones == 0)
                return bad(c, fg_yaml_node(y, *it),
                           "route '%s' maps '%s' to a zone, but the policy has no 'zones:'",
                           r->name, r->rules[i].field);
    }
    return FG_OK;
}

static fg_err finish_load(struct fg_yaml *y, const char *name, const struct sensor_registry *reg,
                          const char *site, struct policy **out, char *why, size_t why_len)
{
    struct policy *p = calloc(1, sizeof *p);
    if (!p)
        return FG_ERR_NOMEM;
    p->valid_until_ms = INT64_MAX;
    p->rotate_ms = 86400000LL;
    p->keep_keys_ms = 30 * 86400000LL;
    p->max_groups_total = 16384;
    p->max_distinct = 1000000;
    p->file = strdup(name);
    p->site = strdup(site ? site : "site");
    if (!p->file || !p->site) {
        policy_free(p);
        return FG_ERR_NOMEM;
    }
    struct ctx c = {.y = y, .reg = reg, .why = why, .why_len = why_len};
    fg_err e = parse_policy(&c, p);
    if (!e)
        e = policy_agg_setup(p);
    if (e) {
        policy_free(p);
        return e;
    }
    *out = p;
    return FG_OK;
}

fg_err policy_load_string(const char *name, const char *text_, size_t len,
                          const struct sensor_registry *reg, const char *site, struct policy **out,
                          char *why, size_t why_len)
{
    struct fg_yaml y;
    *out = NULL;
    fg_err e = fg_yaml_load_string(&y, name, text_, len, why, why_len);
    if (!e)
        e = finish_load(&y, name, reg, site, out, why, why_len);
    fg_yaml_free(&y);
    return e == FG_ERR_PARSE ? FG_ERR_CONFIG : e;
}

fg_err policy_load_file(const char *path, const struct sensor_registry *reg, const char *site,
                        struct policy **out, char *why, size_t why_len)
{
    struct fg_yaml y;
    *out = NULL;
    fg_err e = fg_yaml_load_file(&y, path, why, why_len);
    if (!e)
        e = finish_load(&y, path, reg, site, out, why, why_len);
    fg_yaml_free(&y);
    return e == FG_ERR_PARSE ? FG_ERR_CONFIG : e;
}

void policy_free(struct policy *p)
{
    if (!p)
        return;
    policy_agg_teardown(p);
    for (size_t i = 0; i < p->nroutes; i++) {
        struct policy_route *r = &p->routes[i];
        free(r->name);
        free(r->purpose);
        free(r->to);
        free(r->to_seg);
        free(r->when);
        for (size_t k = 0; k < r->nfrom; k++)
            free(r->from_names[k]);
        for (size_t k = 0; k < r->nrules; k++) {
            free(r->rules[k].field);
            free(r->rules[k].partner);
        }
        for (int k = 0; k < r->ncond; k++) {
            free(r->cond[k].field);
            free(r->cond[k].str);
        }
        for (size_t k = 0; k < r->agg.nby; k++)
            free(r->agg.by[k]);
        for (size_t k = 0; k < r->agg.nemit; k++) {
            free(r->agg.emit[k].name);
            free(r->agg.emit[k].field);
        }
        for (size_t k = 0; k < r->agg.nworkers; k++)
            free(r->agg.workers[k]);
        free(r->agg.totals_to);
    }
    for (size_t i = 0; i < p->nzones; i++)
        free(p->zones[i].name);
    free(p->file);
    free(p->name);
    free(p->description);
    free(p->site);
    free(p);
}

const char *policy_name(const struct policy *p)
{
    return p->name;
}

int policy_version(const struct policy *p)
{
    return p->version;
}

int64_t policy_valid_until_ms(const struct policy *p)
{
    return p->valid_until_ms;
}

int64_t policy_rotate_ms(const struct policy *p)
{
    return p->rotate_ms;
}

int64_t policy_keep_keys_ms(const struct policy *p)
{
    return p->keep_keys_ms;
}

bool policy_expired(const struct policy *p, int64_t now_ms)
{
    return now_ms > p->valid_until_ms;
}

bool policy_reads_type(const struct policy *p, const struct sensor_type *t)
{
    for (size_t i = 0; i < p->nroutes; i++)
        for (size_t k = 0; k < p->routes[i].nfrom; k++)
            if (p->routes[i].sources[k].type == t)
                return true;
    return false;
}

bool policy_names_health(const struct policy *p)
{
    for (size_t i = 0; i < p->nroutes; i++)
        if (p->routes[i].names_health)
            return true;
    return false;
}

size_t policy_route_count(const struct policy *p)
{
    return p->nroutes;
}

void policy_route_stats(const struct policy *p, size_t i, struct policy_route_stats *out)
{
    memset(out, 0, sizeof *out);
    if (i >= p->nroutes)
        return;
    const struct policy_route *r = &p->routes[i];
    out->name = r->name;
    out->matched = r->c.matched;
    out->filtered = r->c.filtered;
    out->emitted = r->c.emitted;
    out->late = r->c.late;
    out->groups_published = r->c.groups_published;
    out->groups_suppressed = r->c.groups_suppressed;
    out->groups_secondary = r->c.groups_secondary;
    out->totals_published = r->c.totals_published;
    out->totals_suppressed = r->c.totals_suppressed;
    out->overflow_records = r->c.overflow_records;
}

/* Ray casting; a rectangle is two corners. Points on an edge count as inside
 * the first zone that claims them: zones are tried in the order written. */
const char *policy_zone_of(const struct policy *p, double x, double y)
{
    for (size_t i = 0; i < p->nzones; i++) {
        const struct policy_zone *z = &p->zones[i];
        if (z->npts == 2) {
            if (x >= z->x[0] && x <= z->x[1] && y >= z->y[0] && y <= z->y[1])
                return z->name;
            continue;
        }
        bool in = false;
        for (int a = 0, b = z->npts - 1; a < z->npts; b = a++) {
            if ((z->y[a] > y) != (z->y[b] > y) &&
                x < (z->x[b] - z->x[a]) * (y - z->y[a]) / (z->y[b] - z->y[a]) + z->x[a])
                in = !in;
        }
        if (in)
            return z->name;
    }
    return NULL;
}
