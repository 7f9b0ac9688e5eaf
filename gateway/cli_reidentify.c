/* fairgate reidentify: reveal the identifier behind a pseudonym, only with the
 * works council's secret key, and only while the epoch's table is kept. Every
 * attempt is audited with its reason, successful or not. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "common/fg_command.h"
#include "common/fg_util.h"
#include "gateway/audit_inbox.h"
#include "gateway/config.h"
#include "gateway/keys.h"
#include "gateway/reident.h"

static int usage(FILE *f, int rc)
{
    fprintf(f, "usage: fairgate reidentify --config FILE --route R --pseudonym P --reason TEXT\n"
               "                           --key WORKS_COUNCIL_SECRET\n\n"
               "Reveals who stands behind pseudonym P on route R, e.g. to reach a worker after a\n"
               "man-down alarm. Needs the works council's secret key; works only while the\n"
               "pseudonym's epoch key is kept. The attempt and its reason go to the audit log.\n");
    return rc;
}

static int reidentify_main(int argc, char **argv)
{
    const char *config = NULL, *route = NULL, *ps = NULL, *reason = NULL, *key = NULL;
    for (int i = 1; i < argc; i += 2) { /* --option value pairs */
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h"))
            return usage(stdout, 0);
        if (!v)
            return usage(stderr, 2);
        if (!strcmp(a, "--config") || !strcmp(a, "-c"))
            config = v;
        else if (!strcmp(a, "--route"))
            route = v;
        else if (!strcmp(a, "--pseudonym"))
            ps = v;
        else if (!strcmp(a, "--reason"))
            reason = v;
        else if (!strcmp(a, "--key"))
            key = v;
        else
            return usage(stderr, 2);
    }
    if (!config || !route || !ps || !reason || !key)
        return usage(stderr, 2);
    if (strlen(reason) < 10) {
        fprintf(stderr, "reidentify: give a real reason (at least 10 characters); it is "
                        "recorded in the audit log\n");
        return 2;
    }
    struct fg_config cfg;
    char why[1024];
    if (config_load(config, &cfg, why, sizeof why) != FG_OK) {
        fprintf(stderr, "reidentify: %s\n", why);
        config_free(&cfg);
        return 2;
    }
    char logpath[4200], adir[4200], rdir[4200], id[1100] = "";
    config_state_paths(&cfg, logpath, adir, rdir, sizeof logpath);
    unsigned char *sk = NULL;
    char role[KEYS_ROLE_MAX + 1] = "?";
    const char *result;
    struct reident_hit hit = {0};
    fg_err e = keys_load_secret(key, &sk, role, sizeof role, why, sizeof why);
    if (e)
        result = "refused: the key cannot be read";
    else {
        e = reident_lookup(rdir, sk, route, ps, id, sizeof id, &hit);
        result = e == FG_OK              ? "revealed"
                 : e == FG_ERR_CRYPTO    ? "refused: not the works council's key"
                 : e == FG_ERR_NOT_FOUND ? "not found: unknown pseudonym, or its epoch key was "
                                           "destroyed"
                                         : "failed";
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "route", route);
    cJSON_AddStringToObject(o, "pseudonym", ps);
    cJSON_AddStringToObject(o, "reason", reason);
    cJSON_AddStringToObject(o, "result", result);
    if (e == FG_OK)
        cJSON_AddNumberToObject(o, "epoch", (double)hit.epoch);
    char awhy[512];
    /* Audited before anything is shown: no record, no reveal. */
    /* The actor is the role the key says it belongs to, not who it should be. */
    const char *actor = keys_role_valid(role) ? role : "unknown-key";
    fg_err ae = audit_submit(logpath, adir, actor, "reidentify", o, 5000, awhy, sizeof awhy);
    cJSON_Delete(o);
    int rc = 1;
    if (ae) {
        fprintf(stderr, "reidentify: the attempt could not be audited (%s); nothing revealed\n",
                awhy);
    } else if (e == FG_OK) {
        printf("%s\n", id);
        fprintf(stderr, "reidentify: route %s, epoch %lld; this was recorded in the audit log\n",
                route, (long long)hit.epoch);
        rc = 0;
    } else
        fprintf(stderr, "reidentify: %s%s%s (recorded in the audit log)\n", result,
                e == FG_ERR_IO ? ": " : "", e == FG_ERR_IO ? why : "");
    sodium_memzero(id, sizeof id);
    if (sk)
        sodium_free(sk);
    config_free(&cfg);
    return rc;
}

const struct fg_command fg_cmd_reidentify = {
    .name = "reidentify",
    .summary = "reveal the worker behind a pseudonym (works council key, audited)",
    .main = reidentify_main,
};
