/* Aggregation: tumbling windows per route, groups by the route's `by` keys,
 * a minimum number of distinct workers per group, and secondary suppression
 * per emitted value so no hidden group's value can be derived from a
 * published total and the published groups.
 *
 * Memory is bounded by the policy: per route at most max_groups groups per
 * window (plus one overflow group and one total), over all routes at most
 * limits.max_groups, and at most limits.max_distinct values in all distinct
 * sets together. Past a bound the behaviour is defined: new groups go to the
 * overflow group, a set that cannot grow saturates its group; both are always
 * suppressed, counted and logged. Distinct values are held as keyed 64-bit
 * hashes (SipHash, random key per load), never as raw identifiers.
 *
 * Out of memory while growing a set is treated like a bound: the group
 * saturates and is suppressed; the input itself is not rejected. */
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fg_json.h"
#include "common/fg_log.h"
#include "common/fg_util.h"
#include "policy/policy_internal.h"

#define SET_MIN_CAP 16

/* Open-addressing set of nonzero 64-bit hashes, linear probing, load <= 1/2. */
struct dset {
    uint64_t *slots;
    uint32_t cap, n;
};

struct acc {
    uint64_t n;
    double sum, min, max;
    struct dset set;
    double *samples; /* percentiles: reservoir of max_samples values */
    uint32_t nsamples;
};

struct group {
    struct group *next_free;
    uint64_t hash;
    uint64_t records;
    bool overflow, saturated, suppressed, secondary;
    uint16_t keylen;
    uint16_t off[POLICY_MAX_BY], len[POLICY_MAX_BY];
    bool numeric[POLICY_MAX_BY];
    char key[POLICY_GROUP_KEY];
    struct dset workers;
    struct acc acc[]; /* one per emit */
};

struct policy_agg_state {
    int64_t win_start;    /* INT64_MIN: no window open */
    int64_t closed_until; /* end of the last published window: earlier records are late */
    struct group **table;
    size_t table_cap;
    struct group **list; /* groups of the open window, for closing */
    size_t ngroups;
    struct group *overflow, *total;
    bool share[POLICY_MAX_EMIT]; /* count_distinct of the worker field: reuse the worker set */
    uint32_t cats;
    uint64_t rng;
    bool warned;
};

static size_t group_size(const struct policy_route *r)
{
    return sizeof(struct group) + r->agg.nemit * sizeof(struct acc);
}

static uint64_t hash64(const struct policy *p, const void *data, size_t len, unsigned char tag)
{
    unsigned char buf[8];
    /* tag separates the worker fields of a record and the values of a field */
    unsigned char tmp[520];
    uint64_t h;
    if (len + 1 <= sizeof tmp) {
        tmp[0] = tag;
        memcpy(tmp + 1, data, len);
        crypto_shorthash(buf, tmp, len + 1, p->hash_key);
        sodium_memzero(tmp, len + 1);
    } else
        crypto_shorthash(buf, data, len, p->hash_key);
    memcpy(&h, buf, sizeof h);
    return h ? h : 1;
}

static void set_free(struct policy *p, struct dset *s)
{
    if (s->slots) {
        p->agg_bytes -= (size_t)s->cap * sizeof(uint64_t);
        p->distinct_live -= s->n;
        free(s->slots);
    }
    memset(s, 0, sizeof *s);
}

/* False when the set is at a bound (or out of memory): the group saturates. */
static bool set_add(struct policy *p, struct dset *s, uint64_t h)
{
    if (s->cap) {
        for (uint32_t i = (uint32_t)h & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
            if (s->slots[i] == h)
                return true;
            if (!s->slots[i])
                break;
        }
    }
    if (p->distinct_live >= p->max_distinct)
        return false;
    if ((size_t)(s->n + 1) * 2 > s->cap) {
        uint32_t ncap = s->cap ? s->cap * 2 : SET_MIN_CAP;
        if (ncap == 0 || ncap > (1u << 30))
            return false;
        uint64_t *ns = calloc(ncap, sizeof *ns);
        if (!ns)
            return false;
        for (uint32_t k = 0; k < s->cap; k++) {
            uint64_t v = s->slots[k];
            if (!v)
                continue;
            uint32_t i = (uint32_t)v & (ncap - 1);
            while (ns[i])
                i = (i + 1) & (ncap - 1);
            ns[i] = v;
        }
        p->agg_bytes += (size_t)ncap * sizeof *ns - (size_t)s->cap * sizeof *ns;
        /* the old slots held hashes only, but wipe them all the same */
        if (s->slots)
            sodium_memzero(s->slots, (size_t)s->cap * sizeof *ns);
        free(s->slots);
        s->slots = ns;
        s->cap = ncap;
    }
    uint32_t i = (uint32_t)h & (s->cap - 1);
    while (s->slots[i])
        i = (i + 1) & (s->cap - 1);
    s->slots[i] = h;
    s->n++;
    p->distinct_live++;
    return true;
}

