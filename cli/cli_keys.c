/* fairgate keys init|show|certify|accept-trust: role keys for co-determination. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/inbox.h"
#include "common/fg_command.h"
#include "common/fg_opt.h"
#include "council/keys.h"
#include "council/trust.h"
#include "gateway/config.h"

struct keys_opts {
    const char *role;
};
static const struct fg_opt init_table[] = {
    FG_OPT_CHOICE(struct keys_opts, role, "role", 0, "employer|works-council|gateway",
                  "whose key pair"),
};
static const struct fg_opt_cmd init_cmd = {
    "fairgate keys init",
    "--role employer|works-council|gateway OUT",
    "Creates an Ed25519 key pair: OUT.key (secret, mode 0600: keep it off the gateway\n"
    "unless the role is gateway) and OUT.pub (give it to whoever verifies). Prints\n"
    "the public key and a fingerprint to read aloud when exchanging keys.",
    init_table,
    FG_OPT_N(init_table),
    1,
    1};
static const struct fg_opt_cmd show_cmd = {
    "fairgate keys show",
    "PUBFILE",
    "Prints the role and fingerprint of a public key file, to compare with what its\n"
    "owner reads aloud. The role shown is the one the key certified itself for (a\n"
    "signature in the file), never the word in the file.",
    NULL,
    0,
    1,
    1};
static const struct fg_opt_cmd certify_cmd = {
    "fairgate keys certify",
    "--role ROLE SECRET.key OUT.pub",
    "Writes the certified public key of an existing secret key (keys made before\n"
    "role certificates existed).",
    init_table,
    FG_OPT_N(init_table),
    2,
    2};
static const struct fg_opt_cmd accept_cmd = {
    "fairgate keys accept-trust",
    "CONFIG",
    "Records the trusted keys and required roles of CONFIG as the accepted ones\n"
    "(audited as trust.accepted): until then a changed key or fewer required roles\n"
    "is a weakening, audited at every start.",
    NULL,
    0,
    1,
    1};

static int show_main(int argc, char **argv)
{
    char **args;
    int prc = fg_opt_parse(&show_cmd, argc, argv, NULL, &args, NULL);
    if (prc != FG_OPT_OK)
        return fg_opt_exit(prc);
    unsigned char pk[32];
    char why[512], role[KEYS_ROLE_MAX + 1], hex[65], fp[40];
    if (keys_load_public(args[0], pk, role, sizeof role, why, sizeof why) != FG_OK) {
        fprintf(stderr, "fairgate keys: %s\n", why);
        return 1;
    }
    sodium_bin2hex(hex, sizeof hex, pk, sizeof pk);
    keys_fingerprint(pk, fp, sizeof fp);
    printf("role:        %s\npublic key:  %s\nfingerprint: %s\n",
           strcmp(role, "?") ? role : "? (no valid role certificate: not usable in a trust slot)",
           hex, fp);
    return 0;
}

/* A role certificate for a key made before certificates existed: needs the secret. */
static int certify(const char *role, const char *secret, const char *out)
{
    unsigned char *sk = NULL, pk[32], cert[64];
    char why[512], written[KEYS_ROLE_MAX + 1], fp[40];
    if (!keys_role_valid(role)) {
        fprintf(stderr, "fairgate keys: unknown role '%s': employer, works-council or gateway\n",
                role);
        return 2;
    }
    if (keys_load_secret(secret, &sk, written, sizeof written, why, sizeof why) != FG_OK) {
        fprintf(stderr, "fairgate keys: %s\n", why);
        return 1;
    }
    crypto_sign_ed25519_sk_to_pk(pk, sk);
    keys_certify(sk, role, cert);
    sodium_free(sk);
    if (keys_write_public(out, role, pk, cert, why, sizeof why) != FG_OK) {
        fprintf(stderr, "fairgate keys: %s\n", why);
        return 1;
    }
    keys_fingerprint(pk, fp, sizeof fp);
    printf("role:        %s (certified)\npublic key:  %s\nfingerprint: %s\n", role, out, fp);
    return 0;
}

