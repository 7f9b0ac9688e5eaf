/* fairgate run -c FILE: the daemon. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "common/fg_command.h"
#include "common/fg_log.h"
#include "gateway/config.h"
#include "gateway/gateway.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: fairgate run -c FILE [--check] [--help-config[=markdown]]\n\n"
                 "Runs the gateway: subscribes to raw sensor topics on the local broker,\n"
                 "applies the policy and publishes minimised messages upstream.\n\n"
                 "  -c, --config FILE     configuration file (YAML)\n"
                 "      --check           validate the configuration and exit\n"
                 "      --help-config     list every configuration key\n");
}

static int run_main(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, 0, 'c'},
                                         {"check", no_argument, 0, 'k'},
                                         {"help-config", optional_argument, 0, 'H'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *file = NULL;
    bool check = false;
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (o) {
        case 'c':
            file = optarg;
            break;
        case 'k':
            check = true;
            break;
        case 'H':
            config_print_help(stdout, optarg && strcmp(optarg, "markdown") == 0);
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!file || optind != argc) {
        usage(stderr);
        return 2;
    }
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
