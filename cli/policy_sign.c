/* fairgate policy sign | verify: co-determination on the command line. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fg_i18n.h"
#include "common/fg_opt.h"
#include "common/fg_util.h"
#include "gateway/config.h"
#include "council/keys.h"
#include "council/policy_sig.h"
#include "policy/policy.h"
#include "cli/policy_cli.h"
#include "cli/sensor_opts.h"

struct sign_opts {
    const char *key, *role, *sig;
    struct cli_sensor_opts sensors;
};
static const struct fg_opt sign_table[] = {
    FG_OPT_STR(struct sign_opts, key, "key", 0, "SECRET", "the signer's secret key file"),
    FG_OPT_STR(struct sign_opts, role, "role", 0, "ROLE",
               "the role signing: employer or works-council"),
    FG_OPT_STR(struct sign_opts, sig, "sig", 0, "OUT", "signature file (default FILE.sig)"),
    CLI_SENSOR_OPTS(struct sign_opts, sensors),
};
static const struct fg_opt_cmd sign_cmd = {
    "fairgate policy sign",
    "FILE --key SECRET --role ROLE [--sig OUT]",
    "Appends a detached Ed25519 signature over FILE's exact bytes to FILE.sig (or OUT).\n"
    "The policy is checked first: an invalid policy is never signed. Any change to\n"
    "the file afterwards, even one byte, invalidates the signature.",
    sign_table,
    FG_OPT_N(sign_table),
    1,
    1};

int policy_cli_sign(int argc, char **argv)
{
    struct sign_opts o = {0};
    char **args;
    int prc = fg_opt_parse(&sign_cmd, argc, argv, &o, &args, NULL);
    if (prc != FG_OPT_OK)
        return fg_opt_exit(prc);
    if (!o.key || !o.role)
        return fg_opt_error(&sign_cmd, "--key and --role are required");
    const char *file = args[0], *key = o.key, *role = o.role, *sig = o.sig;
    char why[1024], krole[KEYS_ROLE_MAX + 1], sigpath[4200];
    unsigned char *sk = NULL;
    if (keys_load_secret(key, &sk, krole, sizeof krole, why, sizeof why) != FG_OK) {
        fprintf(stderr, "policy sign: %s\n", why);
        return 1;
    }
    int rc = 1;
    char *text = NULL;
    size_t len = 0;
    struct sensor_registry *reg = NULL;
    struct policy *p = NULL;
    if (strcmp(krole, "?") && strcmp(krole, role)) {
        fprintf(stderr, "policy sign: %s belongs to the %s, not to the %s\n", key, krole, role);
        goto out;
    }
    if (fg_read_file(file, 4u << 20, &text, &len) != FG_OK) {
        fprintf(stderr, "policy sign: cannot read %s\n", file);
        goto out;
    }
    if (cli_sensor_registry("policy sign", &o.sensors, &reg) != FG_OK)
        goto out;
    if (policy_load_string(file, text, len, reg, "site", &p, why, sizeof why) != FG_OK) {
        fprintf(stderr, "policy sign: refusing to sign an invalid policy: %s\n", why);
        goto out;
    }
    if (sig)
        snprintf(sigpath, sizeof sigpath, "%s", sig);
    else
        policysig_default_path(file, sigpath, sizeof sigpath);
    if (policysig_sign(text, len, sigpath, sk, role, why, sizeof why) != FG_OK) {
        fprintf(stderr, "policy sign: %s\n", why);
        goto out;
    }
    unsigned char pk[32];
    char fp[40];
    crypto_sign_ed25519_sk_to_pk(pk, sk);
    keys_fingerprint(pk, fp, sizeof fp);
    printf("signed %s version %d as %s (key %s) into %s\n", policy_name(p), policy_version(p), role,
           fp, sigpath);
    if (policy_names_health(p))
        printf("NOTE: this policy lets health data leave the site.\n");
    rc = 0;
out:
    policy_free(p);
    sensor_registry_free(reg);
    free(text);
    sodium_free(sk);
    return rc;
}

struct verify_opts {
    const char *sig, *config, *require, *lang;
    struct fg_opt_list trust;
    struct cli_sensor_opts sensors;
};
static const struct fg_opt verify_table[] = {
    FG_OPT_STR(struct verify_opts, sig, "sig", 0, "SIGFILE", "signature file (default FILE.sig)"),
    FG_OPT_STR(struct verify_opts, config, "config", 'c', "CONFIG",
               "the gateway's configuration: its trusted keys and required roles"),
    FG_OPT_LIST(struct verify_opts, trust, "trust", 0, "ROLE=PUBFILE",
                "trust PUBFILE as ROLE's key (repeatable)"),
    FG_OPT_STR(struct verify_opts, require, "require", 0, "ROLE,ROLE",
               "roles that must sign (default employer,works-council)"),
    FG_OPT_CHOICE(struct verify_opts, lang, "lang", 0, "en|nl|de",
                  "also say the verdict in Dutch or German, under the English VERDICT line"),
    CLI_SENSOR_OPTS(struct verify_opts, sensors),
};
static const struct fg_opt_cmd verify_cmd = {
    "fairgate policy verify",
    "FILE [--sig SIGFILE] [--config CONFIG]\n[--trust ROLE=PUBFILE]... [--require ROLE,ROLE] "
    "[--lang en|nl|de]",
    "Lists who signed FILE, with which key, and whether each signature matches the\n"
    "file's exact bytes. With --config (or --trust/--require) it also says whether\n"
    "the gateway would put the policy into effect. Exit 0 only if it would.",
    verify_table,
    FG_OPT_N(verify_table),
    1,
    1};

static const char *role_words(fg_lang l, const char *role, char *k, size_t len)
{
    snprintf(k, len, "actor.%s", role);
    const char *t = fg_tr(l, k);
    return t == k ? role : t;
}

/* The verdict in the reader's words (the English VERDICT line stays as it is:
 * scripts and the guide quote it). */
