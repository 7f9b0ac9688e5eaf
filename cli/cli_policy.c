/* fairgate policy check|explain|diff: a thin shell over the policy library.
 * sign and verify (issue 6) slot into the same table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fg_command.h"
#include "common/fg_i18n.h"
#include "common/fg_opt.h"
#include "common/fg_util.h"
#include "policy/policy.h"
#include "cli/policy_cli.h"
#include "cli/sensor_opts.h"

struct opts {
    struct cli_sensor_opts sensors;
    const char *lang;
    const char *site;
};

static const struct fg_opt opts_check[] = {
    CLI_SENSOR_OPTS(struct opts, sensors),
    FG_OPT_STR(struct opts, site, "site", 0, "NAME", "the site name for {site} in destinations"),
};
static const struct fg_opt opts_lang[] = {
    FG_OPT_CHOICE(struct opts, lang, "lang", 0, "en|nl|de",
                  "language of the sentences (default from FAIRGATE_LANG or LANG, else en)"),
    CLI_SENSOR_OPTS(struct opts, sensors),
    FG_OPT_STR(struct opts, site, "site", 0, "NAME", "the site name for {site} in destinations"),
};

static const struct fg_opt_cmd cmd_check_def = {
    "fairgate policy check",
    "FILE [--sensors DIR]...",
    "Loads the policy against the sensor types and prints every error with file:line:col,\n"
    "then warnings. Exit status: 0 valid, 1 invalid, 2 usage.",
    opts_check,
    FG_OPT_N(opts_check),
    1,
    1};
static const struct fg_opt_cmd cmd_explain_def = {
    "fairgate policy explain",
    "FILE [--lang en|nl|de] [--sensors DIR]...",
    "Turns the policy into plain sentences, route by route: what is collected, what\n"
    "leaves and how coarse, for which purpose, how long it is kept, what never leaves.",
    opts_lang,
    FG_OPT_N(opts_lang),
    1,
    1};
static const struct fg_opt_cmd cmd_diff_def = {
    "fairgate policy diff",
    "OLD NEW [--lang en|nl|de] [--sensors DIR]...",
    "Says in plain language what changes for workers from OLD to NEW.",
    opts_lang,
    FG_OPT_N(opts_lang),
    2,
    2};

/* Parses the options and loads the sensor types; returns -1 to go on, else
 * the exit code. */
static int setup(const struct fg_opt_cmd *c, int argc, char **argv, struct opts *o, char ***args,
                 struct sensor_registry **reg)
{
    /* FAIRGATE_LANG or LANG, else en */
    *o = (struct opts){.lang = fg_lang_code(fg_lang_from_env()), .site = "site"};
    int rc = fg_opt_parse(c, argc, argv, o, args, NULL);
    if (rc != FG_OPT_OK)
        return fg_opt_exit(rc);
    return cli_sensor_registry(c->cmd, &o->sensors, reg) ? 1 : -1;
}

static struct policy *load(const char *path, const struct sensor_registry *reg, const char *site)
{
    char why[1024] = "";
    struct policy *p = NULL;
    fg_err e = policy_load_file(path, reg, site, &p, why, sizeof why);
    if (e) {
        fprintf(stderr, "error: %s\n", why[0] ? why : fg_strerror(e));
        return NULL;
    }
    return p;
}

static void print_warning(void *ctx, const char *msg)
{
    (void)ctx;
    printf("warning: %s\n", msg);
}

static int cmd_check(int argc, char **argv)
{
    struct opts o;
    char **args;
    struct sensor_registry *reg;
    int rc = setup(&cmd_check_def, argc, argv, &o, &args, &reg);
    if (rc >= 0)
        return rc;
    struct policy *p = load(args[0], reg, o.site);
    if (!p) {
        sensor_registry_free(reg);
        return 1;
    }
    printf("%s: policy %s version %d, %zu route(s): valid\n", args[0], policy_name(p),
           policy_version(p), policy_route_count(p));
    if (policy_expired(p, fg_now_ms())) {
        char t[40];
        fg_format_time(policy_valid_until_ms(p), t, sizeof t);
        printf("warning: the policy expired on %s: the gateway forwards nothing under it\n", t);
    }
    size_t n = policy_check_warnings(p, print_warning, NULL);
    if (n)
        printf("%zu warning(s)\n", n);
    policy_free(p);
    sensor_registry_free(reg);
    return 0;
}

static int cmd_explain(int argc, char **argv)
{
    struct opts o;
    char **args;
    struct sensor_registry *reg;
    int rc = setup(&cmd_explain_def, argc, argv, &o, &args, &reg);
    if (rc >= 0)
        return rc;
    struct policy *p = load(args[0], reg, o.site);
    rc = 1;
    if (p && policy_explain(p, o.lang, stdout) == FG_OK)
        rc = 0;
    policy_free(p);
    sensor_registry_free(reg);
    return rc;
}

static int cmd_diff(int argc, char **argv)
{
    struct opts o;
    char **args;
    struct sensor_registry *reg;
    int rc = setup(&cmd_diff_def, argc, argv, &o, &args, &reg);
    if (rc >= 0)
        return rc;
    struct policy *a = load(args[0], reg, o.site);
    struct policy *b = a ? load(args[1], reg, o.site) : NULL;
    rc = 1;
    if (a && b && policy_diff(a, b, o.lang, stdout) == FG_OK)
        rc = 0;
    policy_free(a);
    policy_free(b);
    sensor_registry_free(reg);
    return rc;
}

static const struct fg_subcmd subcommands[] = {
    {"check", "load a policy and report errors (file:line:col) and warnings", cmd_check},
    {"explain", "the policy in plain sentences (--lang en|nl|de)", cmd_explain},
    {"diff", "what changes for workers between two policies", cmd_diff},
    {"sign", "sign a policy's exact bytes with a role key (detached, FILE.sig)", policy_cli_sign},
    {"verify", "list who signed a policy and whether it may take effect", policy_cli_verify},
};

static int policy_main(int argc, char **argv)
{
    return fg_subcmd_run("fairgate policy", subcommands, FG_OPT_N(subcommands), argc, argv);
}

const struct fg_command fg_cmd_policy = {
    .name = "policy",
    .summary = "check, explain, compare, sign and verify policies",
    .main = policy_main,
};
