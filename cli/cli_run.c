/* fairgate run -c FILE: the daemon. */
#include <stdio.h>
#include <string.h>

#include "common/fg_command.h"
#include "common/fg_opt.h"
#include "common/fg_log.h"
#include "gateway/config.h"
#include "gateway/gateway.h"

struct run_opts {
    const char *config, *help_config;
    bool check;
};
static const struct fg_opt run_table[] = {
    FG_OPT_STR(struct run_opts, config, "config", 'c', "FILE", "configuration file (YAML)"),
    FG_OPT_FLAG(struct run_opts, check, "check", 0, "validate the configuration and exit"),
    FG_OPT_OPTSTR(struct run_opts, help_config, "help-config", "markdown",
                  "list every configuration key (as Markdown with =markdown)"),
};
static const struct fg_opt_cmd run_cmd = {
    "fairgate run",
    "-c FILE [--check] [--help-config[=markdown]]",
    "Runs the gateway: subscribes to raw sensor topics on the local broker,\n"
    "applies the policy and publishes minimised messages upstream.",
    run_table,
    FG_OPT_N(run_table),
    0,
    0};

static int run_main(int argc, char **argv)
{
    struct run_opts o = {0};
    int prc = fg_opt_parse(&run_cmd, argc, argv, &o, NULL, NULL);
    if (prc != FG_OPT_OK)
        return fg_opt_exit(prc);
    if (o.help_config) {
        config_print_help(stdout, strcmp(o.help_config, "markdown") == 0);
        return 0;
    }
    if (!o.config)
        return fg_opt_error(&run_cmd, "-c FILE is required");
    const char *file = o.config;
    bool check = o.check;
    struct fg_config cfg;
    char why[1024];
    if (config_load(file, &cfg, why, sizeof why) != FG_OK) {
        fprintf(stderr, "fairgate: %s\n", why);
        config_free(&cfg);
        return 2;
    }
    fg_log_level lvl;
    if (!fg_log_parse_level(cfg.log_level, &lvl)) {
        fprintf(stderr, "fairgate: %s: log.level must be error, warn, info or debug\n", file);
        config_free(&cfg);
        return 2;
    }
    fg_log_setup(lvl, cfg.log_syslog);
    if (check) {
        printf("%s: configuration is valid\n", file);
        config_free(&cfg);
        return 0;
    }
    int rc = gateway_run(&cfg);
    config_free(&cfg);
    return rc;
}

const struct fg_command fg_cmd_run = {
    .name = "run",
    .summary = "run the gateway daemon",
    .main = run_main,
};