static struct group *group_new(struct policy *p, const struct policy_route *r)
{
    size_t sz = group_size(r);
    struct group *g = calloc(1, sz);
    if (!g)
        return NULL;
    p->agg_bytes += sz;
    for (size_t i = 0; i < r->agg.nemit; i++) {
        g->acc[i].min = INFINITY;
        g->acc[i].max = -INFINITY;
    }
    return g;
}

static void group_clear(struct policy *p, const struct policy_route *r, struct group *g)
{
    set_free(p, &g->workers);
    for (size_t i = 0; i < r->agg.nemit; i++) {
        set_free(p, &g->acc[i].set);
        if (g->acc[i].samples) {
            p->agg_bytes -= r->agg.max_samples * sizeof(double);
            free(g->acc[i].samples);
        }
        memset(&g->acc[i], 0, sizeof g->acc[i]);
        g->acc[i].min = INFINITY;
        g->acc[i].max = -INFINITY;
    }
    g->records = 0;
    g->saturated = g->suppressed = g->secondary = false;
}

static void group_free(struct policy *p, const struct policy_route *r, struct group *g)
{
    if (!g)
        return;
    group_clear(p, r, g);
    p->agg_bytes -= group_size(r);
    free(g);
}

/* Categories an aggregate message of r carries (values and `by` keys, not
 * counts), over every source type: a field's category may differ per type. */
static uint32_t agg_categories(const struct policy_route *r)
{
    uint32_t cats = 0;
    for (size_t k = 0; k < r->nfrom; k++) {
        const struct policy_route_source *src = &r->sources[k];
        const struct sensor_field *fields = src->type->fields;
        for (size_t i = 0; i < r->agg.nemit; i++) {
            int f = src->emit_field[i];
            policy_agg_fn fn = r->agg.emit[i].fn;
            if (f >= 0 && fn != POLICY_AGG_COUNT && fn != POLICY_AGG_COUNT_DISTINCT)
                cats |= 1u << fields[f].category;
        }
        for (size_t i = 0; i < r->agg.nby; i++) {
            int f = src->by_field[i];
            bool zone = src->action[f] == POLICY_GENERALISE &&
                        r->rules[src->rule[f]].gen == POLICY_GEN_ZONE;
            cats |= 1u << (zone ? SENSOR_CAT_ZONE : fields[f].category);
        }
    }
    return cats;
}

fg_err policy_agg_setup(struct policy *p)
{
    randombytes_buf(p->hash_key, sizeof p->hash_key);
    if (pthread_mutex_init(&p->agg_lock, NULL) != 0)
        return FG_ERR_NOMEM;
    p->agg_lock_ready = true;
    for (size_t ri = 0; ri < p->nroutes; ri++) {
        struct policy_route *r = &p->routes[ri];
        if (!r->agg.on)
            continue;
        struct policy_agg_state *s = calloc(1, sizeof *s);
        if (!s)
            return FG_ERR_NOMEM;
        r->state = s;
        s->win_start = INT64_MIN;
        s->closed_until = INT64_MIN;
        s->table_cap = 16;
        while (s->table_cap < r->agg.max_groups * 2)
            s->table_cap *= 2;
        s->table = calloc(s->table_cap, sizeof *s->table);
        s->list = calloc(r->agg.max_groups, sizeof *s->list);
        s->overflow = group_new(p, r);
        s->total = group_new(p, r);
        if (!s->table || !s->list || !s->overflow || !s->total)
            return FG_ERR_NOMEM;
        p->agg_bytes += s->table_cap * sizeof *s->table + r->agg.max_groups * sizeof *s->list;
        s->overflow->overflow = true;
        memcpy(s->overflow->key, "_overflow", 9);
        s->overflow->keylen = 9;
        randombytes_buf(&s->rng, sizeof s->rng);
        s->rng |= 1;
        for (size_t i = 0; i < r->agg.nemit; i++) {
            bool share = r->agg.emit[i].fn == POLICY_AGG_COUNT_DISTINCT;
            for (size_t k = 0; k < r->nfrom && share; k++)
                share = r->sources[k].nworker_fields == 1 &&
                        r->sources[k].emit_field[i] == r->sources[k].worker_field[0];
            s->share[i] = share;
        }
        s->cats = agg_categories(r);
    }
    return FG_OK;
}

