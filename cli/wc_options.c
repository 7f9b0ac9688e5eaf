#include "cli/wc_options.h"

#include <stdio.h>
#include <string.h>

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

void wc_state_free(struct wc_state *st)
{
    config_free(&st->cfg);
}
