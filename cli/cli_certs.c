/* `fairgate certs`: thin command-line face of certs/certs.h. Exit codes: 0 success,
 * 1 the operation failed or the certificate is not valid, 2 usage error. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certs/certs.h"
#include "common/fg_command.h"
#include "common/fg_util.h"

struct sub {
    const char *name;
    const char *usage;
    int (*main)(int argc, char **argv);
};

static const char usage_init_ca[] =
    "usage: fairgate certs init-ca --site NAME [--days N] OUT_DIR\n"
    "  Creates the site CA: OUT_DIR/ca.key (ECDSA P-256, mode 0600) and OUT_DIR/ca.crt\n"
    "  (CA:true, keyCertSign|cRLSign, 3650 days unless --days). Never overwrites a CA.\n";
static const char usage_issue[] =
    "usage: fairgate certs issue --ca DIR --kind sensor|gateway|broker|works-council\n"
    "                            --name NAME [--days N] [--dns NAME]... [--ip ADDR]...\n"
    "                            [--sensor-type TYPE] [--out DIR] [--server-auth] [--force]\n"
    "  Issues NAME.key (P-256, mode 0600) and NAME.crt signed by DIR/ca.key, into --out\n"
    "  (default: the CA directory). Subject CN=NAME, OU=kind; for sensors NAME is the device\n"
    "  id and becomes the MQTT username, and --sensor-type TYPE (title=sensor-type:TYPE) is the\n"
    "  one type it may publish as, raw/TYPE/NAME (without it: a hub, see broker-config --hub).\n"
    "  A name belongs to one kind (DIR/issued-names.txt); names starting with 'fairgate-'\n"
    "  are for gateways only. sensor, gateway, works-council: clientAuth;\n"
    "  broker: serverAuth with DNS:NAME in its SAN; --server-auth adds serverAuth to a\n"
    "  gateway. Valid 397 days unless --days. --force replaces existing files.\n";
static const char usage_inspect[] =
    "usage: fairgate certs inspect FILE...\n"
    "  Shows subject, issuer, kind, validity and days left, SAN, key usage, extended key\n"
    "  usage and the SHA-256 fingerprint.\n";
static const char usage_verify[] =
    "usage: fairgate certs verify --ca CA_CRT [--key KEY] [--host NAME]\n"
    "                             [--usage client|server] CERT\n"
    "  Checks chain, validity, usage, hostname (against the SAN) and, with --key, that the\n"
    "  key matches and is not readable by others. Exit 0 only if everything holds; one\n"
    "  sentence per problem otherwise.\n";

__attribute__((format(printf, 3, 4))) static int usage_error(const char *sub, const char *usage,
                                                             const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "fairgate certs %s: ", sub);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n\n%s", usage);
    return 2;
}

static bool parse_days(const char *s, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end || v < 1 || v > 36500)
        return false;
    *out = (int)v;
    return true;
}

/* "--help" anywhere after the subcommand prints its usage. */
static bool wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return true;
    return false;
}

static int init_ca_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"site", required_argument, 0, 's'}, {"days", required_argument, 0, 'd'}, {0, 0, 0, 0}};
    struct certs_ca_req req = {0};
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            req.site = optarg;
            break;
        case 'd':
            if (!parse_days(optarg, &req.days))
                return usage_error("init-ca", usage_init_ca, "--days wants 1..36500, not '%s'",
                                   optarg);
            break;
        default:
            return usage_error("init-ca", usage_init_ca, "%s", "invalid option");
        }
    }
    if (!req.site)
        return usage_error("init-ca", usage_init_ca, "%s", "--site is required");
    if (optind != argc - 1)
        return usage_error("init-ca", usage_init_ca, "%s", "exactly one OUT_DIR is required");
    req.out_dir = argv[optind];
    char why[512];
    fg_err e = certs_init_ca(&req, why, sizeof why);
    if (e != FG_OK) {
        fprintf(stderr, "fairgate certs init-ca: %s\n", why);
        return 1;
    }
    printf("site CA created: %s/ca.crt and %s/ca.key (mode 0600; keep it offline if you can)\n",
           req.out_dir, req.out_dir);
    return 0;
}

static int issue_main(int argc, char **argv)
{
    static const struct option opts[] = {{"ca", required_argument, 0, 'c'},
                                         {"kind", required_argument, 0, 'k'},
                                         {"name", required_argument, 0, 'n'},
                                         {"days", required_argument, 0, 'd'},
                                         {"dns", required_argument, 0, 'D'},
                                         {"ip", required_argument, 0, 'I'},
                                         {"out", required_argument, 0, 'o'},
                                         {"server-auth", no_argument, 0, 'S'},
                                         {"force", no_argument, 0, 'f'},
                                         {"sensor-type", required_argument, 0, 'T'},
                                         {0, 0, 0, 0}};
    struct certs_issue_req req = {0};
    bool have_kind = false;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            req.ca_dir = optarg;
            break;
        case 'k':
            if (!certs_kind_parse(optarg, &req.kind))
                return usage_error("issue", usage_issue,
                                   "--kind is sensor, gateway, broker or works-council, not '%s'",
                                   optarg);
            have_kind = true;
            break;
        case 'n':
            req.name = optarg;
            break;
        case 'd':
            if (!parse_days(optarg, &req.days))
                return usage_error("issue", usage_issue, "--days wants 1..36500, not '%s'", optarg);
            break;
        case 'D':
            if (req.n_dns == CERTS_MAX_SAN)
                return usage_error("issue", usage_issue, "too many --dns (at most %d)",
                                   CERTS_MAX_SAN);
            req.dns[req.n_dns++] = optarg;
            break;
        case 'I':
            if (req.n_ip == CERTS_MAX_SAN)
                return usage_error("issue", usage_issue, "too many --ip (at most %d)",
                                   CERTS_MAX_SAN);
            req.ip[req.n_ip++] = optarg;
            break;
        case 'o':
            req.out_dir = optarg;
            break;
        case 'S':
            req.server_auth = true;
            break;
        case 'f':
            req.overwrite = true;
            break;
        case 'T':
            req.sensor_type = optarg;
            break;
        default:
            return usage_error("issue", usage_issue, "%s", "invalid option");
        }
    }
    if (!req.ca_dir || !have_kind || !req.name)
        return usage_error("issue", usage_issue, "%s", "--ca, --kind and --name are required");
    if (optind != argc)
        return usage_error("issue", usage_issue, "unexpected argument '%s'", argv[optind]);
    char why[512];
    fg_err e = certs_issue(&req, why, sizeof why);
    if (e != FG_OK) {
        fprintf(stderr, "fairgate certs issue: %s\n", why);
        return 1;
    }
    const char *dir = req.out_dir ? req.out_dir : req.ca_dir;
    printf("%s certificate issued: %s/%s.crt and %s/%s.key (mode 0600)\n",
           certs_kind_name(req.kind), dir, req.name, dir, req.name);
    return 0;
}

