/* fairgate config check FILE | config docs: the configuration table, for
 * operators (validate before a restart) and for docs/configuration.md. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fg_command.h"
#include "common/fg_log.h"
#include "common/fg_opt.h"
#include "common/fg_util.h"
#include "certs/certs.h"
#include "gateway/config.h"
#include "gateway/gateway.h"
#include "policy/policy.h"
#include "sensors/sensor.h"

static const struct fg_opt_cmd check_cmd = {
    "fairgate config check",
    "FILE",
    "Validates a configuration without starting anything: every key, the sensor types\n"
    "it loads, the policy it names and the TLS files; prints \"FILE: valid\" (exit 0) or\n"
    "the first error with file:line:col (exit 1; 2 for usage errors).",
    NULL,
    0,
    1,
    1};
static const struct fg_opt_cmd docs_cmd = {
    "fairgate config docs",
    "",
    "Prints docs/configuration.md, generated from the same table the parser uses\n"
    "(scripts/gen-config-doc.sh writes it).",
    NULL,
    0,
    0,
    0};

static void print_warning(void *ctx, const char *msg)
{
    fprintf(stderr, "%s: warning: %s\n", (const char *)ctx, msg);
}

struct tls_ctx {
    const char *file, *link;
};

static void tls_report(void *ctx, bool error, const char *msg)
{
    const struct tls_ctx *t = ctx;
    fprintf(stderr, "%s: %s%s %s\n", t->file, error ? "" : "warning: ", t->link, msg);
}

static bool check_tls(const char *file, const char *link, const struct config_broker *b)
{
    if (!b->tls.enabled)
        return true;
    struct tls_ctx t = {file, link};
    int days_left;
    if (!certs_preflight_report(b->tls.ca, b->tls.cert, b->tls.key, fg_now_ms(), tls_report, &t,
                                &days_left))
        return false;
    if (b->tls.insecure_no_hostname_check)
        fprintf(stderr, "%s: warning: %s.tls.insecure_no_hostname_check is on\n", file, link);
    return true;
}

/* Everything gateway_run loads before it connects, in the same order. */
static int check(int argc, char **argv)
{
    char **args;
    int prc = fg_opt_parse(&check_cmd, argc, argv, NULL, &args, NULL);
    if (prc != FG_OPT_OK)
        return fg_opt_exit(prc);
    const char *file = args[0];
    struct fg_config cfg;
    struct sensor_registry *reg = NULL;
    struct policy *p = NULL;
    char why[1024];
    int rc = 1;
    if (config_load(file, &cfg, why, sizeof why) != FG_OK) {
        fprintf(stderr, "%s\n", why);
        goto out;
    }
    fg_log_level lvl;
    if (!fg_log_parse_level(cfg.log_level, &lvl)) {
        fprintf(stderr, "%s: log.level must be error, warn, info or debug\n", file);
        goto out;
    }
    if (sensor_registry_new(&reg) != FG_OK) {
        fprintf(stderr, "%s: out of memory\n", file);
        goto out;
    }
    if (cfg.sensors_builtin && sensor_registry_load_builtin(reg, why, sizeof why) != FG_OK) {
        fprintf(stderr, "%s\n", why);
        goto out;
    }
    for (size_t i = 0; i < cfg.nsensor_dirs; i++)
        if (sensor_registry_load_dir(reg, cfg.sensor_dirs[i], why, sizeof why) != FG_OK) {
            fprintf(stderr, "%s\n", why);
            goto out;
        }
    if (!cfg.policy_file) {
        fprintf(stderr, "%s: policy.file is not set: the gateway would forward nothing\n", file);
        goto out;
    }
    char *ptext = NULL;
    size_t plen = 0;
    if (fg_read_file(cfg.policy_file, 4u << 20, &ptext, &plen) != FG_OK) {
        fprintf(stderr, "%s: cannot read the policy %s\n", file, cfg.policy_file);
        goto out;
    }
    cJSON *signers = cJSON_CreateArray();
    fg_err se = gateway_check_policy_signatures(&cfg, ptext, plen, signers, why, sizeof why);
    cJSON_Delete(signers);
    if (se == FG_OK)
        se = policy_load_string(cfg.policy_file, ptext, plen, reg, cfg.site, &p, why, sizeof why);
    else
        fprintf(stderr, "%s: the gateway would refuse the policy: ", cfg.policy_file);
    free(ptext);
    if (se != FG_OK) {
        fprintf(stderr, "%s\n", why);
        goto out;
    }
    if (policy_expired(p, fg_now_ms())) {
        char until[40];
        fg_format_time(policy_valid_until_ms(p), until, sizeof until);
        fprintf(stderr, "%s: policy %s version %d expired on %s: it would forward nothing\n",
                cfg.policy_file, policy_name(p), policy_version(p), until);
        goto out;
    }
    policy_check_warnings(p, print_warning, (void *)cfg.policy_file);
    if (!check_tls(file, "upstream", &cfg.upstream) || !check_tls(file, "local", &cfg.local))
        goto out;
    if (!cfg.upstream.tls.enabled)
        fprintf(stderr,
                "%s: warning: upstream TLS is off: minimised data would leave in clear "
                "text\n",
                file);
    printf("%s: valid (%zu sensor types, policy %s version %d with %zu route(s))\n", file,
           sensor_registry_count(reg), policy_name(p), policy_version(p), policy_route_count(p));
    rc = 0;
out:
    policy_free(p);
    sensor_registry_free(reg);
    config_free(&cfg);
    return rc;
}

