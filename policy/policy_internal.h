/* The compiled policy model, shared by the files of policy/ (load, apply,
 * condition, aggregate, explain, diff). Not for other modules: they use policy.h. */
#ifndef POLICY_INTERNAL_H
#define POLICY_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "common/fg_i18n.h"
#include "policy/policy.h"

#define POLICY_MAX_ROUTES 64
#define POLICY_MAX_FROM 8
#define POLICY_MAX_FIELD_RULES 64
#define POLICY_MAX_COND 32 /* nodes of one `when` expression */
#define POLICY_MAX_ZONES 64
#define POLICY_MAX_POLY 32 /* vertices of one zone polygon */
#define POLICY_MAX_BY 4
#define POLICY_MAX_EMIT 16
#define POLICY_MAX_WORKER_FIELDS 4
#define POLICY_GROUP_KEY 256 /* bytes of one group's joined `by` values */
#define POLICY_OUT_PAYLOAD 4096
#define POLICY_OUT_TOPIC 512

typedef enum {
    POLICY_KEEP = 0,
    POLICY_DROP,
    POLICY_PSEUDONYMISE,
    POLICY_GENERALISE,
} policy_action_kind;

typedef enum {
    POLICY_GEN_STEP = 0, /* numbers round to step; timestamps truncate to step ms */
    POLICY_GEN_ZONE,     /* (field, partner) -> name of the zone containing the point */
    POLICY_GEN_GRID,     /* a location -> centre of a grid cell `step` metres wide */
} policy_gen_kind;

/* GRID: how a cell `step` metres wide maps onto the coordinate (set at load
 * from the field name). */
typedef enum {
    POLICY_GRID_METRES = 0, /* x / y */
    POLICY_GRID_LAT,        /* degrees of latitude */
    POLICY_GRID_LON,        /* degrees of longitude: width depends on the partner latitude */
} policy_grid_axis;

struct policy_field_rule {
    char *field;
    policy_action_kind action;
    policy_gen_kind gen;
    double step;        /* STEP: number step or ms; GRID: metres */
    double round_scale; /* STEP below 1: 10^digits to print what the policy means; else 0 */
    policy_grid_axis grid_axis;
    char *partner; /* ZONE/GRID: the other coordinate (y for x, lon for lat) */
    int line, col; /* where it was written, for messages */
};

/* `when`: a tree in a fixed array, children by index; evaluation recurses
 * over indices and allocates nothing. */
typedef enum {
    POLICY_COND_OR = 0,
    POLICY_COND_AND,
    POLICY_COND_NOT,
    POLICY_COND_CMP,
    POLICY_COND_EXISTS /* exists(field): true when present, false when absent */
} policy_cond_kind;
typedef enum {
    POLICY_OP_EQ = 0,
    POLICY_OP_NE,
    POLICY_OP_LT,
    POLICY_OP_LE,
    POLICY_OP_GT,
    POLICY_OP_GE
} policy_cond_op;
typedef enum { POLICY_LIT_NUM = 0, POLICY_LIT_BOOL, POLICY_LIT_STR } policy_lit_kind;

struct policy_cond {
    policy_cond_kind kind;
    int a, b; /* children (OR/AND: a, b; NOT: a) */
    /* CMP, EXISTS */
    char *field;
    policy_cond_op op;
    policy_lit_kind lit;
    double num; /* numbers, and timestamps as ms */
    bool b_val;
    char *str;
    size_t str_len;
};

typedef enum {
    POLICY_AGG_COUNT = 0,
    POLICY_AGG_COUNT_DISTINCT,
    POLICY_AGG_SUM,
    POLICY_AGG_MEAN,
    POLICY_AGG_MIN,
    POLICY_AGG_MAX,
    POLICY_AGG_P50,
    POLICY_AGG_P90,
    POLICY_AGG_P99,
    POLICY_AGG__COUNT
} policy_agg_fn;

struct policy_agg_emit {
    char *name; /* key in the emitted message */
    policy_agg_fn fn;
    char *field; /* NULL for count() */
};

struct policy_agg {
    bool on;
    int64_t window_ms;
    char *by[POLICY_MAX_BY];
    size_t nby;
    struct policy_agg_emit emit[POLICY_MAX_EMIT];
    size_t nemit;
    int min_group;      /* 0: no minimum */
    bool totals;        /* also publish the total over all groups */
    char *totals_to;    /* topic of the total; NULL: `to` with by-placeholders = _total */
    size_t max_groups;  /* per window, this route */
    size_t max_samples; /* per group and percentile, reservoir size */
    char *workers[POLICY_MAX_WORKER_FIELDS]; /* whose distinct values count for min_group */
    size_t nworkers;
};

