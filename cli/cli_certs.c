/* `fairgate certs`: thin command-line face of certs/certs.h. Exit codes: 0 success,
 * 1 the operation failed or the certificate is not valid, 2 usage error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certs/certs.h"
#include "common/fg_command.h"
#include "common/fg_opt.h"
#include "common/fg_util.h"

struct certs_opts {
    const char *site, *ca, *kind, *name, *out, *key, *host, *usage, *sensor_type;
    int days;
    struct fg_opt_list dns, ip;
    bool server_auth, force;
};

static const struct fg_opt init_ca_table[] = {
    FG_OPT_STR(struct certs_opts, site, "site", 0, "NAME", "the site's name, in the CA's subject"),
    FG_OPT_INT(struct certs_opts, days, "days", 0, "N", "validity in days (default 3650)", 1,
               36500),
};
static const struct fg_opt_cmd init_ca_cmd = {
    "fairgate certs init-ca",
    "--site NAME [--days N] OUT_DIR",
    "Creates the site CA: OUT_DIR/ca.key (ECDSA P-256, mode 0600) and OUT_DIR/ca.crt\n"
    "(CA:true, keyCertSign|cRLSign, 3650 days unless --days). Never overwrites a CA.",
    init_ca_table,
    FG_OPT_N(init_ca_table),
    1,
    1};

static const struct fg_opt issue_table[] = {
    FG_OPT_STR(struct certs_opts, ca, "ca", 0, "DIR", "the site CA directory"),
    FG_OPT_CHOICE(struct certs_opts, kind, "kind", 0, "sensor|gateway|broker|works-council",
                  "what the certificate is for"),
    FG_OPT_STR(struct certs_opts, name, "name", 0, "NAME", "the subject CN (a sensor's device id)"),
    FG_OPT_INT(struct certs_opts, days, "days", 0, "N", "validity in days (default 397)", 1, 36500),
    FG_OPT_LIST(struct certs_opts, dns, "dns", 0, "NAME", "a DNS name in the SAN (repeatable)"),
    FG_OPT_LIST(struct certs_opts, ip, "ip", 0, "ADDR", "an IP address in the SAN (repeatable)"),
    FG_OPT_STR(struct certs_opts, out, "out", 0, "DIR", "where to write (default: the CA's)"),
    FG_OPT_FLAG(struct certs_opts, server_auth, "server-auth", 0, "add serverAuth to a gateway"),
    FG_OPT_FLAG(struct certs_opts, force, "force", 0, "replace existing files"),
    FG_OPT_STR(struct certs_opts, sensor_type, "sensor-type", 0, "TYPE",
               "the one sensor type a sensor certificate may publish as (raw/TYPE/NAME)"),
};
static const struct fg_opt_cmd issue_cmd = {
    "fairgate certs issue",
    "--ca DIR --kind sensor|gateway|broker|works-council\n"
    "--name NAME [--days N] [--dns NAME]... [--ip ADDR]...\n"
    "[--sensor-type TYPE] [--out DIR] [--server-auth] [--force]",
    "Issues NAME.key (P-256, mode 0600) and NAME.crt signed by DIR/ca.key, into --out\n"
    "(default: the CA directory). Subject CN=NAME, OU=kind; for sensors NAME is the device\n"
    "id and becomes the MQTT username, and --sensor-type TYPE (title=sensor-type:TYPE) is the\n"
    "one type it may publish as, raw/TYPE/NAME (without it: a hub, see broker-config --hub).\n"
    "A name belongs to one kind (DIR/issued-names.txt); names starting with 'fairgate-'\n"
    "are for gateways only. sensor, gateway, works-council: clientAuth;\n"
    "broker: serverAuth with DNS:NAME in its SAN; --server-auth adds serverAuth to a\n"
    "gateway. Valid 397 days unless --days. --force replaces existing files.",
    issue_table,
    FG_OPT_N(issue_table),
    0,
    0};

static const struct fg_opt_cmd inspect_cmd = {
    "fairgate certs inspect",
    "FILE...",
    "Shows subject, issuer, kind, validity and days left, SAN, key usage, extended key\n"
    "usage and the SHA-256 fingerprint.",
    NULL,
    0,
    1,
    -1};

static const struct fg_opt verify_table[] = {
    FG_OPT_STR(struct certs_opts, ca, "ca", 0, "CA_CRT", "the site CA certificate"),
    FG_OPT_STR(struct certs_opts, key, "key", 0, "KEY",
               "check that the key matches and is not readable by others"),
    FG_OPT_STR(struct certs_opts, host, "host", 0, "NAME", "check the SAN names this host"),
    FG_OPT_CHOICE(struct certs_opts, usage, "usage", 0, "client|server",
                  "check the extended key usage"),
};
static const struct fg_opt_cmd verify_cmd = {
    "fairgate certs verify",
    "--ca CA_CRT [--key KEY] [--host NAME]\n[--usage client|server] CERT",
    "Checks chain, validity, usage, hostname (against the SAN) and, with --key, that the\n"
    "key matches and is not readable by others. Exit 0 only if everything holds; one\n"
    "sentence per problem otherwise.",
    verify_table,
    FG_OPT_N(verify_table),
    1,
    1};

static int init_ca_main(int argc, char **argv)
{
    struct certs_opts o = {0};
    char **args;
    int prc = fg_opt_parse(&init_ca_cmd, argc, argv, &o, &args, NULL);
    if (prc != FG_OPT_OK)
        return fg_opt_exit(prc);
    if (!o.site)
        return fg_opt_error(&init_ca_cmd, "--site is required");
    struct certs_ca_req req = {.site = o.site, .days = o.days, .out_dir = args[0]};
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
    struct certs_opts o = {0};
    int prc = fg_opt_parse(&issue_cmd, argc, argv, &o, NULL, NULL);
    if (prc != FG_OPT_OK)
        return fg_opt_exit(prc);
    if (!o.ca || !o.kind || !o.name)
        return fg_opt_error(&issue_cmd, "--ca, --kind and --name are required");
    if (o.dns.n > CERTS_MAX_SAN || o.ip.n > CERTS_MAX_SAN)
        return fg_opt_error(&issue_cmd, "at most %d --dns and %d --ip", CERTS_MAX_SAN,
                            CERTS_MAX_SAN);
    struct certs_issue_req req = {.ca_dir = o.ca,
                                  .name = o.name,
                                  .days = o.days,
                                  .out_dir = o.out,
                                  .server_auth = o.server_auth,
                                  .overwrite = o.force,
                                  .sensor_type = o.sensor_type};
    if (!certs_kind_parse(o.kind, &req.kind))
        return fg_opt_error(&issue_cmd, "--kind is sensor, gateway, broker or works-council");
    for (size_t i = 0; i < o.dns.n; i++)
        req.dns[req.n_dns++] = o.dns.v[i];
    for (size_t i = 0; i < o.ip.n; i++)
        req.ip[req.n_ip++] = o.ip.v[i];
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
    char **args;
    int nargs;
    int prc = fg_opt_parse(&inspect_cmd, argc, argv, NULL, &args, &nargs);
    if (prc != FG_OPT_OK)
        return fg_opt_exit(prc);
    int rc = 0;
    int64_t now = fg_now_ms();
    for (int i = 0; i < nargs; i++) {
        struct certs_info info;
        char why[512];
        if (certs_inspect(args[i], &info, why, sizeof why) != FG_OK) {
            fprintf(stderr, "fairgate certs inspect: %s\n", why);
            rc = 1;
            continue;
        }
        if (nargs > 1)
            printf("%s%s:\n", i > 0 ? "\n" : "", args[i]);
        certs_info_print(stdout, &info, now);
    }
    return rc;
}

static int verify_main(int argc, char **argv)
{
    struct certs_opts o = {0};
    char **args;
    int prc = fg_opt_parse(&verify_cmd, argc, argv, &o, &args, NULL);
    if (prc != FG_OPT_OK)
        return fg_opt_exit(prc);
    if (!o.ca)
        return fg_opt_error(&verify_cmd, "--ca CA_CRT is required");
    struct certs_verify_req req = {.now_ms = fg_now_ms(),
                                   .ca_file = o.ca,
                                   .key_file = o.key,
                                   .host = o.host,
                                   .cert_file = args[0]};
    if (o.usage)
        req.usage = strcmp(o.usage, "client") == 0 ? CERTS_USAGE_CLIENT : CERTS_USAGE_SERVER;
    struct certs_report rep;
    if (certs_verify(&req, &rep) != FG_OK) {
        for (size_t i = 0; i < rep.n; i++)
            fprintf(stderr, "%s\n", rep.problem[i].text);
        return 1;
    }
    printf("%s: OK (issued by %s, %d days left)\n", req.cert_file, req.ca_file, rep.days_left);
    return 0;
}

static const struct fg_subcmd subs[] = {
    {"init-ca", "create the site CA", init_ca_main},
    {"issue", "issue a key and certificate for a sensor, gateway, broker or works council",
     issue_main},
    {"inspect", "show what a certificate says", inspect_main},
    {"verify", "check a certificate against the site CA", verify_main},
};

static int certs_main(int argc, char **argv)
{
    return fg_subcmd_run("fairgate certs", subs, FG_OPT_N(subs), argc, argv);
}

const struct fg_command fg_cmd_certs = {
    .name = "certs",
    .summary = "site CA: issue, inspect and verify certificates",
    .main = certs_main,
};