static void verdict_words(fg_lang l, bool may, const char *reason)
{
    char k[96], k2[96], role[64] = "", buf[1024];
    if (may)
        fg_trf(buf, sizeof buf, l, "vd.may");
    else if (!strncmp(reason, "the policy is not signed", 24))
        fg_trf(buf, sizeof buf, l, "vd.unsigned");
    else if (sscanf(reason, "the %63s signature does not match", role) == 1)
        fg_trf(buf, sizeof buf, l, "vd.edited", role_words(l, role, k, sizeof k));
    else if (sscanf(reason, "signed as %63s with a key", role) == 1)
        fg_trf(buf, sizeof buf, l, "vd.wrong_key", role_words(l, role, k, sizeof k),
               role_words(l, role, k2, sizeof k2));
    else if (sscanf(reason, "not signed by the %63s", role) == 1)
        fg_trf(buf, sizeof buf, l, "vd.missing", role_words(l, role, k, sizeof k));
    else if (!strcmp(reason, "the policy has expired"))
        fg_trf(buf, sizeof buf, l, "vd.expired");
    else
        fg_trf(buf, sizeof buf, l, "vd.other", reason);
    printf("%s\n", buf);
}

/* The trusted keys and required roles: from the configuration, then --trust
 * and --require. Returns 0, or 2 after printing why. */
static int verify_setup(const struct verify_opts *o, struct policysig_setup *su,
                        struct fg_config *cfg, bool *have_cfg)
{
    char why[1024];
    policysig_setup_init(su, "employer,works-council");
    if (o->config) {
        *have_cfg = true;
        if (config_load(o->config, cfg, why, sizeof why) != FG_OK ||
            policysig_setup_from_config(su, cfg, why, sizeof why) != FG_OK) {
            fprintf(stderr, "policy verify: %s\n", why);
            return 2;
        }
    }
    for (size_t i = 0; i < o->trust.n; i++) {
        const char *spec = o->trust.v[i], *eq = strchr(spec, '=');
        char role[KEYS_ROLE_MAX + 1];
        if (!eq || eq == spec || (size_t)(eq - spec) > KEYS_ROLE_MAX) {
            fprintf(stderr, "policy verify: --trust takes ROLE=PUBFILE\n");
            return 2;
        }
        snprintf(role, sizeof role, "%.*s", (int)(eq - spec), spec);
        if (policysig_setup_trust(su, role, eq + 1, why, sizeof why) != FG_OK) {
            fprintf(stderr, "policy verify: %s\n", why);
            return 2;
        }
    }
    if (o->require)
        policysig_setup_require(su, o->require);
    return 0;
}