static int inspect_main(int argc, char **argv)
{
    optind = 0;
    static const struct option opts[] = {{0, 0, 0, 0}};
    if (getopt_long(argc, argv, "", opts, NULL) != -1)
        return usage_error("inspect", usage_inspect, "%s", "invalid option");
    if (optind >= argc)
        return usage_error("inspect", usage_inspect, "%s", "FILE is required");
    int rc = 0;
    int64_t now = fg_now_ms();
    for (int i = optind; i < argc; i++) {
        struct certs_info info;
        char why[512];
        if (certs_inspect(argv[i], &info, why, sizeof why) != FG_OK) {
            fprintf(stderr, "fairgate certs inspect: %s\n", why);
            rc = 1;
            continue;
        }
        if (argc - optind > 1)
            printf("%s%s:\n", i > optind ? "\n" : "", argv[i]);
        certs_info_print(stdout, &info, now);
    }
    return rc;
}

static int verify_main(int argc, char **argv)
{
    static const struct option opts[] = {{"ca", required_argument, 0, 'c'},
                                         {"key", required_argument, 0, 'k'},
                                         {"host", required_argument, 0, 'H'},
                                         {"usage", required_argument, 0, 'u'},
                                         {0, 0, 0, 0}};
    struct certs_verify_req req = {.now_ms = fg_now_ms()};
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            req.ca_file = optarg;
            break;
        case 'k':
            req.key_file = optarg;
            break;
        case 'H':
            req.host = optarg;
            break;
        case 'u':
            if (strcmp(optarg, "client") == 0)
                req.usage = CERTS_USAGE_CLIENT;
            else if (strcmp(optarg, "server") == 0)
                req.usage = CERTS_USAGE_SERVER;
            else
                return usage_error("verify", usage_verify, "--usage is client or server, not '%s'",
                                   optarg);
            break;
        default:
            return usage_error("verify", usage_verify, "%s", "invalid option");
        }
    }
    if (!req.ca_file)
        return usage_error("verify", usage_verify, "%s", "--ca CA_CRT is required");
    if (optind != argc - 1)
        return usage_error("verify", usage_verify, "%s", "exactly one CERT is required");
    req.cert_file = argv[optind];
    struct certs_report rep;
    if (certs_verify(&req, &rep) != FG_OK) {
        for (size_t i = 0; i < rep.n; i++)
            fprintf(stderr, "%s\n", rep.problem[i].text);
        return 1;
    }
    printf("%s: OK (issued by %s, %d days left)\n", req.cert_file, req.ca_file, rep.days_left);
    return 0;
}

static const struct sub subs[] = {
    {"init-ca", usage_init_ca, init_ca_main},
    {"issue", usage_issue, issue_main},
    {"inspect", usage_inspect, inspect_main},
    {"verify", usage_verify, verify_main},
};
static const size_t n_subs = sizeof subs / sizeof subs[0];

static void certs_usage(FILE *out)
{
    fprintf(out, "usage: fairgate certs COMMAND [ARGS]   (fairgate certs COMMAND --help)\n\n"
                 "commands:\n"
                 "  init-ca   create the site CA\n"
                 "  issue     issue a key and certificate for a sensor, gateway, broker or "
                 "works council\n"
                 "  inspect   show what a certificate says\n"
                 "  verify    check a certificate against the site CA\n");
}

static int certs_main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        certs_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const struct sub *s = NULL;
    for (size_t i = 0; i < n_subs; i++)
        if (strcmp(subs[i].name, argv[1]) == 0)
            s = &subs[i];
    if (!s) {
        const char *names[sizeof subs / sizeof subs[0]];
        for (size_t i = 0; i < n_subs; i++)
            names[i] = subs[i].name;
        const char *hint = fg_suggest(argv[1], names, n_subs);
        fprintf(stderr, "fairgate certs: unknown command '%s'", argv[1]);
        if (hint)
            fprintf(stderr, "; did you mean '%s'?", hint);
        fprintf(stderr, "\n\n");
        certs_usage(stderr);
        return 2;
    }
    if (wants_help(argc - 1, argv + 1)) {
        fputs(s->usage, stdout);
        return 0;
    }
    return s->main(argc - 1, argv + 1);
}

const struct fg_command fg_cmd_certs = {
    .name = "certs",
    .summary = "site CA: issue, inspect and verify certificates",
    .main = certs_main,
};
