/* What the works-council commands (reidentify, subject-report) share: the gateway state they read.
 */
#ifndef WC_CLI_H
#define WC_CLI_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "gateway/config.h"

struct wc_state {
    struct fg_config cfg;
    char audit_log[4200], audit_dir[4200], reident_dir[4200];
};

/* Loads the gateway's configuration and where its state lives; on failure
 * prints "CMD: why" and returns nonzero. Free with wc_state_free. */
int wc_state_load(struct wc_state *st, const char *config, const char *cmd);
void wc_state_free(struct wc_state *st);

/* The policy the configuration names, with the sensor types it reads; NULL if it
 * does not load. Free with policy_free, then sensor_registry_free(*reg). */
struct policy;
struct sensor_registry;
struct policy *wc_policy_load(const struct wc_state *st, struct sensor_registry **reg);
/* For the audit report: how coarse each route of config's policy is
 * (policy_coarseness); *out NULL (with a warning) if the policy does not load.
 * Returns nonzero if config itself cannot be read. */
int wc_policy_coarseness(const char *config, const char *cmd, cJSON **out);

#endif
