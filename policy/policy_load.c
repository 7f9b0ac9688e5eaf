/* Policy files (YAML) into the compiled model. Every mistake is an error with
 * file:line:col; a policy that does not load forwards nothing. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy_load_internal.h"

static const char *const top_keys[] = {"policy",      "version",    "valid_until",
                                       "description", "pseudonyms", "zones",
                                       "site_zones",  "limits",     "routes"};
static const char *const pseudonym_keys[] = {"rotate", "keep_keys"};
static const char *const limit_keys[] = {"max_groups", "max_distinct"};
static const char *const zone_keys[] = {"rect", "polygon"};

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
            e = text_lang(c, vn, k, &p->description, p->description_tr);
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
        } else if (!strcmp(k, "site_zones")) {
            e = policy_load_site_zones(c, vn, p);
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
        e = policy_load_route(c, fg_yaml_node(y, *it), p, r);
        p->nroutes++; /* counted even on error, so policy_free frees it */
        if (!e)
            e = policy_check_route(c, fg_yaml_node(y, *it), p, r);
        if (e)
            return e;
        for (size_t i = 0; i < r->nrules; i++)
            if (r->rules[i].action == POLICY_GENERALISE && r->rules[i].gen == POLICY_GEN_ZONE &&
                p->nzones == 0)
                return bad(c, fg_yaml_node(y, *it),
                           "route '%s' maps '%s' to a zone, but the policy has no 'zones:'",
                           r->name, r->rules[i].field);
    }
    return policy_check_overlaps(c, routes, p);
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
        for (int l = 0; l < FG_LANG__COUNT; l++)
            free(r->purpose_tr[l]);
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
        for (int k = 0; k < POLICY_EXC__COUNT; k++)
            free(r->exception[k]);
    }
    for (size_t i = 0; i < p->nsite_zones; i++)
        free(p->site_zones[i]);
    free(p->site_zones);
    for (size_t i = 0; i < p->nzones; i++)
        free(p->zones[i].name);
    free(p->file);
    free(p->name);
    free(p->description);
    for (int l = 0; l < FG_LANG__COUNT; l++)
        free(p->description_tr[l]);
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
    out->zones_other = r->c.zones_other;
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