/* A route compiled for one source type: per field index, what to do. */
struct policy_route_source {
    const struct sensor_type *type;
    signed char action[SENSOR_MAX_FIELDS];     /* -1 = not named: drop */
    int rule[SENSOR_MAX_FIELDS];               /* index into route->rules */
    signed char partner_of[SENSOR_MAX_FIELDS]; /* consumed by a zone rule: owner index */
    signed char partner[SENSOR_MAX_FIELDS];    /* zone/grid rule owner -> partner index */
    signed char cond_field[POLICY_MAX_COND];   /* CMP node -> field index, -1 if absent */
    signed char by_field[POLICY_MAX_BY];
    signed char emit_field[POLICY_MAX_EMIT]; /* -1 for count() */
    signed char worker_field[POLICY_MAX_WORKER_FIELDS];
    size_t nworker_fields;
    bool zone_check[SENSOR_MAX_FIELDS]; /* a zone text that leaves: listed names or `other` */
};

/* Exceptions a route may declare (`exceptions: { NAME: REASON }`): each lifts
 * one refusal, needs a signed policy and is shown in red by explain. */
typedef enum {
    POLICY_EXC_KEEP_WORKER_ID = 0, /* a worker id leaves as it is */
    POLICY_EXC_PERSON_LINKED,      /* a per-record route sends a thing that stands for a person */
    POLICY_EXC_SMALL_GROUPS,       /* min_group below 2 on records of workers */
    POLICY_EXC__COUNT
} policy_exception_kind;
extern const char *const policy_exception_names[POLICY_EXC__COUNT];

/* The destination template compiled at load (per-message routes), so that
 * apply neither searches for braces nor compares placeholder names. */
typedef enum {
    POLICY_TOPIC_LIT = 0, /* to[off .. off+len) as written */
    POLICY_TOPIC_SITE,
    POLICY_TOPIC_ROUTE,
    POLICY_TOPIC_TYPE,
    POLICY_TOPIC_FIELD, /* field[source index] of the record */
} policy_topic_seg_kind;

struct policy_topic_seg {
    policy_topic_seg_kind kind;
    uint32_t off, len;
    signed char field[POLICY_MAX_FROM]; /* FIELD: per source, the field index */
};

struct policy_agg_state; /* aggregate.c */

struct policy_route_counters {
    _Atomic uint64_t matched, filtered, emitted, late, groups_published, groups_suppressed,
        groups_secondary, totals_published, totals_suppressed, overflow_records;
    _Atomic uint64_t zones_other; /* zone values not in the list, sent as `other` */
};

struct policy_route {
    char *name;
    char *purpose;                    /* English, else the first language given */
    char *purpose_tr[FG_LANG__COUNT]; /* per language; NULL: not given (explain says so) */
    char *to;                         /* destination template */
    struct policy_topic_seg *to_seg;  /* per-message routes: `to` compiled at load */
    int nto_seg;
    char *from_names[POLICY_MAX_FROM];
    size_t nfrom;
    struct policy_route_source sources[POLICY_MAX_FROM];
    struct policy_field_rule rules[POLICY_MAX_FIELD_RULES];
    size_t nrules;
    int64_t retention_ms;
    int batch_max;          /* batch.max_records (0: off) */
    int64_t batch_delay_ms; /* batch.max_delay */
    bool names_health;      /* a health-category field leaves through this route */
    char *when;             /* source text, for explain */
    struct policy_cond cond[POLICY_MAX_COND];
    int ncond, cond_root; /* cond_root -1: no condition */
    struct policy_agg agg;
    struct policy_agg_state *state;
    struct policy_route_counters c;
    char *exception[POLICY_EXC__COUNT]; /* reason as written; NULL: not declared */
};

struct policy_zone {
    char *name;
    int npts; /* 2 = rectangle given by two corners */
    double x[POLICY_MAX_POLY], y[POLICY_MAX_POLY];
};

struct policy {
    char *file;
    char *name;
    char *description;
    char *description_tr[FG_LANG__COUNT];
    int version;
    int64_t valid_until_ms;
    int64_t rotate_ms, keep_keys_ms;
    char *site;
    struct policy_zone zones[POLICY_MAX_ZONES];
    size_t nzones;
    char **site_zones; /* `site_zones:` names a zone text may have (besides `zones:`) */
    size_t nsite_zones;
    size_t max_groups_total; /* limits.max_groups: over all routes */
    size_t max_distinct;     /* limits.max_distinct: values held in all distinct sets */
    struct policy_route routes[POLICY_MAX_ROUTES];
    size_t nroutes;
    /* aggregation state: apply (input thread) and tick (main thread) meet here */
    pthread_mutex_t agg_lock;
    bool agg_lock_ready;
    unsigned char hash_key[16]; /* keyed hash of distinct values; random per load */
    size_t groups_live, distinct_live, agg_bytes;
    _Atomic uint64_t records, expired_drops;
};