static const char intro[] =
    "# Configuration reference\n"
    "\n"
    "<!-- Generated by `fairgate config docs` (scripts/gen-config-doc.sh) from the table in\n"
    "     gateway/config.c. Do not edit: tests/e2e/config_doc.sh fails when it drifts. -->\n"
    "\n"
    "The gateway reads one YAML file, `fairgate run -c FILE` (the package installs\n"
    "`/etc/fairgate/fairgate.yaml`; [`examples/fairgate.yaml`](../examples/fairgate.yaml) lists\n"
    "every key with its default). Keys are dotted paths; write them nested or flat, both mean the\n"
    "same:\n"
    "\n"
    "```yaml\n"
    "upstream:\n"
    "  host: mqtt.example.com\n"
    "  tls: { ca: /etc/fairgate/upstream-ca.crt }\n"
    "outbox.max_bytes: 256MiB\n"
    "```\n"
    "\n"
    "Every key is optional; what is not written takes its default. An unknown key is an error\n"
    "that names its file, line and column and the nearest valid key, so a misspelt key never\n"
    "silently falls back to a default. Check a file before a restart with\n"
    "\n"
    "```sh\n"
    "fairgate config check /etc/fairgate/fairgate.yaml\n"
    "```\n"
    "\n"
    "which loads the configuration, the sensor types and the policy it names and checks the TLS\n"
    "files, exactly as the daemon would, without connecting to anything.\n"
    "\n"
    "Value types: *duration* is a number with a unit (`500ms`, `30s`, `15m`, `24h`, `7d`);\n"
    "*size* is bytes with an optional unit (`4096`, `64KiB`, `64MiB`, `1GiB`); *boolean* is\n"
    "`true` or `false`; *list* is a YAML sequence.\n"
    "\n"
    "## Keys\n"
    "\n";

static int docs(int argc, char **argv)
{
    int prc = fg_opt_parse(&docs_cmd, argc, argv, NULL, NULL, NULL);
    if (prc != FG_OPT_OK)
        return fg_opt_exit(prc);
    fputs(intro, stdout);
    config_print_help(stdout, true);
    return ferror(stdout) ? 1 : 0;
}

static const struct fg_subcmd subs[] = {
    {"check", "validate a configuration file as the daemon would, without starting", check},
    {"docs", "print the configuration reference (docs/configuration.md)", docs},
};

static int config_main(int argc, char **argv)
{
    return fg_subcmd_run("fairgate config", subs, FG_OPT_N(subs), argc, argv);
}

const struct fg_command fg_cmd_config = {
    .name = "config",
    .summary = "check a configuration file; print the configuration reference",
    .main = config_main,
};
