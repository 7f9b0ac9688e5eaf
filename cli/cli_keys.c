/* fairgate keys init --role ROLE OUT */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "common/fg_command.h"
#include "common/fg_opt.h"
#include "council/keys.h"

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
    "owner reads aloud.",
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
    printf("role:        %s\npublic key:  %s\nfingerprint: %s\n", role, hex, fp);
    return 0;
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
