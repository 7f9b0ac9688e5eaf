/* fairgate keys init --role ROLE OUT */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/inbox.h"
#include "common/fg_command.h"
#include "council/keys.h"
#include "council/trust.h"
#include "gateway/config.h"

static int usage(FILE *o, int rc)
{
    fprintf(o, "usage: fairgate keys init --role employer|works-council|gateway OUT\n"
               "       fairgate keys show PUBFILE\n"
               "       fairgate keys certify --role ROLE SECRET.key OUT.pub\n"
               "       fairgate keys accept-trust CONFIG\n\n"
               "Creates an Ed25519 key pair: OUT.key (secret, mode 0600: keep it off the gateway\n"
               "unless the role is gateway) and OUT.pub (give it to whoever verifies). Prints\n"
               "the public key and a fingerprint to read aloud when exchanging keys.\n"
               "`keys show` prints the role and fingerprint of a public key file, to compare\n"
               "with what its owner reads aloud. The role shown is the one the key certified\n"
               "itself for (a signature in OUT.pub), never the word in the file.\n"
               "`keys certify` writes the certified public key of an existing secret key (keys\n"
               "made before role certificates existed).\n"
               "`keys accept-trust` records the trusted keys and required roles of CONFIG as the\n"
               "accepted ones (audited as trust.accepted): until then a changed key or fewer\n"
               "required roles is a weakening, audited at every start.\n");
    return rc;
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

static int keys_main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
        return usage(argc < 2 ? stderr : stdout, argc < 2 ? 2 : 0);
    if (!strcmp(argv[1], "show") && argc == 3) {
        unsigned char pk[32];
        char why[512], role[KEYS_ROLE_MAX + 1], hex[65], fp[40];
        if (keys_load_public(argv[2], pk, role, sizeof role, why, sizeof why) != FG_OK) {
            fprintf(stderr, "fairgate keys: %s\n", why);
            return 1;
        }
        sodium_bin2hex(hex, sizeof hex, pk, sizeof pk);
        keys_fingerprint(pk, fp, sizeof fp);
        printf("role:        %s\npublic key:  %s\nfingerprint: %s\n",
               strcmp(role, "?") ? role
                                 : "? (no valid role certificate: not usable in a trust slot)",
               hex, fp);
        return 0;
    }
    if (!strcmp(argv[1], "accept-trust") && argc == 3)
        return accept_trust(argv[2]);
    if (!strcmp(argv[1], "certify") && argc == 6 && !strcmp(argv[2], "--role"))
        return certify(argv[3], argv[4], argv[5]);
    if (strcmp(argv[1], "init") != 0) {
        fprintf(stderr, "fairgate keys: unknown command '%s'\n", argv[1]);
        return usage(stderr, 2);
    }
    const char *role = NULL, *out = NULL;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--role") && i + 1 < argc)
            role = argv[++i];
        else if (!strcmp(argv[i], "--help"))
            return usage(stdout, 0);
        else if (argv[i][0] != '-' && !out)
            out = argv[i];
        else
            return usage(stderr, 2);
    }
    if (!role || !out)
        return usage(stderr, 2);
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

const struct fg_command fg_cmd_keys = {
    .name = "keys",
    .summary = "create role key pairs for signing policies and re-identification",
    .main = keys_main,
};