/* Appends n bytes of s to a topic of POLICY_OUT_TOPIC bytes; with sanitise,
 * characters that would change its meaning or that brokers refuse (levels,
 * wildcards, controls U+0000-U+009F, non-characters) become '_'. False when it
 * would not fit or is not valid UTF-8. */
bool policy_topic_put(char *topic, size_t *len, const char *s, size_t n, bool sanitise);
/* Valid UTF-8 without control or non-character code points: what a name,
 * purpose or description must be to travel as an MQTT property. */
bool policy_text_valid(const char *s, size_t n);

/* Zone containing (x, y), or NULL ("outside"). */
const char *policy_zone_of(const struct policy *p, double x, double y);

/* `when`: parse into r->cond (errors carry the column within the text). */
FG_MUST_CHECK fg_err policy_cond_parse(struct policy_route *r, const char *text, char *why,
                                       size_t why_len, int *err_col);
bool policy_cond_eval(const struct policy_route *r, const struct policy_route_source *src,
                      const struct sensor_record *rec);
/* Writes the condition as plain text in lang ("en" / "nl"). */
void policy_cond_describe(const struct policy_route *r, int node, const char *lang, char *buf,
                          size_t len);

/* policy_privacy.c: the sentences and warnings of the privacy rules (issue 15),
 * called by policy_explain.c. */
void policy_privacy_explain_when(const struct policy_route *r, const char *lang, FILE *out);
/* Persons behind things, zone lists, small groups, movement tracks and
 * exceptions of one route, in sentences. */
void policy_privacy_explain_route(const struct policy *p, const struct policy_route *r,
                                  const char *lang, FILE *out);
/* One line of `policy diff` for an exception declared, changed or dropped. */
void policy_privacy_diff_exception(policy_exception_kind k, const char *was, const char *now,
                                   const char *lang, FILE *out);
/* Warnings of `policy check` for those rules; returns how many. */
size_t policy_privacy_warnings(const struct policy *p, policy_warn_fn fn, void *ctx);
/* A zone text as it may leave: the listed name, or "other" (counted). */
void policy_zone_value(const struct policy *p, const struct policy_route *r,
                       const struct sensor_field *f, const char **s, size_t *len);
/* Points per pseudonym (or person) and day a per-record route sends with
 * locations of src's type; 0 when it sends no location of a person. */
double policy_track_points(const struct policy *p, const struct policy_route *r,
                           const struct policy_route_source *src);

/* aggregate.c */
FG_MUST_CHECK fg_err policy_agg_setup(struct policy *p);
void policy_agg_teardown(struct policy *p);
/* keys: the route's `by` values as text, already generalised; numeric[i] when
 * key i is a number (written unquoted). Caller holds no lock. */
FG_MUST_CHECK fg_err policy_agg_add(struct policy *p, struct policy_route *r,
                                    const struct policy_route_source *src,
                                    const struct sensor_record *rec, const char *const *keys,
                                    const size_t *key_lens, const bool *numeric, int64_t now_ms,
                                    policy_emit_fn emit, void *ctx);
FG_MUST_CHECK fg_err policy_agg_tick(struct policy *p, int64_t now_ms, bool flush,
                                     policy_emit_fn emit, void *ctx);

/* policy_summary.c: phrases shared by explain and the audit report */
void policy_every(fg_lang l, int64_t ms, char *buf,
                  size_t len); /* "every hour", "elke 15 minuten" */
const char *policy_field_word(fg_lang l, const char *field, char *k, size_t klen);
void policy_field_phrase(const struct policy *p, const struct policy_route *r,
                         const struct policy_field_rule *rule, fg_lang l, char *buf, size_t len);
void policy_route_summary(const struct policy *p, const struct policy_route *r, fg_lang l,
                          char *buf, size_t len);

/* One warning of policy check: formats it, counts it in *n, hands it to fn. */
void policy_warnf(policy_warn_fn fn, void *ctx, size_t *n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The field `name` of the first of the route's source types that has it; NULL if none. */
const struct sensor_field *policy_route_field(const struct policy_route *r, const char *name);

#endif
