/* fairgate reidentify: reveal the identifier behind a pseudonym, only with the
 * works council's secret key, and only while the epoch's table is kept. Every
 * attempt is audited with its reason, successful or not. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "common/fg_command.h"
#include "common/fg_opt.h"
#include "common/fg_util.h"
#include "audit/inbox.h"
#include "gateway/config.h"
#include "council/keys.h"
#include "council/reident.h"
#include "cli/wc_options.h"
#include "policy/pseudonym.h"

struct reid_opts {
    const char *config, *route, *pseudonym, *reason, *key;
};
static const struct fg_opt reid_table[] = {
    FG_OPT_STR(struct reid_opts, config, "config", 'c', "FILE", "the gateway's configuration"),
    FG_OPT_STR(struct reid_opts, route, "route", 0, "R", "the route the pseudonym left on"),
    FG_OPT_STR(struct reid_opts, pseudonym, "pseudonym", 0, "P", "the pseudonym"),
    FG_OPT_STR(struct reid_opts, reason, "reason", 0, "TEXT",
               "why (at least 10 characters; recorded in the audit log)"),
    FG_OPT_STR(struct reid_opts, key, "key", 0, "WORKS_COUNCIL_SECRET",
               "the works council's secret key file"),
};
static const struct fg_opt_cmd reid_cmd = {
    "fairgate reidentify",
    "--config FILE --route R --pseudonym P --reason TEXT\n--key WORKS_COUNCIL_SECRET",
    "Reveals who stands behind pseudonym P on route R, e.g. to reach a worker after a\n"
    "man-down alarm. Needs the works council's secret key; works only while the\n"
    "pseudonym's epoch key is kept. The attempt and its reason go to the audit log.",
    reid_table,
    FG_OPT_N(reid_table),
    0,
    0};

/* issue 14: a key and its table go at their deadline even while the daemon is stopped;
 * reidentify destroys what is due before it looks anything up, and audits it. */
static void on_expired(void *ctx, const char *action, int64_t epoch)
{
    struct wc_state *st = ctx;
    reident_destroy_epoch_offline(st->reident_dir, epoch);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "epoch", (double)epoch);
    cJSON_AddStringToObject(o, "by",
                            "reidentify: the deadline passed while the gateway was stopped");
    char why[512];
    if (audit_submit(st->audit_log, st->audit_dir, "gateway", action, o, 5000, why, sizeof why))
        fprintf(stderr, "reidentify: the destruction of epoch %lld could not be audited: %s\n",
                (long long)epoch, why);
    cJSON_Delete(o);
}

static void destroy_due_keys(struct wc_state *st)
{
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/keys", st->cfg.state_dir);
    fg_err e = pseudonym_expire_offline(dir, fg_now_ms(), on_expired, st);
    if (e && e != FG_ERR_NOT_FOUND)
        fprintf(stderr, "reidentify: cannot check key deadlines in %s: %s\n", dir, fg_strerror(e));
}

static int reidentify_main(int argc, char **argv)
{
    struct reid_opts opt = {0};
    int prc = fg_opt_parse(&reid_cmd, argc, argv, &opt, NULL, NULL);
    if (prc != FG_OPT_OK)
        return fg_opt_exit(prc);
    const char *config = opt.config, *route = opt.route, *ps = opt.pseudonym, *reason = opt.reason,
               *key = opt.key;
    if (!config || !route || !ps || !reason || !key)
        return fg_opt_error(&reid_cmd, "--config, --route, --pseudonym, --reason and --key are "
                                       "required");
    if (strlen(reason) < 10) {
        fprintf(stderr, "reidentify: give a real reason (at least 10 characters); it is "
                        "recorded in the audit log\n");
        return 2;
    }
    struct wc_state st;
    if (wc_state_load(&st, config, "reidentify"))
        return 2;
    destroy_due_keys(&st);
    char why[1024], id[1100] = "";
    unsigned char *sk = NULL;
    char role[KEYS_ROLE_MAX + 1] = "?";
    const char *result;
    struct reident_hit hit = {0};
    fg_err e = keys_load_secret(key, &sk, role, sizeof role, why, sizeof why);
    if (e)
        result = "refused: the key cannot be read";
    else {
        e = reident_lookup(st.reident_dir, sk, route, ps, id, sizeof id, &hit);
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
    fg_err ae =
        audit_submit(st.audit_log, st.audit_dir, actor, "reidentify", o, 5000, awhy, sizeof awhy);
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
    wc_state_free(&st);
    return rc;
}

const struct fg_command fg_cmd_reidentify = {
    .name = "reidentify",
    .summary = "reveal the worker behind a pseudonym (works council key, audited)",
    .main = reidentify_main,
};