static void reset_window(struct policy *p, struct policy_route *r)
{
    struct policy_agg_state *s = r->state;
    for (size_t i = 0; i < s->ngroups; i++)
        group_free(p, r, s->list[i]);
    p->groups_live -= s->ngroups;
    s->ngroups = 0;
    memset(s->table, 0, s->table_cap * sizeof *s->table);
    group_clear(p, r, s->overflow);
    group_clear(p, r, s->total);
    s->win_start = INT64_MIN;
    s->warned = false;
}

void policy_agg_teardown(struct policy *p)
{
    for (size_t ri = 0; ri < p->nroutes; ri++) {
        struct policy_route *r = &p->routes[ri];
        struct policy_agg_state *s = r->state;
        if (!s)
            continue;
        if (s->table && s->list && s->overflow && s->total)
            reset_window(p, r);
        group_free(p, r, s->overflow);
        group_free(p, r, s->total);
        free(s->table);
        free(s->list);
        free(s);
        r->state = NULL;
    }
    if (p->agg_lock_ready)
        pthread_mutex_destroy(&p->agg_lock);
    p->agg_lock_ready = false;
}

static struct group *find_group(struct policy *p, struct policy_route *r, const char *const *keys,
                                const size_t *lens, const bool *numeric)
{
    struct policy_agg_state *s = r->state;
    char key[POLICY_GROUP_KEY];
    size_t kl = 0;
    uint16_t off[POLICY_MAX_BY], len[POLICY_MAX_BY];
    for (size_t i = 0; i < r->agg.nby; i++) {
        if (kl + lens[i] + 1 > sizeof key)
            return s->overflow; /* absurdly long keys are not a group anyone needs */
        off[i] = (uint16_t)kl;
        len[i] = (uint16_t)lens[i];
        memcpy(key + kl, keys[i], lens[i]);
        kl += lens[i];
        key[kl++] = '\x1f';
    }
    uint64_t h = hash64(p, key, kl, 0xff);
    size_t i = (size_t)h & (s->table_cap - 1);
    for (; s->table[i]; i = (i + 1) & (s->table_cap - 1)) {
        struct group *g = s->table[i];
        if (g->hash == h && g->keylen == kl && memcmp(g->key, key, kl) == 0)
            return g;
    }
    if (s->ngroups >= r->agg.max_groups || p->groups_live >= p->max_groups_total) {
        if (!s->warned) {
            fg_warn("policy",
                    "route %s: more groups than max_groups in one window; the rest "
                    "go to an overflow group that is never published",
                    r->name);
            s->warned = true;
        }
        return s->overflow;
    }
    struct group *g = group_new(p, r);
    if (!g)
        return s->overflow;
    g->hash = h;
    g->keylen = (uint16_t)kl;
    memcpy(g->key, key, kl);
    memcpy(g->off, off, sizeof off);
    memcpy(g->len, len, sizeof len);
    memcpy(g->numeric, numeric, r->agg.nby * sizeof *numeric);
    s->table[i] = g;
    s->list[s->ngroups++] = g;
    p->groups_live++;
    return g;
}

static uint64_t value_hash(const struct policy *p, const struct sensor_field *f,
                           const struct sensor_value *v, unsigned char tag)
{
    switch (f->type) {
    case SENSOR_STRING:
    case SENSOR_ENUM:
        return hash64(p, v->v.str.s, v->v.str.len, tag);
    case SENSOR_NUMBER:
        return hash64(p, &v->v.num, sizeof v->v.num, tag);
    case SENSOR_BOOLEAN:
        return hash64(p, &v->v.b, sizeof v->v.b, tag);
    default:
        return hash64(p, &v->v.i, sizeof v->v.i, tag);
    }
}

