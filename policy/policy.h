/* The policy engine: what may leave the site, how coarse, for which purpose,
 * for how long. Everything the policy does not name is dropped (fail closed). */
#ifndef POLICY_H
#define POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
};

/* Returning an error stops the apply and is passed up (the input is then not
 * acknowledged). */
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
/* Sensor types some route reads: the gateway subscribes only to these. */
bool policy_reads_type(const struct policy *p, const struct sensor_type *t);

/* Applies every route to one record; emits zero or more outputs. The verdict
 * decides what leaves the site: never ignore it. */
FG_MUST_CHECK fg_err policy_apply(struct policy *p, struct pseudonym_keyring *keys,
                                  const struct sensor_record *rec, int64_t now_ms,
                                  policy_emit_fn emit, void *ctx, int *emitted);

/* Closes aggregation windows due by now_ms (all when flush is set). */
FG_MUST_CHECK fg_err policy_tick(struct policy *p, int64_t now_ms, bool flush,
                                 policy_emit_fn emit, void *ctx);

#endif
