/* fairgate policy sign | verify: co-determination on the command line. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fg_i18n.h"
#include "common/fg_util.h"
#include "gateway/config.h"
#include "council/keys.h"
#include "council/policy_sig.h"
#include "policy/policy.h"
#include "cli/policy_cli.h"

static void sign_usage(FILE *f)
{
    fprintf(f,
            "usage: fairgate policy sign FILE --key SECRET --role ROLE [--sig OUT]\n\n"
            "Appends a detached Ed25519 signature over FILE's exact bytes to FILE.sig (or OUT).\n"
            "The policy is checked first: an invalid policy is never signed. Any change to\n"
            "the file afterwards, even one byte, invalidates the signature.\n");
}

int policy_cli_sign(int argc, char **argv)
{
    const char *file = NULL, *key = NULL, *role = NULL, *sig = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--key") && i + 1 < argc)
            key = argv[++i];
        else if (!strcmp(argv[i], "--role") && i + 1 < argc)
            role = argv[++i];
        else if (!strcmp(argv[i], "--sig") && i + 1 < argc)
            sig = argv[++i];
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            sign_usage(stdout);
            return 0;
        } else if (argv[i][0] != '-' && !file)
            file = argv[i];
        else {
            sign_usage(stderr);
            return 2;
        }
    }
    if (!file || !key || !role) {
        sign_usage(stderr);
        return 2;
    }
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
    if (policy_cli_registry(NULL, 0, &reg) != FG_OK)
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

static void verify_usage(FILE *f)
{
    fprintf(f, "usage: fairgate policy verify FILE [--sig SIGFILE] [--config CONFIG]\n"
               "                             [--trust ROLE=PUBFILE]... [--require ROLE,ROLE]\n"
               "                             [--lang en|nl|de]\n\n"
               "Lists who signed FILE, with which key, and whether each signature matches the\n"
               "file's exact bytes. With --config (or --trust/--require) it also says whether\n"
               "the gateway would put the policy into effect. Exit 0 only if it would.\n"
               "--lang nl|de adds the verdict in that language under the English one.\n");
}

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

/* The signer table and the verdict; returns the exit status (0: may take effect). */
static int print_signers_and_verdict(const struct policysig_setup *sup,
                                     const struct policysig_result *resp, const struct policy *p,
                                     const struct fg_config *cfgp, const char *require,
                                     fg_lang lang)
{
    const struct policysig_setup su = *sup;
    const struct policysig_result res = *resp;
    bool have_cfg = cfgp != NULL;
    int rc = 1;
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
               have_cfg && cfgp->policy_required_roles
                   ? cfgp->policy_required_roles
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
    return rc;
}

int policy_cli_verify(int argc, char **argv)
{
    const char *file = NULL, *sig = NULL, *config = NULL, *require = NULL;
    const char *trust_spec[4];
    fg_lang lang = FG_LANG_EN;
    size_t ntrust_spec = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--sig") && i + 1 < argc)
            sig = argv[++i];
        else if (!strcmp(argv[i], "--config") && i + 1 < argc)
            config = argv[++i];
        else if (!strcmp(argv[i], "--require") && i + 1 < argc)
            require = argv[++i];
        else if (!strcmp(argv[i], "--trust") && i + 1 < argc && ntrust_spec < 4)
            trust_spec[ntrust_spec++] = argv[++i];
        else if (!strcmp(argv[i], "--lang") && i + 1 < argc) {
            if (!fg_lang_parse(argv[++i], &lang)) {
                fprintf(stderr, "policy verify: --lang is en, nl or de\n");
                return 2;
            }
        } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            verify_usage(stdout);
            return 0;
        } else if (argv[i][0] != '-' && !file)
            file = argv[i];
        else {
            verify_usage(stderr);
            return 2;
        }
    }
    if (!file) {
        verify_usage(stderr);
        return 2;
    }
    struct fg_config cfg;
    bool have_cfg = false;
    char why[1024];
    struct policysig_setup su;
    policysig_setup_init(&su, "employer,works-council");
    if (config) {
        have_cfg = true;
        if (config_load(config, &cfg, why, sizeof why) != FG_OK ||
            policysig_setup_from_config(&su, &cfg, why, sizeof why) != FG_OK) {
            fprintf(stderr, "policy verify: %s\n", why);
            config_free(&cfg);
            return 2;
        }
    }
    for (size_t i = 0; i < ntrust_spec; i++) {
        const char *eq = strchr(trust_spec[i], '=');
        char role[KEYS_ROLE_MAX + 1];
        if (!eq || eq == trust_spec[i] || (size_t)(eq - trust_spec[i]) > KEYS_ROLE_MAX) {
            fprintf(stderr, "policy verify: --trust takes ROLE=PUBFILE\n");
            return 2;
        }
        snprintf(role, sizeof role, "%.*s", (int)(eq - trust_spec[i]), trust_spec[i]);
        if (policysig_setup_trust(&su, role, eq + 1, why, sizeof why) != FG_OK) {
            fprintf(stderr, "policy verify: %s\n", why);
            return 2;
        }
    }
    if (require)
        policysig_setup_require(&su, require);
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
    if (policy_cli_registry(NULL, 0, &reg) == FG_OK &&
        policy_load_string(file, text, len, reg, "site", &p, why, sizeof why) == FG_OK) {
        char until[40] = "no end date";
        if (policy_valid_until_ms(p) != INT64_MAX)
            fg_format_time(policy_valid_until_ms(p), until, sizeof until);
        printf("content:    %s version %d, valid until %s%s\n", policy_name(p), policy_version(p),
               until, policy_expired(p, fg_now_ms()) ? " (EXPIRED)" : "");
    } else
        printf("content:    INVALID: %s\n", why);
    rc = print_signers_and_verdict(&su, &res, p, have_cfg ? &cfg : NULL, require, lang);
out:
    policy_free(p);
    sensor_registry_free(reg);
    free(text);
    if (have_cfg)
        config_free(&cfg);
    return rc;
}