static uint64_t next_rand(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static void feed(struct policy *p, struct policy_route *r, const struct policy_route_source *src,
                 const struct sensor_record *rec, struct group *g)
{
    struct policy_agg_state *s = r->state;
    const struct sensor_type *t = rec->type;
    g->records++;
    for (size_t i = 0; i < src->nworker_fields; i++) {
        int f = src->worker_field[i];
        if (rec->values[f].present &&
            !set_add(p, &g->workers,
                     value_hash(p, &t->fields[f], &rec->values[f], (unsigned char)i)))
            g->saturated = true;
    }
    for (size_t i = 0; i < r->agg.nemit; i++) {
        struct acc *a = &g->acc[i];
        int f = src->emit_field[i];
        policy_agg_fn fn = r->agg.emit[i].fn;
        if (f < 0) { /* count() */
            a->n++;
            continue;
        }
        const struct sensor_value *v = &rec->values[f];
        if (!v->present)
            continue;
        a->n++;
        if (fn == POLICY_AGG_COUNT)
            continue;
        if (fn == POLICY_AGG_COUNT_DISTINCT) {
            if (!s->share[i] && !set_add(p, &a->set, value_hash(p, &t->fields[f], v, 0)))
                g->saturated = true;
            continue;
        }
        double x = t->fields[f].type == SENSOR_INTEGER ? (double)v->v.i : v->v.num;
        a->sum += x;
        if (x < a->min)
            a->min = x;
        if (x > a->max)
            a->max = x;
        if (fn >= POLICY_AGG_P50) {
            if (!a->samples) {
                a->samples = malloc(r->agg.max_samples * sizeof(double));
                if (!a->samples) {
                    g->saturated = true;
                    continue;
                }
                p->agg_bytes += r->agg.max_samples * sizeof(double);
            }
            /* Reservoir sampling keeps a uniform sample once the bound is reached. */
            if (a->nsamples < r->agg.max_samples)
                a->samples[a->nsamples++] = x;
            else {
                uint64_t k = next_rand(&s->rng) % a->n;
                if (k < r->agg.max_samples)
                    a->samples[k] = x;
            }
        }
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int cmp_group(const void *a, const void *b)
{
    const struct group *x = *(struct group *const *)a, *y = *(struct group *const *)b;
    size_t l = x->keylen < y->keylen ? x->keylen : y->keylen;
    int c = memcmp(x->key, y->key, l);
    return c ? c : (x->keylen > y->keylen) - (x->keylen < y->keylen);
}

static bool group_topic(const struct policy *p, const struct policy_route *r, const struct group *g,
                        bool total, char *topic)
{
    size_t len = 0;
    const char *s = total && r->agg.totals_to ? r->agg.totals_to : r->to;
    topic[0] = '\0';
    while (*s) {
        const char *open = strchr(s, '{');
        if (!open)
            return policy_topic_put(topic, &len, s, strlen(s), false);
        if (!policy_topic_put(topic, &len, s, (size_t)(open - s), false))
            return false;
        const char *close = strchr(open, '}');
        size_t l = (size_t)(close - open - 1);
        bool ok = false;
        if (l == 4 && !memcmp(open + 1, "site", 4))
            ok = policy_topic_put(topic, &len, p->site, strlen(p->site), true);
        else if (l == 5 && !memcmp(open + 1, "route", 5))
            ok = policy_topic_put(topic, &len, r->name, strlen(r->name), true);
        else if (l == 4 && !memcmp(open + 1, "type", 4))
            ok = policy_topic_put(topic, &len, r->from_names[0], strlen(r->from_names[0]), true);
        else
            for (size_t i = 0; i < r->agg.nby; i++)
                if (strlen(r->agg.by[i]) == l && !memcmp(open + 1, r->agg.by[i], l)) {
                    ok = total ? policy_topic_put(topic, &len, "_total", 6, false)
                               : policy_topic_put(topic, &len, g->key + g->off[i], g->len[i], true);
                    break;
                }
        if (!ok)
            return false;
        s = close + 1;
    }
    return true;
}

static fg_err emit_group(struct policy *p, struct policy_route *r, struct group *g, bool total,
                         policy_emit_fn emit, void *ctx)
{
    struct policy_agg_state *s = r->state;
    char payload[POLICY_OUT_PAYLOAD], topic[POLICY_OUT_TOPIC], tb[40];
    struct fg_jw w;
    fg_jw_init(&w, payload, sizeof payload);
    fg_jw_obj_open(&w);
    fg_jw_key(&w, "window_start");
    fg_format_time(s->win_start, tb, sizeof tb);
    fg_jw_cstr(&w, tb);
    fg_jw_key(&w, "window_end");
    fg_format_time(s->win_start + r->agg.window_ms, tb, sizeof tb);
    fg_jw_cstr(&w, tb);
    if (total) {
        fg_jw_key(&w, "total");
        fg_jw_bool(&w, true);
    } else
        for (size_t i = 0; i < r->agg.nby; i++) {
            fg_jw_key(&w, r->agg.by[i]);
            if (g->numeric[i]) {
                char num[64];
                size_t l = g->len[i] < sizeof num - 1 ? g->len[i] : sizeof num - 1;
                memcpy(num, g->key + g->off[i], l);
                num[l] = '\0';
                fg_jw_num(&w, strtod(num, NULL));
            } else
                fg_jw_str(&w, g->key + g->off[i], g->len[i]);
        }
    for (size_t i = 0; i < r->agg.nemit; i++) {
        struct acc *a = &g->acc[i];
        fg_jw_key(&w, r->agg.emit[i].name);
        switch (r->agg.emit[i].fn) {
        case POLICY_AGG_COUNT:
            fg_jw_int(&w, (int64_t)a->n);
            break;
        case POLICY_AGG_COUNT_DISTINCT:
            fg_jw_int(&w, (int64_t)(s->share[i] ? g->workers.n : a->set.n));
            break;
        case POLICY_AGG_SUM:
            fg_jw_num(&w, a->sum);
            break;
        case POLICY_AGG_MEAN:
            if (a->n)
                fg_jw_num(&w, a->sum / (double)a->n);
            else
                fg_jw_null(&w);
            break;
        case POLICY_AGG_MIN:
        case POLICY_AGG_MAX:
            if (a->n)
                fg_jw_num(&w, r->agg.emit[i].fn == POLICY_AGG_MIN ? a->min : a->max);
            else
                fg_jw_null(&w);
            break;
        default: {
            if (!a->nsamples) {
                fg_jw_null(&w);
                break;
            }
            double q = r->agg.emit[i].fn == POLICY_AGG_P50   ? 0.50
                       : r->agg.emit[i].fn == POLICY_AGG_P90 ? 0.90
                                                             : 0.99;
            qsort(a->samples, a->nsamples, sizeof(double), cmp_double);
            /* nearest rank */
            size_t rank = (size_t)ceil(q * (double)a->nsamples);
            fg_jw_num(&w, a->samples[rank ? rank - 1 : 0]);
            break;
        }
        }
    }
    fg_jw_obj_close(&w);
    if (!fg_jw_finish(&w) || !group_topic(p, r, g, total, topic))
        return FG_ERR_TOO_BIG;
    struct policy_output out = {
        .route = r->name,
        .purpose = r->purpose,
        .topic = topic,
        .payload = payload,
        .len = w.len,
        .retention_ms = r->retention_ms,
        .categories = s->cats,
        .policy_name = p->name,
        .policy_version = p->version,
    };
    fg_err e = emit(ctx, &out);
    if (!e)
        r->c.emitted++;
    return e;
}

static bool below_min(const struct policy_route *r, const struct group *g)
{
    return r->agg.min_group > 0 && g->workers.n < (uint32_t)r->agg.min_group;
}

/* Does group g add anything to emitted value i? A sum of zeros adds nothing:
 * the total would then equal the published groups plus the one group that
 * does add, so such a group cannot protect another. */
static bool contributes(const struct policy_agg_state *s, const struct policy_route *r,
                        const struct group *g, size_t i)
{
    const struct acc *a = &g->acc[i];
    switch (r->agg.emit[i].fn) {
    case POLICY_AGG_COUNT_DISTINCT:
        return (s->share[i] ? g->workers.n : a->set.n) > 0;
    case POLICY_AGG_SUM:
        return a->n > 0 && a->sum != 0;
    default:
        return a->n > 0;
    }
}

/* Complementary suppression per measure: with a published total, every
 * emitted value must have either no hidden group that adds to it or at least
 * two, or else total minus the published groups is the one hidden group's
 * value. While some value has exactly one hidden contributor, the published
 * group that also adds to that value and has the fewest workers is hidden as
 * well; if there is none, the total is withheld (returns false). */
static bool secondary_suppression(struct policy_route *r)
{
    struct policy_agg_state *s = r->state;
    for (;;) {
        size_t bad = r->agg.nemit;
        for (size_t i = 0; i < r->agg.nemit && bad == r->agg.nemit; i++) {
            size_t hidden = s->overflow->records && contributes(s, r, s->overflow, i);
            for (size_t k = 0; k < s->ngroups; k++)
                hidden += s->list[k]->suppressed && contributes(s, r, s->list[k], i);
            if (hidden == 1)
                bad = i;
        }
        if (bad == r->agg.nemit)
            return true;
        struct group *next = NULL;
        for (size_t k = 0; k < s->ngroups; k++) {
            struct group *g = s->list[k];
            if (g->suppressed || !contributes(s, r, g, bad))
                continue;
            if (!next || g->workers.n < next->workers.n ||
                (g->workers.n == next->workers.n && g->records < next->records))
                next = g;
        }
        if (!next)
            return false;
        next->suppressed = next->secondary = true;
        r->c.groups_secondary++;
    }
}

/* Closes the open window of r: decides suppression, emits, frees. */
static fg_err close_window(struct policy *p, struct policy_route *r, policy_emit_fn emit, void *ctx)
{
    struct policy_agg_state *s = r->state;
    if (s->win_start == INT64_MIN)
        return FG_OK;
    s->closed_until = s->win_start + r->agg.window_ms;
    for (size_t i = 0; i < s->ngroups; i++) {
        struct group *g = s->list[i];
        g->suppressed = g->saturated || below_min(r, g);
    }
    if (s->overflow->records) {
        s->overflow->suppressed = true; /* never published: its members are unknown */
        r->c.groups_suppressed++;
    }
    bool total_out = r->agg.totals;
    if (total_out) {
        struct group *t = s->total;
        if (t->saturated || below_min(r, t) || t->records == 0)
            total_out = false;
        else
            total_out = secondary_suppression(r);
        if (!total_out)
            r->c.totals_suppressed++;
    }
    qsort(s->list, s->ngroups, sizeof *s->list, cmp_group);
    fg_err e = FG_OK;
    for (size_t i = 0; i < s->ngroups && !e; i++) {
        struct group *g = s->list[i];
        if (g->suppressed) {
            if (!g->secondary)
                r->c.groups_suppressed++;
            continue;
        }
        e = emit_group(p, r, g, false, emit, ctx);
        if (!e)
            r->c.groups_published++;
    }
    if (!e && total_out) {
        e = emit_group(p, r, s->total, true, emit, ctx);
        if (!e)
            r->c.totals_published++;
    }
    reset_window(p, r);
    return e;
}

fg_err policy_agg_add(struct policy *p, struct policy_route *r,
                      const struct policy_route_source *src, const struct sensor_record *rec,
                      const char *const *keys, const size_t *key_lens, const bool *numeric,
                      int64_t now_ms, policy_emit_fn emit, void *ctx)
{
    struct policy_agg_state *s = r->state;
    int64_t wl = r->agg.window_ms;
    int64_t start = (now_ms >= 0 ? now_ms / wl : -((-now_ms + wl - 1) / wl)) * wl;
    fg_err e = FG_OK;
    pthread_mutex_lock(&p->agg_lock);
    if (s->win_start != INT64_MIN && start > s->win_start)
        e = close_window(p, r, emit, ctx); /* the clock moved on before the tick did */
    if ((s->win_start != INT64_MIN && start < s->win_start) || start < s->closed_until) {
        r->c.late++; /* its window has been published: counting it now would lie */
        pthread_mutex_unlock(&p->agg_lock);
        return e;
    }
    s->win_start = start;
    struct group *g = find_group(p, r, keys, key_lens, numeric);
    if (g == s->overflow)
        r->c.overflow_records++;
    feed(p, r, src, rec, g);
    if (r->agg.totals)
        feed(p, r, src, rec, s->total);
    pthread_mutex_unlock(&p->agg_lock);
    return e;
}

fg_err policy_agg_tick(struct policy *p, int64_t now_ms, bool flush, policy_emit_fn emit, void *ctx)
{
    fg_err first = FG_OK;
    if (!p->agg_lock_ready)
        return FG_OK;
    pthread_mutex_lock(&p->agg_lock);
    for (size_t ri = 0; ri < p->nroutes; ri++) {
        struct policy_route *r = &p->routes[ri];
        struct policy_agg_state *s = r->state;
        if (!s || s->win_start == INT64_MIN)
            continue;
        if (!flush && now_ms < s->win_start + r->agg.window_ms)
            continue;
        fg_err e = close_window(p, r, emit, ctx);
        if (e && !first)
            first = e;
    }
    pthread_mutex_unlock(&p->agg_lock);
    return first;
}

size_t policy_agg_memory(const struct policy *p)
{
    return p->agg_bytes;
}
