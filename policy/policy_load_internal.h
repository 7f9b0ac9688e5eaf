/* Shared by the policy loader files (policy_load.c: top level and zones,
 * policy_load_route.c: routes and aggregates, policy_load_fields.c: field
 * actions): the parse context and its error helpers. Private to policy/. */
#ifndef POLICY_LOAD_INTERNAL_H
#define POLICY_LOAD_INTERNAL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fg_util.h"
#include "common/fg_yaml.h"
#include "policy/policy_internal.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

struct ctx {
    struct fg_yaml *y;
    const struct sensor_registry *reg;
    char *why;
    size_t why_len;
};

static inline fg_err bad(struct ctx *c, yaml_node_t *n, const char *fmt, const char *a,
                         const char *b)
{
    return fg_yaml_bad(c->y, n, c->why, c->why_len, fmt, a, b);
}

static inline fg_err bad_word(struct ctx *c, yaml_node_t *n, const char *what, const char *word,
                              const char *const *valid, size_t nvalid)
{
    return fg_yaml_bad_word(c->y, n, c->why, c->why_len, what, word, valid, nvalid);
}

static inline fg_err text(struct ctx *c, yaml_node_t *n, const char *key, char **out)
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

/* A text a council reads: a plain string, or one per language
 * ({en: ..., nl: ..., de: ...}). *plain gets the English text, else the first
 * one given (it is what travels with the messages and into the audit log);
 * tr[lang] each language's own text, NULL where the policy gives none. */
static inline fg_err text_lang(struct ctx *c, yaml_node_t *n, const char *key, char **plain,
                               char *tr[FG_LANG__COUNT])
{
    if (!n || n->type != YAML_MAPPING_NODE)
        return text(c, n, key, plain);
    static const char *const codes[] = {"en", "nl", "de"};
    for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
        yaml_node_t *kn = fg_yaml_node(c->y, pr->key), *vn = fg_yaml_node(c->y, pr->value);
        const char *k = fg_yaml_scalar(kn);
        fg_lang l;
        if (!k || !fg_lang_parse(k, &l))
            return bad_word(c, kn, "language", k ? k : "?", codes, N(codes));
        fg_err e = text(c, vn, key, &tr[l]);
        if (e)
            return e;
    }
    const char *first = tr[FG_LANG_EN]   ? tr[FG_LANG_EN]
                        : tr[FG_LANG_NL] ? tr[FG_LANG_NL]
                                         : tr[FG_LANG_DE];
    if (!first)
        return bad(c, n, "'%s' must give a text (or en:, nl:, de: texts)", key, NULL);
    free(*plain);
    *plain = strdup(first);
    return *plain ? FG_OK : FG_ERR_NOMEM;
}

static inline fg_err duration(struct ctx *c, yaml_node_t *n, const char *key, int64_t *out)
{
    const char *v = fg_yaml_scalar(n);
    if (!v || !fg_parse_duration(v, out) || *out <= 0)
        return bad(c, n, "'%s' must be a duration like 15m, 24h or 30d", key, NULL);
    return FG_OK;
}

static inline fg_err whole(struct ctx *c, yaml_node_t *n, const char *key, int64_t lo, int64_t hi,
                           int64_t *out)
{
    char range[96];
    snprintf(range, sizeof range, "%lld to %lld", (long long)lo, (long long)hi);
    if (!fg_yaml_to_int(fg_yaml_scalar(n), out) || *out < lo || *out > hi)
        return bad(c, n, "'%s' must be a whole number from %s", key, range);
    return FG_OK;
}

/* The `fields:` mapping of one route (policy_load_fields.c). */
fg_err policy_load_fields(struct ctx *c, yaml_node_t *fields, struct policy_route *r);
/* One entry of `routes:` (policy_load_route.c). */
fg_err policy_load_route(struct ctx *c, yaml_node_t *n, struct policy *p, struct policy_route *r);

/* Privacy rules (policy_load_privacy.c): exceptions, the site's zone names,
 * what a route may do with worker ids, persons behind things, zone texts and
 * small groups; overlapping aggregates across routes. */
fg_err policy_load_exceptions(struct ctx *c, yaml_node_t *n, struct policy_route *r);
fg_err policy_load_site_zones(struct ctx *c, yaml_node_t *n, struct policy *p);
fg_err policy_check_route(struct ctx *c, yaml_node_t *rn, struct policy *p, struct policy_route *r);
fg_err policy_check_overlaps(struct ctx *c, yaml_node_t *routes, const struct policy *p);

#endif