/* The operator accepts the configured trust as the new baseline; the act is audited. */
static int accept_trust(const char *config)
{
    struct fg_config cfg;
    char why[1024];
    if (config_load(config, &cfg, why, sizeof why) != FG_OK) {
        fprintf(stderr, "fairgate keys: %s\n", why);
        return 2;
    }
    char log[4096], adir[4096], rdir[4096];
    config_state_paths(&cfg, log, adir, rdir, sizeof log);
    cJSON *acc = NULL;
    int rc = 1;
    cJSON *cur = council_trust_current(&cfg, why, sizeof why);
    /* Audited first: no record, no acceptance. */
    if (!cur)
        fprintf(stderr, "fairgate keys: %s\n", why);
    else if (audit_submit(log, adir, "operator", "trust.accepted", cur, 5000, why, sizeof why) !=
             FG_OK)
        fprintf(stderr, "fairgate keys: not accepted: it could not be audited: %s\n", why);
    else if (council_trust_accept(&cfg, &acc, why, sizeof why) != FG_OK)
        fprintf(stderr, "fairgate keys: %s\n", why);
    else {
        char *s = cJSON_PrintUnformatted(acc);
        printf("accepted (and recorded in the audit log): %s\n", s ? s : "");
        free(s);
        rc = 0;
    }
    cJSON_Delete(cur);
    cJSON_Delete(acc);
    config_free(&cfg);
    return rc;
}

static int certify_main(int argc, char **argv)
{
    struct keys_opts o = {0};
    char **args;
    int prc = fg_opt_parse(&certify_cmd, argc, argv, &o, &args, NULL);
    if (prc != FG_OPT_OK)
        return fg_opt_exit(prc);
    if (!o.role)
        return fg_opt_error(&certify_cmd, "--role is required");
    return certify(o.role, args[0], args[1]);
}

static int accept_main(int argc, char **argv)
{
    char **args;
    int prc = fg_opt_parse(&accept_cmd, argc, argv, NULL, &args, NULL);
    if (prc != FG_OPT_OK)
        return fg_opt_exit(prc);
    return accept_trust(args[0]);
}

static int init_main(int argc, char **argv)
{
    struct keys_opts o = {0};
    char **args;
    int prc = fg_opt_parse(&init_cmd, argc, argv, &o, &args, NULL);
    if (prc != FG_OPT_OK)
        return fg_opt_exit(prc);
    if (!o.role)
        return fg_opt_error(&init_cmd, "--role is required");
    const char *role = o.role, *out = args[0];
    unsigned char pk[32];
    char why[512], hex[65], fp[40];
    if (keys_generate(role, out, pk, why, sizeof why) != FG_OK) {
        fprintf(stderr, "fairgate keys: %s\n", why);
        return 1;
    }
    sodium_bin2hex(hex, sizeof hex, pk, sizeof pk);
    keys_fingerprint(pk, fp, sizeof fp);
    printf("role:        %s\nsecret key:  %s.key (mode 0600)\npublic key:  %s.pub\n"
           "             %s\nfingerprint: %s\n",
           role, out, out, hex, fp);
    return 0;
}

static const struct fg_subcmd subs[] = {
    {"init", "create a role key pair", init_main},
    {"show", "the role and fingerprint of a public key file", show_main},
    {"certify", "a role certificate for a key made before certificates existed", certify_main},
    {"accept-trust", "record the configured trust as accepted (audited)", accept_main},
};

static int keys_main(int argc, char **argv)
{
    return fg_subcmd_run("fairgate keys", subs, FG_OPT_N(subs), argc, argv);
}

const struct fg_command fg_cmd_keys = {
    .name = "keys",
    .summary = "create role key pairs for signing policies and re-identification",
    .main = keys_main,
};
