/* The compiled policy model, shared by the files of policy/ (load, apply,
 * explain, diff). Not for other modules: they use policy.h. */
#ifndef POLICY_INTERNAL_H
#define POLICY_INTERNAL_H

#include "policy/policy.h"

#define POLICY_MAX_ROUTES 64
#define POLICY_MAX_FROM 8
#define POLICY_MAX_FIELD_RULES 64

typedef enum {
    POLICY_KEEP = 0,
    POLICY_DROP,
    POLICY_PSEUDONYMISE,
    POLICY_GENERALISE,
} policy_action_kind;

struct policy_field_rule {
    char *field;
    policy_action_kind action;
    double step;       /* generalise: numbers round to step; timestamps truncate to step ms */
    int line, col;     /* where it was written, for messages */
};

/* A route compiled for one source type: per field index, what to do. */
struct policy_route_source {
    const struct sensor_type *type;
    signed char action[SENSOR_MAX_FIELDS]; /* -1 = not named: drop */
    int rule[SENSOR_MAX_FIELDS];           /* index into route->rules */
};

struct policy_route {
    char *name;
    char *purpose;
    char *to; /* destination template */
    char *from_names[POLICY_MAX_FROM];
    size_t nfrom;
    struct policy_route_source sources[POLICY_MAX_FROM];
    struct policy_field_rule rules[POLICY_MAX_FIELD_RULES];
    size_t nrules;
    int64_t retention_ms;
    bool names_health; /* a health-category field leaves through this route */
};

struct policy {
    char *file;
    char *name;
    int version;
    int64_t valid_until_ms;
    int64_t rotate_ms, keep_keys_ms;
    char *site;
    struct policy_route routes[POLICY_MAX_ROUTES];
    size_t nroutes;
};

const char *policy_action_name(policy_action_kind a);

#endif