int policy_cli_verify(int argc, char **argv)
{
    struct verify_opts o = {0};
    char **args;
    int prc = fg_opt_parse(&verify_cmd, argc, argv, &o, &args, NULL);
    if (prc != FG_OPT_OK)
        return fg_opt_exit(prc);
    const char *file = args[0], *sig = o.sig, *require = o.require;
    fg_lang lang = FG_LANG_EN;
    if (o.lang && !fg_lang_parse(o.lang, &lang))
        return fg_opt_error(&verify_cmd, "--lang is en, nl or de");
    struct fg_config cfg;
    bool have_cfg = false;
    char why[1024];
    struct policysig_setup su;
    if (verify_setup(&o, &su, &cfg, &have_cfg)) {
        if (have_cfg)
            config_free(&cfg);
        return 2;
    }
    char *text = NULL;
    size_t len = 0;
    const char *sigpath = su.sig_path;
    if (sig)
        snprintf(su.sig_path, sizeof su.sig_path, "%s", sig);
    else if (!have_cfg || !cfg.policy_signatures)
        policysig_default_path(file, su.sig_path, sizeof su.sig_path);
    int rc = 1;
    struct sensor_registry *reg = NULL;
    struct policy *p = NULL;
    if (fg_read_file(file, 4u << 20, &text, &len) != FG_OK) {
        fprintf(stderr, "policy verify: cannot read %s\n", file);
        goto out;
    }
    struct policysig_result res;
    if (policysig_verify(text, len, sigpath, su.trust, su.ntrust, su.required, su.nrequired,
                         &res) != FG_OK) {
        fprintf(stderr, "policy verify: cannot read %s\n", sigpath);
        goto out;
    }
    unsigned char h[32];
    char digest[65];
    crypto_generichash(h, sizeof h, (unsigned char *)text, len, NULL, 0);
    sodium_bin2hex(digest, sizeof digest, h, sizeof h);
    printf("policy:     %s\ndigest:     %s\nsignatures: %s\n", file, digest, sigpath);
    if (cli_sensor_registry("policy verify", &o.sensors, &reg) == FG_OK &&
        policy_load_string(file, text, len, reg, "site", &p, why, sizeof why) == FG_OK) {
        char until[40] = "no end date";
        if (policy_valid_until_ms(p) != INT64_MAX)
            fg_format_time(policy_valid_until_ms(p), until, sizeof until);
        printf("content:    %s version %d, valid until %s%s\n", policy_name(p), policy_version(p),
               until, policy_expired(p, fg_now_ms()) ? " (EXPIRED)" : "");
    } else
        printf("content:    INVALID: %s\n", why);
    printf("\n%-14s %-29s %-25s %s\n", "role", "key fingerprint", "signed", "status");
    for (size_t i = 0; i < res.nsigners; i++) {
        const struct policysig_signer *s = &res.signers[i];
        const char *st = !s->valid        ? "DOES NOT MATCH THIS CONTENT"
                         : su.ntrust == 0 ? "valid (key not checked: no trust given)"
                         : s->trusted     ? "valid, trusted key"
                                          : "valid, but NOT the trusted key for this role";
        printf("%-14s %-29s %-25s %s\n", s->role, s->key_fp, s->time, st);
    }
    if (!res.nsigners)
        printf("(no signatures)\n");
    if (su.ntrust == 0) {
        printf("\nno trusted keys given (--config or --trust): cannot say whether it may take "
               "effect\n");
        rc = 1;
    } else if (res.ok && p && !policy_expired(p, fg_now_ms())) {
        printf("\nVERDICT: may take effect (signed by every required role: %s)\n",
               have_cfg && cfg.policy_required_roles
                   ? cfg.policy_required_roles
                   : (require ? require : "employer,works-council"));
        rc = 0;
        if (lang != FG_LANG_EN)
            verdict_words(lang, true, "");
    } else {
        const char *reason = !res.ok ? res.reason
                             : !p    ? "the policy does not load"
                                     : "the policy has expired";
        printf("\nVERDICT: refused: %s\n", reason);
        if (lang != FG_LANG_EN)
            verdict_words(lang, false, reason);
    }
out:
    policy_free(p);
    sensor_registry_free(reg);
    free(text);
    if (have_cfg)
        config_free(&cfg);
    return rc;
}
