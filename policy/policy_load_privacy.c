/* The language refuses what singles a person out (issue 15). Checked when a
 * route has been compiled, and across routes once all are:
 *
 * - worker-id fields are pseudonymised, dropped or counted; generalise is
 *   refused (a rounded card number still names the card), keep needs the
 *   exception keep-worker-id;
 * - a thing that stands for a person (descriptor `person:`) leaves a
 *   per-record route only with the exception person-linked; an aggregate
 *   grouped by it counts the distinct persons behind it for min_group;
 * - `workers:` names worker-id fields only;
 * - on records of workers min_group is at least 2 (else the exception
 *   small-groups);
 * - a zone text leaves only as one of the site's zone names, else `other`;
 * - two aggregate routes whose groups nest over the same records are refused:
 *   one route's published group minus the other's would reveal what the
 *   other hid (same condition, or one route without a condition).
 * An exception that no rule needs is an error, so the file says only what is
 * true. Conditions on worker ids and health are refused in compile_when. */
#include <stdarg.h>

#include "policy/policy_load_internal.h"

const char *const policy_exception_names[POLICY_EXC__COUNT] = {"keep-worker-id", "person-linked",
                                                               "small-groups"};

fg_err policy_load_exceptions(struct ctx *c, yaml_node_t *n, struct policy_route *r)
{
    if (n->type != YAML_MAPPING_NODE)
        return bad(c, n,
                   "'exceptions' must map an exception (keep-worker-id, person-linked, "
                   "small-groups) to the reason both sides agreed",
                   NULL, NULL);
    FG_YAML_MAP_FOREACH(c->y, n, pair)
    {
        yaml_node_t *kn = fg_yaml_node(c->y, pair->key), *vn = fg_yaml_node(c->y, pair->value);
        const char *k = fg_yaml_scalar(kn);
        int found = -1;
        for (int i = 0; k && i < POLICY_EXC__COUNT; i++)
            if (!strcmp(k, policy_exception_names[i]))
                found = i;
        if (found < 0)
            return bad_word(c, kn, "exception", k ? k : "?", policy_exception_names,
                            POLICY_EXC__COUNT);
        if (r->exception[found])
            return bad(c, kn, "exception '%s' is declared twice", k, NULL);
        fg_err e = text(c, vn, k, &r->exception[found]);
        if (e)
            return e;
    }
    return FG_OK;
}

fg_err policy_load_site_zones(struct ctx *c, yaml_node_t *n, struct policy *p)
{
    if (n->type != YAML_SEQUENCE_NODE)
        return bad(c, n, "'site_zones' must be a list of zone names", NULL, NULL);
    size_t cnt = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (!(p->site_zones = calloc(cnt ? cnt : 1, sizeof *p->site_zones)))
        return FG_ERR_NOMEM;
    FG_YAML_SEQ_FOREACH(c->y, n, it)
    {
        yaml_node_t *zn = fg_yaml_node(c->y, *it);
        const char *v = fg_yaml_scalar(zn);
        if (!v || !*v)
            return bad(c, zn, "'site_zones' must list zone names", NULL, NULL);
        if (!strcmp(v, "other"))
            return bad(c, zn, "'other' is what unlisted zone values become: it cannot be listed",
                       NULL, NULL);
        for (size_t i = 0; i < p->nsite_zones; i++)
            if (!strcmp(p->site_zones[i], v))
                return bad(c, zn, "zone '%s' is listed twice", v, NULL);
        if (!(p->site_zones[p->nsite_zones] = strdup(v)))
            return FG_ERR_NOMEM;
        p->nsite_zones++;
    }
    return FG_OK;
}

/* An error at a node, or at a field rule (line and column kept at parse). */
static fg_err badv(struct ctx *c, yaml_node_t *n, const struct policy_field_rule *rule,
                   const char *fmt, va_list ap)
{
    char where[512], msg[1024];
    if (rule)
        snprintf(where, sizeof where, "%s:%d:%d", c->y->file, rule->line, rule->col);
    else
        fg_yaml_where(c->y, n, where, sizeof where);
    vsnprintf(msg, sizeof msg, fmt, ap);
    snprintf(c->why, c->why_len, "%s: %s", where, msg);
    return FG_ERR_CONFIG;
}

