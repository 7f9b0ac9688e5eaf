/* fairgate policy check|explain|diff: a thin shell over the policy library.
 * sign and verify (issue 6) slot into the same table. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fg_command.h"
#include "common/fg_i18n.h"
#include "common/fg_util.h"
#include "policy/policy.h"
#include "cli/policy_cli.h"

#define MAX_SENSOR_DIRS 8

struct opts {
    const char *sensor_dirs[MAX_SENSOR_DIRS];
    size_t nsensor_dirs;
    const char *lang;
    const char *site;
    char **args;
    int nargs;
};

fg_err policy_cli_registry(const char *const *dirs, size_t ndirs, struct sensor_registry **out)
{
    char why[1024] = "";
    fg_err e = sensor_registry_new(out);
    if (e)
        return e;
    if (ndirs == 0)
        e = sensor_registry_load_builtin(*out, why, sizeof why);
    for (size_t i = 0; !e && i < ndirs; i++)
        e = sensor_registry_load_dir(*out, dirs[i], why, sizeof why);
    if (e) {
        fprintf(stderr, "sensors: %s\n", why[0] ? why : fg_strerror(e));
        sensor_registry_free(*out);
        *out = NULL;
    }
    return e;
}

static int parse_opts(int argc, char **argv, struct opts *o, void (*usage)(FILE *))
{
    static const struct option lo[] = {{"sensors", required_argument, 0, 's'},
                                       {"lang", required_argument, 0, 'l'},
                                       {"site", required_argument, 0, 'S'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
    memset(o, 0, sizeof *o);
    o->lang = fg_lang_code(fg_lang_from_env()); /* FAIRGATE_LANG or LANG, else en */
    o->site = "site";
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        switch (c) {
        case 's':
            if (o->nsensor_dirs == MAX_SENSOR_DIRS) {
                fprintf(stderr, "policy: too many --sensors\n");
                return 2;
            }
            o->sensor_dirs[o->nsensor_dirs++] = optarg;
            break;
        case 'l':
            fg_lang l;
            if (!fg_lang_parse(optarg, &l)) {
                fprintf(stderr, "policy: --lang must be en, nl or de\n");
                return 2;
            }
            o->lang = optarg;
            break;
        case 'S':
            o->site = optarg;
            break;
        case 'h':
            usage(stdout);
            return -1;
        default:
            usage(stderr);
            return 2;
        }
    }
    o->args = argv + optind;
    o->nargs = argc - optind;
    return 0;
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

static void usage_check(FILE *f)
{
    fprintf(f, "usage: fairgate policy check FILE [--sensors DIR]...\n\n"
               "Loads the policy against the sensor types (built-in ones, or only those in the\n"
               "--sensors directories) and prints every error with file:line:col, then warnings.\n"
               "Exit status: 0 valid, 1 invalid, 2 usage.\n");
}

static void print_warning(void *ctx, const char *msg)
{
    (void)ctx;
    printf("warning: %s\n", msg);
}

static int cmd_check(int argc, char **argv)
{
    struct opts o;
    int rc = parse_opts(argc, argv, &o, usage_check);
    if (rc)
        return rc < 0 ? 0 : rc;
    if (o.nargs != 1) {
        usage_check(stderr);
        return 2;
    }
    struct sensor_registry *reg;
    if (policy_cli_registry(o.sensor_dirs, o.nsensor_dirs, &reg))
        return 1;
    struct policy *p = load(o.args[0], reg, o.site);
    if (!p) {
        sensor_registry_free(reg);
        return 1;
    }
    printf("%s: policy %s version %d, %zu route(s): valid\n", o.args[0], policy_name(p),
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

static void usage_explain(FILE *f)
{
    fprintf(f, "usage: fairgate policy explain FILE [--lang en|nl|de] [--sensors DIR]...\n\n"
               "Turns the policy into plain sentences, route by route: what is collected, what\n"
               "leaves and how coarse, for which purpose, how long it is kept, what never "
               "leaves.\n");
}

static int cmd_explain(int argc, char **argv)
{
    struct opts o;
    int rc = parse_opts(argc, argv, &o, usage_explain);
    if (rc)
        return rc < 0 ? 0 : rc;
    if (o.nargs != 1) {
        usage_explain(stderr);
        return 2;
    }
    struct sensor_registry *reg;
    if (policy_cli_registry(o.sensor_dirs, o.nsensor_dirs, &reg))
        return 1;
    struct policy *p = load(o.args[0], reg, o.site);
    rc = 1;
    if (p && policy_explain(p, o.lang, stdout) == FG_OK)
        rc = 0;
    policy_free(p);
    sensor_registry_free(reg);
    return rc;
}

static void usage_diff(FILE *f)
{
    fprintf(f, "usage: fairgate policy diff OLD NEW [--lang en|nl|de] [--sensors DIR]...\n\n"
               "Says in plain language what changes for workers from OLD to NEW.\n");
}

static int cmd_diff(int argc, char **argv)
{
    struct opts o;
    int rc = parse_opts(argc, argv, &o, usage_diff);
    if (rc)
        return rc < 0 ? 0 : rc;
    if (o.nargs != 2) {
        usage_diff(stderr);
        return 2;
    }
    struct sensor_registry *reg;
    if (policy_cli_registry(o.sensor_dirs, o.nsensor_dirs, &reg))
        return 1;
    struct policy *a = load(o.args[0], reg, o.site);
    struct policy *b = a ? load(o.args[1], reg, o.site) : NULL;
    rc = 1;
    if (a && b && policy_diff(a, b, o.lang, stdout) == FG_OK)
        rc = 0;
    policy_free(a);
    policy_free(b);
    sensor_registry_free(reg);
    return rc;
}

static const struct {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
} subcommands[] = {
    {"check", "load a policy and report errors (file:line:col) and warnings", cmd_check},
    {"explain", "the policy in plain sentences (--lang en|nl|de)", cmd_explain},
    {"diff", "what changes for workers between two policies", cmd_diff},
    {"sign", "sign a policy's exact bytes with a role key (detached, FILE.sig)", policy_cli_sign},
    {"verify", "list who signed a policy and whether it may take effect", policy_cli_verify},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: fairgate policy COMMAND ...\n\n");
    for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
        fprintf(f, "  %-8s %s\n", subcommands[i].name, subcommands[i].summary);
    fprintf(f, "\nfairgate policy COMMAND --help for details.\n");
}

static int policy_main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
        if (!strcmp(argv[1], subcommands[i].name))
            return subcommands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "policy: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}

const struct fg_command fg_cmd_policy = {
    .name = "policy",
    .summary = "check, explain, compare, sign and verify policies",
    .main = policy_main,
};
