#include "common/fg_harden.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <malloc.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

/* cJSON's strings and nodes may hold raw values: wipe them before the allocator
 * reuses them, so that freed memory holds no telemetry either. */
static void wiping_free(void *p)
{
    if (!p)
        return;
    sodium_memzero(p, malloc_usable_size(p));
    free(p);
}

fg_err fg_harden_process(char *why, size_t why_len)
{
    struct rlimit none = {0, 0};
    if (setrlimit(RLIMIT_CORE, &none) != 0) {
        snprintf(why, why_len, "cannot disable core dumps (RLIMIT_CORE): %s", strerror(errno));
        return FG_ERR_IO;
    }
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
        snprintf(why, why_len, "cannot make the process non-dumpable: %s", strerror(errno));
        return FG_ERR_IO;
    }
    cJSON_Hooks hooks = {.malloc_fn = malloc, .free_fn = wiping_free};
    cJSON_InitHooks(&hooks);
    return FG_OK;
}
