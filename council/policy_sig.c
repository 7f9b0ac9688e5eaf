#include "council/policy_sig.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fg_util.h"
#include "gateway/config.h"
#include "council/keys.h"

void policysig_default_path(const char *policy_path, char *out, size_t out_len)
{
    snprintf(out, out_len, "%s.sig", policy_path);
}

static size_t message(const char *text, size_t len, const char *role, char *out, size_t out_len)
{
    unsigned char h[32];
    char hex[65];
    crypto_generichash(h, sizeof h, (const unsigned char *)text, len, NULL, 0);
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    int n = snprintf(out, out_len, "fairgate-policy-signature-v1\n%s\n%s", role, hex);
    return n > 0 && (size_t)n < out_len ? (size_t)n : 0;
}

fg_err policysig_sign(const char *text, size_t len, const char *sig_path, const unsigned char *sk,
                      const char *role, char *why, size_t why_len)
{
    if (sodium_init() < 0)
        return FG_ERR_CRYPTO;
    char msg[256];
    size_t mlen = message(text, len, role, msg, sizeof msg);
    unsigned char sig[crypto_sign_BYTES], pk[32];
    crypto_sign_detached(sig, NULL, (unsigned char *)msg, mlen, sk);
    crypto_sign_ed25519_sk_to_pk(pk, sk);
    char sighex[2 * crypto_sign_BYTES + 1], pkhex[65], now[40];
    sodium_bin2hex(sighex, sizeof sighex, sig, sizeof sig);
    sodium_bin2hex(pkhex, sizeof pkhex, pk, sizeof pk);
    fg_format_time(fg_now_ms(), now, sizeof now);
    char line[512];
    int n = snprintf(line, sizeof line,
                     "{\"role\":\"%s\",\"key\":\"%s\",\"sig\":\"%s\",\"time\":\"%s\"}\n", role,
                     pkhex, sighex, now);
    int fd = open(sig_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0 || write(fd, line, (size_t)n) != n || fsync(fd) != 0) {
        snprintf(why, why_len, "%s: %s", sig_path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return FG_ERR_IO;
    }
    close(fd);
    return FG_OK;
}

fg_err policysig_verify(const char *text, size_t len, const char *sig_path,
                        const struct policysig_trust *trust, size_t ntrust,
                        const char *const *required, size_t nrequired, struct policysig_result *res)
{
    memset(res, 0, sizeof *res);
    if (sodium_init() < 0)
        return FG_ERR_CRYPTO;
    char *sigs = NULL;
    fg_err e = fg_read_file(sig_path, 1 << 16, &sigs, NULL);
    if (e == FG_ERR_NOT_FOUND) {
        snprintf(res->reason, sizeof res->reason, "the policy is not signed (no %s)", sig_path);
        return FG_OK;
    }
    if (e)
        return e;
    char *save = NULL;
    for (char *line = strtok_r(sigs, "\n", &save); line && res->nsigners < POLICYSIG_MAX;
         line = strtok_r(NULL, "\n", &save)) {
        cJSON *o = cJSON_Parse(line);
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(o, "role"),
                    *k = cJSON_GetObjectItemCaseSensitive(o, "key"),
                    *s = cJSON_GetObjectItemCaseSensitive(o, "sig"),
                    *t = cJSON_GetObjectItemCaseSensitive(o, "time");
        unsigned char pk[32], sig[crypto_sign_BYTES];
        size_t pl = 0, sl = 0;
        if (!cJSON_IsString(r) || !cJSON_IsString(k) || !cJSON_IsString(s) ||
            strlen(r->valuestring) >= 32 ||
            sodium_hex2bin(pk, 32, k->valuestring, strlen(k->valuestring), NULL, &pl, NULL) ||
            pl != 32 ||
            sodium_hex2bin(sig, sizeof sig, s->valuestring, strlen(s->valuestring), NULL, &sl,
                           NULL) ||
            sl != sizeof sig) {
            cJSON_Delete(o);
            continue; /* a malformed line counts as no signature */
        }
        struct policysig_signer *sg = &res->signers[res->nsigners++];
        snprintf(sg->role, sizeof sg->role, "%s", r->valuestring);
        snprintf(sg->time, sizeof sg->time, "%s", cJSON_IsString(t) ? t->valuestring : "");
        keys_fingerprint(pk, sg->key_fp, sizeof sg->key_fp);
        char msg[256];
        size_t mlen = message(text, len, sg->role, msg, sizeof msg);
        sg->valid = crypto_sign_verify_detached(sig, (unsigned char *)msg, mlen, pk) == 0;
        for (size_t i = 0; i < ntrust; i++)
            if (!strcmp(trust[i].role, sg->role) && sodium_memcmp(trust[i].pk, pk, 32) == 0)
                sg->trusted = true;
        cJSON_Delete(o);
    }
    free(sigs);
    res->ok = true;
    for (size_t i = 0; i < nrequired && res->ok; i++) {
        bool have = false, edited = false, unknown = false;
        for (size_t k = 0; k < res->nsigners; k++) {
            const struct policysig_signer *sg = &res->signers[k];
            if (strcmp(sg->role, required[i]))
                continue;
            if (sg->valid && sg->trusted)
                have = true;
            else if (!sg->trusted)
                unknown = true;
            else
                edited = true;
        }
        if (have)
            continue;
        res->ok = false;
        if (edited)
            snprintf(res->reason, sizeof res->reason,
                     "the %s signature does not match this content: the policy was changed "
                     "after signing",
                     required[i]);
        else if (unknown)
            snprintf(res->reason, sizeof res->reason,
                     "signed as %s with a key that is not the configured %s key", required[i],
                     required[i]);
        else
            snprintf(res->reason, sizeof res->reason, "not signed by the %s", required[i]);
    }
    return FG_OK;
}

void policysig_setup_init(struct policysig_setup *s, const char *required_csv)
{
    memset(s, 0, sizeof *s);
    policysig_setup_require(s, required_csv);
}

void policysig_setup_require(struct policysig_setup *s, const char *required_csv)
{
    s->nrequired = 0;
    snprintf(s->roles, sizeof s->roles, "%s", required_csv ? required_csv : "");
    char *save = NULL;
    for (char *r = strtok_r(s->roles, ", ", &save); r; r = strtok_r(NULL, ", ", &save)) {
        /* A role named twice counts once, so repeats cannot push another role out. */
        bool seen = false;
        for (size_t i = 0; i < s->nrequired; i++)
            seen = seen || strcmp(s->required[i], r) == 0;
        if (seen)
            continue;
        if (s->nrequired == 8) {
            /* More roles than fit: fail closed (no signature can satisfy this one)
             * rather than dropping a required role. */
            s->required[7] = "(too many required roles)";
            break;
        }
        s->required[s->nrequired++] = r;
    }
}

fg_err policysig_setup_trust(struct policysig_setup *s, const char *role, const char *pub_file,
                             char *why, size_t why_len)
{
    if (s->ntrust == 4 || strlen(role) >= sizeof s->trust_roles[0]) {
        snprintf(why, why_len, "too many trusted keys, or role '%s' too long", role);
        return FG_ERR_CONFIG;
    }
    char file_role[KEYS_ROLE_MAX + 1];
    fg_err e = keys_load_public(pub_file, s->trust[s->ntrust].pk, file_role, sizeof file_role, why,
                                why_len);
    if (e)
        return e;
    /* A trust slot holds a key of its own role (certified by the key itself, not a
     * word in the file), and one key never fills two slots. */
    if (strcmp(file_role, role) != 0) {
        if (!strcmp(file_role, "?"))
            snprintf(why, why_len,
                     "%s (trust.%s) carries no valid role certificate: it is not certified as "
                     "a %s key (make keys with `fairgate keys init --role %s`)",
                     pub_file, !strcmp(role, "works-council") ? "works_council" : role, role, role);
        else
            snprintf(why, why_len,
                     "%s (trust.%s) is certified as a key of the %s, not of the %s: refused",
                     pub_file, !strcmp(role, "works-council") ? "works_council" : role, file_role,
                     role);
        return FG_ERR_DENIED;
    }
    for (size_t i = 0; i < s->ntrust; i++)
        if (sodium_memcmp(s->trust[i].pk, s->trust[s->ntrust].pk, 32) == 0) {
            snprintf(why, why_len,
                     "%s is the same key as the one trusted for the %s: one key cannot sign "
                     "for two roles",
                     pub_file, s->trust[i].role);
            return FG_ERR_DENIED;
        }
    snprintf(s->trust_roles[s->ntrust], sizeof s->trust_roles[0], "%s", role);
    s->trust[s->ntrust].role = s->trust_roles[s->ntrust];
    s->ntrust++;
    return FG_OK;
}

fg_err policysig_setup_from_config(struct policysig_setup *s, const struct fg_config *cfg,
                                   char *why, size_t why_len)
{
    policysig_setup_init(s, cfg->policy_required_roles);
    fg_err e = FG_OK;
    if (cfg->trust_employer)
        e = policysig_setup_trust(s, "employer", cfg->trust_employer, why, why_len);
    if (!e && cfg->trust_works_council)
        e = policysig_setup_trust(s, "works-council", cfg->trust_works_council, why, why_len);
    if (cfg->policy_signatures)
        snprintf(s->sig_path, sizeof s->sig_path, "%s", cfg->policy_signatures);
    else if (cfg->policy_file)
        policysig_default_path(cfg->policy_file, s->sig_path, sizeof s->sig_path);
    return e ? FG_ERR_CONFIG : FG_OK;
}

fg_err policysig_setup_complete(const struct policysig_setup *s, char *why, size_t why_len)
{
    for (size_t i = 0; i < s->nrequired; i++) {
        bool known = false;
        for (size_t k = 0; k < s->ntrust && !known; k++)
            known = !strcmp(s->trust[k].role, s->required[i]);
        if (!known) {
            snprintf(why, why_len, "no trusted key is configured for the %s (trust.%s)",
                     s->required[i],
                     !strcmp(s->required[i], "works-council") ? "works_council" : s->required[i]);
            return FG_ERR_CONFIG;
        }
    }
    return FG_OK;
}
