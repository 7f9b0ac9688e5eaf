#include "cli/wc_options.h"

#include <stdio.h>
#include <string.h>

#include "gateway/setup.h"
#include "policy/policy.h"

int wc_state_load(struct wc_state *st, const char *config, const char *cmd)
{
    char why[1024];
    if (config_load(config, &st->cfg, why, sizeof why) != FG_OK) {
        fprintf(stderr, "%s: %s\n", cmd, why);
        config_free(&st->cfg);
        return 2;
    }
    config_state_paths(&st->cfg, st->audit_log, st->audit_dir, st->reident_dir,
                       sizeof st->audit_log);
    return 0;
}

struct policy *wc_policy_load(const struct wc_state *st, struct sensor_registry **reg)
{
    struct policy *pol = NULL;
    char why[512];
    *reg = NULL;
    /* the same sensor types the gateway loads (built-in, dirs, decoders) */
    if (setup_load_sensors(&st->cfg, reg, why, sizeof why) != FG_OK)
        return NULL;
    if (st->cfg.policy_file &&
        policy_load_file(st->cfg.policy_file, *reg, st->cfg.site, &pol, why, sizeof why) != FG_OK)
        pol = NULL;
    return pol;
}

void wc_state_free(struct wc_state *st)
{
    config_free(&st->cfg);
}

int wc_policy_coarseness(const char *config, const char *cmd, cJSON **out)
{
    struct wc_state st;
    *out = NULL;
    if (wc_state_load(&st, config, cmd))
        return 2;
    struct sensor_registry *reg = NULL;
    struct policy *pol = wc_policy_load(&st, &reg);
    if (!pol)
        fprintf(stderr,
                "%s: the policy of %s does not load; the report cannot say how coarse "
                "each route is\n",
                cmd, config);
    else
        *out = policy_coarseness(pol);
    policy_free(pol);
    sensor_registry_free(reg);
    wc_state_free(&st);
    return 0;
}
