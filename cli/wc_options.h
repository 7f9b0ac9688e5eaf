/* What the works-council commands (reidentify, subject-report) share: the gateway state they read.
 */
#ifndef WC_CLI_H
#define WC_CLI_H

#include <stddef.h>

#include "gateway/config.h"

struct wc_state {
    struct fg_config cfg;
    char audit_log[4200], audit_dir[4200], reident_dir[4200];
};

/* Loads the gateway's configuration and where its state lives; on failure
 * prints "CMD: why" and returns nonzero. Free with wc_state_free. */
int wc_state_load(struct wc_state *st, const char *config, const char *cmd);
void wc_state_free(struct wc_state *st);

#endif
