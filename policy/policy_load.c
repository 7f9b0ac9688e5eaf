/* Policy files (YAML) into the compiled model. Every mistake is an error with
 * file:line:col; a policy that does not load forwards nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fg_util.h"
#include "common/fg_yaml.h"
#include "policy/policy_internal.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char *const top_keys[] = {"policy", "version", "valid_until", "description",
                                       "pseudonyms", "routes"};
static const char *const route_keys[] = {"name", "purpose", "from", "to", "fields", "retention"};
static const char *const pseudonym_keys[] = {"rotate", "keep_keys"};
static const char *const action_names[] = {"keep", "drop", "pseudonymise", "generalise"};

const char *policy_action_name(policy_action_kind a)
{
    return (unsigned)a < N(action_names) ? action_names[a] : "?";
}

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

/* "pseudonymise", "keep", "generalise(1m)", "generalise(0.5)" */
static fg_err parse_action(struct ctx *c, yaml_node_t *n, const struct policy_route *r,
                           struct policy_field_rule *rule)
{
    const char *v = fg_yaml_scalar(n);
    if (!v)
        return bad(c, n, "the action for field '%s' must be a word such as keep or pseudonymise",
                   rule->field, NULL);
    (void)r;
    char word[64];
    size_t wl = strcspn(v, "(");
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
    if (rule->action == POLICY_GENERALISE) {
        const char *arg = v + wl;
        size_t al = strlen(arg);
        if (al < 3 || arg[0] != '(' || arg[al - 1] != ')')
            return bad(c, n, "generalise needs a step, e.g. generalise(1m) or generalise(0.5)",
                       NULL, NULL);
        char step[64];
        if (al - 2 >= sizeof step)
            return bad(c, n, "generalise step too long", NULL, NULL);
        memcpy(step, arg + 1, al - 2);
        step[al - 2] = '\0';
        int64_t ms;
        double d;
        if (fg_parse_duration(step, &ms) && ms > 0)
            rule->step = (double)ms;
        else if (fg_yaml_to_double(step, &d) && d > 0)
            rule->step = d;
        else
            return bad(c, n, "generalise step '%s' is neither a duration nor a positive number",
                       step, NULL);
    } else if (v[wl] != '\0')
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
    if (rule->action == POLICY_GENERALISE && f->type != SENSOR_NUMBER &&
        f->type != SENSOR_INTEGER && f->type != SENSOR_TIMESTAMP)
        return bad(c, n, "cannot generalise '%s': it is a %s; generalise needs a number or time",
                   f->name, sensor_ftype_name(f->type));
    return FG_OK;
}

