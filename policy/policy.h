/* The policy engine: what may leave the site, how coarse, for which purpose,
 * for how long. Everything the policy does not name is dropped (fail closed). */
#ifndef POLICY_H
#define POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "common/fg_error.h"
#include "policy/pseudonym.h"
#include "sensors/sensor.h"

struct policy;

/* One minimised message ready for the outbox. Pointers valid during the emit call. */
struct policy_output {
    const char *route;
    const char *purpose;
    const char *topic;
    const char *payload;
    size_t len;
    int64_t retention_ms; /* 0 = no limit */
    uint32_t categories;  /* bit per sensor_category present in the payload */
    const char *policy_name;
    int policy_version;
    int batch_max;          /* route's batch.max_records; 0: one record per publish */
    int64_t batch_delay_ms; /* route's batch.max_delay */
};

/* Returning an error stops the apply and is passed up to the caller (the
 * pipeline counts it as a rejected input; it cannot leave the input
 * unacknowledged: Paho acknowledges an input whatever the callback returns). */
typedef fg_err (*policy_emit_fn)(void *ctx, const struct policy_output *out);

/* Loads and checks a policy against the known sensor types. site fills {site}
 * in destination templates. Errors name file:line:col. */
FG_MUST_CHECK fg_err policy_load_file(const char *path, const struct sensor_registry *reg,
                                      const char *site, struct policy **out, char *why,
                                      size_t why_len);
FG_MUST_CHECK fg_err policy_load_string(const char *name, const char *text, size_t len,
                                        const struct sensor_registry *reg, const char *site,
                                        struct policy **out, char *why, size_t why_len);
void policy_free(struct policy *p);

const char *policy_name(const struct policy *p);
int policy_version(const struct policy *p);
int64_t policy_valid_until_ms(const struct policy *p); /* INT64_MAX if none */
int64_t policy_rotate_ms(const struct policy *p);
int64_t policy_keep_keys_ms(const struct policy *p);
bool policy_expired(const struct policy *p, int64_t now_ms);
/* Sensor types some route reads. Inputs of any other type are rejected and
 * counted ("no route for sensor type"); the gateway subscribes to its
 * configured local.subscribe filter (raw/# by default), not per type. */
bool policy_reads_type(const struct policy *p, const struct sensor_type *t);

/* Applies every route to one record; emits zero or more outputs. The verdict
 * decides what leaves the site: never ignore it. */
FG_MUST_CHECK fg_err policy_apply(struct policy *p, struct pseudonym_keyring *keys,
                                  const struct sensor_record *rec, int64_t now_ms,
                                  policy_emit_fn emit, void *ctx, int *emitted);

/* Closes aggregation windows due by now_ms (all when flush is set). */
FG_MUST_CHECK fg_err policy_tick(struct policy *p, int64_t now_ms, bool flush, policy_emit_fn emit,
                                 void *ctx);

/* True if some route lets a health-category field leave (only by naming it).
 * Such a policy must be signed before it may run (issue 6). */
bool policy_names_health(const struct policy *p);
/* True if the policy may only run when signed: it names health data or
 * declares an exception (a worker id kept, a thing that stands for a person
 * sent per record, groups below two workers). */
bool policy_needs_signatures(const struct policy *p);

/* Counters of one route since load: what left, what was held back and why. */
struct policy_route_stats {
    const char *name;
    uint64_t matched;  /* records of a type the route reads */
    uint64_t filtered; /* `when` was false */
    uint64_t emitted;  /* messages that left (incl. aggregates and totals) */
    uint64_t late;     /* too late for the open window: not counted */
    uint64_t groups_published;
    uint64_t groups_suppressed; /* fewer distinct workers than min_group, or overflow */
    uint64_t groups_secondary;  /* suppressed so no hidden group is derivable from a total */
    uint64_t totals_published;
    uint64_t totals_suppressed;
    uint64_t overflow_records; /* records in the overflow group (at max_groups) */
    uint64_t zones_other;      /* zone values not in the site's list, sent as `other` */
};
size_t policy_route_count(const struct policy *p);
void policy_route_stats(const struct policy *p, size_t i, struct policy_route_stats *out);
/* Bytes held by aggregation windows right now (groups, sets, samples). */
size_t policy_agg_memory(const struct policy *p);

/* Warnings a policy that loads may still deserve (health data leaving, an
 * aggregate over workers without min_group, ...). Returns how many. */
typedef void (*policy_warn_fn)(void *ctx, const char *msg);
/* For the works council's report: {"en": {route: "how coarse"}, "nl": ..., "de": ...},
 * one line per route in each language. Caller frees with cJSON_Delete. */
cJSON *policy_coarseness(const struct policy *p);

size_t policy_check_warnings(const struct policy *p, policy_warn_fn fn, void *ctx);

/* Plain sentences per route, lang "en" or "nl" (FG_ERR_CONFIG otherwise). */
FG_MUST_CHECK fg_err policy_explain(const struct policy *p, const char *lang, FILE *out);
/* What changes for workers between two policies, in plain language. */
FG_MUST_CHECK fg_err policy_diff(const struct policy *old_p, const struct policy *new_p,
                                 const char *lang, FILE *out);

#endif
