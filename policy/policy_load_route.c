/* One route of a policy: sources, `when`, aggregates, destinations. Part of the
 * policy loader. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy_load_internal.h"

static const char *const route_keys[] = {"name",   "purpose",   "from",      "to",         "when",
                                         "fields", "aggregate", "retention", "exceptions", "batch"};
static const char *const agg_keys[] = {"window",     "by",          "emit",
                                       "min_group",  "totals",      "totals_to",
                                       "max_groups", "max_samples", "workers"};
static const char *const agg_fn_names[] = {
    "count", "count_distinct", "sum", "mean", "min", "max", "p50", "p90", "p99"};

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
    /* by: [] is a site-wide aggregate: one group, the same as no 'by'. */
    bool by_empty = by && by->type == YAML_SEQUENCE_NODE &&
                    by->data.sequence.items.top == by->data.sequence.items.start;
    if (by && !by_empty) {
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
        if (cd->kind != POLICY_COND_CMP && cd->kind != POLICY_COND_EXISTS)
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
            if (cd->kind == POLICY_COND_EXISTS)
                continue; /* whether a value was sent, not which */
            /* A message that exists only if hr > 180 tells the heart rate; one
             * that exists only for badge == "WK..." follows that worker. */
            if (f->category == SENSOR_CAT_HEALTH)
                return bad(c, n,
                           "'when' compares the health field '%s': a message sent only for "
                           "some values tells that value; conditions on health data are refused",
                           cd->field, NULL);
            if (f->category == SENSOR_CAT_WORKER_ID)
                return bad(c, n,
                           "'when' compares the worker identifier '%s': that follows chosen "
                           "workers; conditions on worker identifiers are refused",
                           cd->field, NULL);
            if (f->person)
                return bad(c, n,
                           "'when' compares '%s', which stands for the person behind it ('%s'): "
                           "that follows chosen workers; such conditions are refused",
                           cd->field, f->person);
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

/* batch: { max_records: 50, max_delay: 200ms } -- several records of the route
 * in one upstream publish (the gateway's sender forms it, docs/performance.md). */
static fg_err parse_batch(struct ctx *c, yaml_node_t *n, struct policy_route *r)
{
    static const char *const keys[] = {"max_records", "max_delay"};
    if (r->agg.on)
        return bad(c, n, "route '%s' aggregates: 'batch' is for per-record routes", r->name, NULL);
    if (n->type != YAML_MAPPING_NODE)
        return bad(c, n, "'batch' must be a mapping with max_records and max_delay", NULL, NULL);
    int64_t max = 0;
    fg_err e = FG_OK;
    r->batch_delay_ms = 0;
    FG_YAML_MAP_FOREACH(c->y, n, pair)
    {
        yaml_node_t *kn = fg_yaml_node(c->y, pair->key), *vn = fg_yaml_node(c->y, pair->value);
        const char *k = fg_yaml_scalar(kn);
        if (k && !strcmp(k, "max_records"))
            e = whole(c, vn, k, 2, 256, &max);
        else if (k && !strcmp(k, "max_delay")) {
            e = duration(c, vn, k, &r->batch_delay_ms);
            if (!e && r->batch_delay_ms > 60000)
                return bad(c, vn, "'max_delay' must be at most 1m", NULL, NULL);
        } else
            return bad_word(c, kn, "batch key", k ? k : "?", keys, N(keys));
        if (e)
            return e;
    }
    if (!max || !r->batch_delay_ms)
        return bad(c, n, "'batch' needs both max_records and max_delay", NULL, NULL);
    r->batch_max = (int)max;
    return FG_OK;
}

/* `from`: one sensor type or a list of them, each with its per-source tables. */
static fg_err parse_from(struct ctx *c, yaml_node_t *from, struct policy_route *r)
{
    struct fg_yaml *y = c->y;
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
    return FG_OK;
}

/* An aggregate's by keys, emitted fields and worker fields, per source type. */
static fg_err wire_aggregate(struct ctx *c, yaml_node_t *agg, struct policy_route *r)
{
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
    return FG_OK;
}

fg_err policy_load_route(struct ctx *c, yaml_node_t *n, struct policy *p, struct policy_route *r)
{
    struct fg_yaml *y = c->y;
    fg_err e;
    r->cond_root = -1;
    if (n->type != YAML_MAPPING_NODE)
        return bad(c, n, "each route must be a mapping with name, purpose, from, to", NULL, NULL);
    yaml_node_t *fields = NULL, *from = NULL, *when = NULL, *agg = NULL, *to_node = n,
                *batch = NULL;
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
            e = text_lang(c, vn, k, &r->purpose, r->purpose_tr);
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
        else if (!strcmp(k, "exceptions"))
            e = policy_load_exceptions(c, vn, r);
        else if (!strcmp(k, "batch"))
            batch = vn;
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
    if ((e = parse_from(c, from, r)))
        return e;
    if (when && (e = compile_when(c, when, r)))
        return e;
    if (agg && (e = parse_aggregate(c, agg, r)))
        return e;
    if (batch && (e = parse_batch(c, batch, r)))
        return e;
    if (!agg && (!fields || fields->type != YAML_MAPPING_NODE))
        return bad(c, fields ? fields : n,
                   "route '%s' needs 'fields' (a mapping of field name to action) or 'aggregate'",
                   r->name, NULL);
    if (fields && fields->type != YAML_MAPPING_NODE)
        return bad(c, fields, "'fields' must be a mapping of field name to action", NULL, NULL);
    if (fields && (e = policy_load_fields(c, fields, r)))
        return e;
    if (r->agg.on && (e = wire_aggregate(c, agg, r)))
        return e;
    if ((e = check_topic(c, to_node, r, r->to)))
        return e;
    if (r->agg.totals_to && (e = check_topic(c, agg, r, r->agg.totals_to)))
        return e;
    return r->agg.on ? FG_OK : compile_topic(r);
}