static fg_err parse_route(struct ctx *c, yaml_node_t *n, struct policy *p, struct policy_route *r)
{
    struct fg_yaml *y = c->y;
    fg_err e;
    if (n->type != YAML_MAPPING_NODE)
        return bad(c, n, "each route must be a mapping with name, purpose, from, to", NULL, NULL);
    yaml_node_t *fields = NULL, *from = NULL;
    FG_YAML_MAP_FOREACH(y, n, pair)
    {
        yaml_node_t *kn = fg_yaml_node(y, pair->key), *vn = fg_yaml_node(y, pair->value);
        const char *k = fg_yaml_scalar(kn);
        if (!k)
            return bad(c, kn, "keys must be text", NULL, NULL);
        if (!strcmp(k, "name"))
            e = text(c, vn, k, &r->name);
        else if (!strcmp(k, "purpose"))
            e = text(c, vn, k, &r->purpose);
        else if (!strcmp(k, "to"))
            e = text(c, vn, k, &r->to);
        else if (!strcmp(k, "retention"))
            e = duration(c, vn, k, &r->retention_ms);
        else if (!strcmp(k, "fields")) {
            fields = vn;
            e = FG_OK;
        } else if (!strcmp(k, "from")) {
            from = vn;
            e = FG_OK;
        } else
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
        r->from_names[r->nfrom] = strdup(tn);
        r->sources[r->nfrom].type = t;
        memset(r->sources[r->nfrom].action, -1, sizeof r->sources[r->nfrom].action);
        r->nfrom++;
    }
    if (!fields || fields->type != YAML_MAPPING_NODE)
        return bad(c, fields ? fields : n,
                   "route '%s' needs 'fields': a mapping of field name to action", r->name,
                   NULL);
    FG_YAML_MAP_FOREACH(y, fields, pair)
    {
        yaml_node_t *kn = fg_yaml_node(y, pair->key), *vn = fg_yaml_node(y, pair->value);
        const char *fname = fg_yaml_scalar(kn);
        if (!fname)
            return bad(c, kn, "field names must be text", NULL, NULL);
        if (r->nrules == POLICY_MAX_FIELD_RULES)
            return bad(c, kn, "too many field rules", NULL, NULL);
        struct policy_field_rule *rule = &r->rules[r->nrules];
        rule->field = strdup(fname);
        rule->line = (int)kn->start_mark.line + 1;
        rule->col = (int)kn->start_mark.column + 1;
        r->nrules++;
        if ((e = parse_action(c, vn, r, rule)))
            return e;
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
    /* Destination placeholders: {site}, {route}, {type}, or a field that leaves. */
    for (const char *q = strchr(r->to, '{'); q; q = strchr(q + 1, '{')) {
        const char *end = strchr(q, '}');
        if (!end)
            return bad(c, n, "destination '%s' has an unclosed '{'", r->to, NULL);
        char ph[64];
        size_t l = (size_t)(end - q - 1);
        if (l == 0 || l >= sizeof ph)
            return bad(c, n, "destination '%s' has a bad placeholder", r->to, NULL);
        memcpy(ph, q + 1, l);
        ph[l] = '\0';
        if (!strcmp(ph, "site") || !strcmp(ph, "route") || !strcmp(ph, "type"))
            continue;
        bool ok = false;
        for (size_t s = 0; s < r->nfrom; s++) {
            int idx = sensor_field_index(r->sources[s].type, ph);
            ok = idx >= 0 && r->sources[s].action[idx] != -1 &&
                 r->sources[s].action[idx] != POLICY_DROP;
            if (!ok)
                break;
        }
        if (!ok)
            return bad(c, n,
                       "destination placeholder {%s} must be {site}, {route}, {type} or a field "
                       "this route lets leave",
                       ph, NULL);
    }
    if (strchr(r->to, '+') || strchr(r->to, '#'))
        return bad(c, n, "destination '%s' must not contain MQTT wildcards", r->to, NULL);
    return FG_OK;
}

static fg_err parse_policy(struct ctx *c, struct policy *p)
{
    struct fg_yaml *y = c->y;
    yaml_node_t *root = fg_yaml_root(y);
    fg_err e = FG_OK;
    if (!root || root->type != YAML_MAPPING_NODE)
        return bad(c, root, "a policy must be a mapping", NULL, NULL);
    yaml_node_t *routes = NULL;
    FG_YAML_MAP_FOREACH(y, root, pair)
    {
        yaml_node_t *kn = fg_yaml_node(y, pair->key), *vn = fg_yaml_node(y, pair->value);
        const char *k = fg_yaml_scalar(kn);
        if (!k)
            return bad(c, kn, "keys must be text", NULL, NULL);
        if (!strcmp(k, "policy"))
            e = text(c, vn, k, &p->name);
        else if (!strcmp(k, "description"))
            e = FG_OK;
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
                return bad(c, vn, "'pseudonyms' must be a mapping with rotate and keep_keys",
                           NULL, NULL);
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
    p->file = strdup(name);
    p->site = strdup(site ? site : "site");
    struct ctx c = {.y = y, .reg = reg, .why = why, .why_len = why_len};
    fg_err e = parse_policy(&c, p);
    if (e) {
        policy_free(p);
        return e;
    }
    *out = p;
    return FG_OK;
}

fg_err policy_load_string(const char *name, const char *text_, size_t len,
                          const struct sensor_registry *reg, const char *site,
                          struct policy **out, char *why, size_t why_len)
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
    for (size_t i = 0; i < p->nroutes; i++) {
        struct policy_route *r = &p->routes[i];
        free(r->name);
        free(r->purpose);
        free(r->to);
        for (size_t k = 0; k < r->nfrom; k++)
            free(r->from_names[k]);
        for (size_t k = 0; k < r->nrules; k++)
            free(r->rules[k].field);
    }
    free(p->file);
    free(p->name);
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