static fg_err badf(struct ctx *c, yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static fg_err badf(struct ctx *c, yaml_node_t *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fg_err e = badv(c, n, NULL, fmt, ap);
    va_end(ap);
    return e;
}

static fg_err bad_rule(struct ctx *c, const struct policy_field_rule *rule, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static fg_err bad_rule(struct ctx *c, const struct policy_field_rule *rule, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fg_err e = badv(c, NULL, rule, fmt, ap);
    va_end(ap);
    return e;
}

/* Lifts a refusal when the route declares the exception; else the error
 * (at the rule when there is one, else at the route). */
static fg_err need_exception(struct ctx *c, yaml_node_t *rn, const struct policy_field_rule *rule,
                             struct policy_route *r, policy_exception_kind k, bool *used,
                             const char *why)
{
    if (r->exception[k]) {
        used[k] = true;
        return FG_OK;
    }
    static const char fmt[] = "%s; or declare 'exceptions: { %s: REASON }' (the policy must then "
                              "be signed, and explain shows it in red)";
    return rule ? bad_rule(c, rule, fmt, why, policy_exception_names[k])
                : badf(c, rn, fmt, why, policy_exception_names[k]);
}

static const struct policy_field_rule *rule_of(const struct policy_route *r,
                                               const struct policy_route_source *src, size_t i)
{
    return src->action[i] >= 0 && src->rule[i] >= 0 && (size_t)src->rule[i] < r->nrules &&
                   !strcmp(r->rules[src->rule[i]].field, src->type->fields[i].name)
               ? &r->rules[src->rule[i]]
               : NULL;
}

static bool zone_listed_somewhere(const struct policy *p, const struct sensor_field *f)
{
    return f->nzones || p->nsite_zones || p->nzones;
}

/* Worker ids, persons behind things and zone texts of one source. */
static fg_err check_fields(struct ctx *c, yaml_node_t *rn, const struct policy *p,
                           struct policy_route *r, struct policy_route_source *src, bool *used)
{
    const struct sensor_type *t = src->type;
    fg_err e;
    for (size_t i = 0; i < t->nfields; i++) {
        const struct sensor_field *f = &t->fields[i];
        int a = src->action[i];
        bool leaves = a != -1 && a != POLICY_DROP;
        const struct policy_field_rule *rule = rule_of(r, src, i);
        char why[600];
        if (f->category == SENSOR_CAT_WORKER_ID && a == POLICY_GENERALISE)
            return bad_rule(c, rule ? rule : &r->rules[0],
                            "'%s' identifies a worker: rounding an identifier still sends it "
                            "(generalise(10) of a card number names one card); pseudonymise, "
                            "drop or count it",
                            f->name);
        if (f->category == SENSOR_CAT_WORKER_ID && a == POLICY_KEEP && !r->agg.on) {
            snprintf(why, sizeof why,
                     "route '%s' sends the worker identifier '%s' as it is: pseudonymise, drop "
                     "or count it",
                     r->name, f->name);
            if ((e = need_exception(c, rn, rule, r, POLICY_EXC_KEEP_WORKER_ID, used, why)))
                return e;
        }
        if (f->person && leaves && !r->agg.on) {
            snprintf(why, sizeof why,
                     "'%s' stands for the person behind it ('%s'): a per-record route that sends "
                     "it follows that person; aggregate it with min_group, or drop it",
                     f->name, f->person);
            if ((e = need_exception(c, rn, rule, r, POLICY_EXC_PERSON_LINKED, used, why)))
                return e;
        }
        if (f->category == SENSOR_CAT_ZONE && f->type == SENSOR_STRING && a == POLICY_KEEP) {
            if (!zone_listed_somewhere(p, f))
                return badf(c, rn,
                            "route '%s' sends the zone text '%s' as it is, but the site's zone "
                            "names are not listed: add 'site_zones: [..]' to the policy (or "
                            "'zones:' to the descriptor); any other value then leaves as 'other'",
                            r->name, f->name);
            src->zone_check[i] = true;
        }
    }
    return FG_OK;
}

/* Aggregates: `workers:` are worker ids; a `by` key that stands for a
 * person adds that person's field to the workers; small groups. */
static fg_err check_aggregate(struct ctx *c, yaml_node_t *rn, struct policy_route *r,
                              struct policy_route_source *src, bool *used)
{
    const struct sensor_type *t = src->type;
    struct policy_agg *a = &r->agg;
    for (size_t i = 0; i < a->nworkers; i++) {
        int k = sensor_field_index(t, a->workers[i]);
        if (k < 0 || t->fields[k].category != SENSOR_CAT_WORKER_ID)
            return badf(c, rn,
                        "'workers' names the fields whose distinct values are the workers of "
                        "min_group, but '%s' of %s is not a worker-id field",
                        a->workers[i], t->name);
    }
    for (size_t i = 0; i < a->nby; i++) {
        int k = src->by_field[i];
        if (k < 0 || !t->fields[k].person)
            continue;
        int pk = t->fields[k].person_idx;
        bool have = false;
        for (size_t w = 0; w < src->nworker_fields; w++)
            have = have || src->worker_field[w] == pk;
        if (!have && src->nworker_fields < POLICY_MAX_WORKER_FIELDS)
            src->worker_field[src->nworker_fields++] = (signed char)pk;
    }
    if (src->nworker_fields > 0 && a->min_group < 2) {
        char why[400];
        snprintf(why, sizeof why,
                 "route '%s' aggregates records of workers with min_group %d: a group of one "
                 "worker is that worker's data; set min_group to at least 2 (5 or more advised)",
                 r->name, a->min_group);
        return need_exception(c, rn, NULL, r, POLICY_EXC_SMALL_GROUPS, used, why);
    }
    return FG_OK;
}

fg_err policy_check_route(struct ctx *c, yaml_node_t *rn, struct policy *p, struct policy_route *r)
{
    bool used[POLICY_EXC__COUNT] = {false};
    fg_err e;
    for (size_t s = 0; s < r->nfrom; s++) {
        struct policy_route_source *src = &r->sources[s];
        if ((e = check_fields(c, rn, p, r, src, used)))
            return e;
        if (r->agg.on && (e = check_aggregate(c, rn, r, src, used)))
            return e;
    }
    for (int k = 0; k < POLICY_EXC__COUNT; k++)
        if (r->exception[k] && !used[k])
            return badf(c, rn,
                        "route '%s' declares the exception '%s', but nothing in it needs that "
                        "exception: remove it",
                        r->name, policy_exception_names[k]);
    return FG_OK;
}

/* a's `by` keys all among b's. */
static bool by_within(const struct policy_agg *a, const struct policy_agg *b)
{
    for (size_t i = 0; i < a->nby; i++) {
        bool found = false;
        for (size_t k = 0; k < b->nby; k++)
            found = found || !strcmp(a->by[i], b->by[k]);
        if (!found)
            return false;
    }
    return true;
}

static const struct sensor_type *shared_type(const struct policy_route *a,
                                             const struct policy_route *b)
{
    for (size_t i = 0; i < a->nfrom; i++)
        for (size_t k = 0; k < b->nfrom; k++)
            if (a->sources[i].type == b->sources[k].type)
                return a->sources[i].type;
    return NULL;
}

fg_err policy_check_overlaps(struct ctx *c, yaml_node_t *routes, const struct policy *p)
{
    for (size_t i = 0; i < p->nroutes; i++)
        for (size_t k = i + 1; k < p->nroutes; k++) {
            const struct policy_route *a = &p->routes[i], *b = &p->routes[k];
            if (!a->agg.on || !b->agg.on)
                continue;
            if (a->agg.min_group <= 0 && b->agg.min_group <= 0)
                continue; /* nothing is hidden that the other could reveal */
            const struct sensor_type *t = shared_type(a, b);
            if (!t)
                continue;
            /* Same condition: the same records. No condition: a superset of the
             * other's records (with a third route on the complement, the
             * difference is exact). Two different conditions: let pass. */
            if (a->when && b->when && strcmp(a->when, b->when))
                continue;
            if (!by_within(&a->agg, &b->agg) && !by_within(&b->agg, &a->agg))
                continue;
            yaml_node_t *at = routes;
            size_t idx = 0;
            FG_YAML_SEQ_FOREACH(c->y, routes, it)
            {
                if (idx++ == k)
                    at = fg_yaml_node(c->y, *it);
            }
            return badf(c, at,
                        "routes '%s' and '%s' publish overlapping aggregates of the same %s "
                        "records (the groups of one lie within those of the other): a group one "
                        "route hides is the other's group minus the groups it published; publish "
                        "them from one route with 'totals: true', or group them so they do not "
                        "nest",
                        a->name, b->name, t->name);
        }
    return FG_OK;
}
