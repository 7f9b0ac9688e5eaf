/* Field actions of a route (`fields:`): keep, drop, pseudonymise, generalise(...),
 * and whether each fits the field's type. Part of the policy loader. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy_load_internal.h"

static const char *const action_names[] = {"keep", "drop", "pseudonymise", "generalise"};

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
fg_err policy_load_fields(struct ctx *c, yaml_node_t *fields, struct policy_route *r)
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
