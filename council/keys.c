#include "council/keys.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/audit.h"
#include "common/fg_util.h"

static const char *const roles[] = {"employer", "works-council", "gateway"};

int keys_role_valid(const char *role)
{
    for (size_t i = 0; i < sizeof roles / sizeof *roles; i++)
        if (!strcmp(role, roles[i]))
            return 1;
    return 0;
}

/* One fingerprint for one key everywhere (keys, policy verify, config check, the
 * audit log and its report): the audit log's format, which logs already carry. */
void keys_fingerprint(const unsigned char pk[32], char *out, size_t out_len)
{
    audit_fingerprint(pk, out, out_len);
}

fg_err keys_generate(const char *role, const char *out_prefix, unsigned char pk[32], char *why,
                     size_t why_len)
{
    if (!keys_role_valid(role)) {
        snprintf(why, why_len, "unknown role '%s': employer, works-council or gateway", role);
        return FG_ERR_CONFIG;
    }
    if (sodium_init() < 0)
        return FG_ERR_CRYPTO;
    char kpath[4096], ppath[4096];
    snprintf(kpath, sizeof kpath, "%s.key", out_prefix);
    snprintf(ppath, sizeof ppath, "%s.pub", out_prefix);
    unsigned char *sk = sodium_malloc(crypto_sign_SECRETKEYBYTES);
    if (!sk)
        return FG_ERR_NOMEM;
    crypto_sign_keypair(pk, sk);
    unsigned char cert[64];
    keys_certify(sk, role, cert);
    /* secret: "fairgate-ed25519-secret ROLE HEX\n", written with O_EXCL at 0600 */
    char *line = sodium_malloc(2 * crypto_sign_SECRETKEYBYTES + 128);
    char hex[2 * crypto_sign_SECRETKEYBYTES + 1];
    sodium_bin2hex(hex, sizeof hex, sk, crypto_sign_SECRETKEYBYTES);
    int n = snprintf(line, 2 * crypto_sign_SECRETKEYBYTES + 128, "fairgate-ed25519-secret %s %s\n",
                     role, hex);
    sodium_memzero(hex, sizeof hex);
    sodium_free(sk);
    int fd = open(kpath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    fg_err e = FG_OK;
    if (fd < 0) {
        snprintf(why, why_len, "%s: %s", kpath,
                 errno == EEXIST ? "exists already; refusing to overwrite a key" : strerror(errno));
        e = FG_ERR_IO;
    } else {
        if (write(fd, line, (size_t)n) != n || fsync(fd) != 0) {
            snprintf(why, why_len, "%s: %s", kpath, strerror(errno));
            e = FG_ERR_IO;
        }
        close(fd);
    }
    sodium_free(line);
    if (e)
        return e;
    return keys_write_public(ppath, role, pk, cert, why, why_len);
}

fg_err keys_write_public(const char *path, const char *role, const unsigned char pk[32],
                         const unsigned char cert[64], char *why, size_t why_len)
{
    char pub[512], pkhex[65], certhex[129];
    sodium_bin2hex(pkhex, sizeof pkhex, pk, 32);
    sodium_bin2hex(certhex, sizeof certhex, cert, 64);
    int n = snprintf(pub, sizeof pub, "fairgate-ed25519 %s %s %s\n", role, pkhex, certhex);
    if (fg_write_file_atomic(path, pub, (size_t)n, 0644) != FG_OK) {
        snprintf(why, why_len, "%s: %s", path, strerror(errno));
        return FG_ERR_IO;
    }
    return FG_OK;
}

/* The role certificate: the key's own signature over its role and itself. */
static size_t cert_message(const char *role, const unsigned char pk[32], char *out, size_t len)
{
    char pkhex[65];
    sodium_bin2hex(pkhex, sizeof pkhex, pk, 32);
    int n = snprintf(out, len, "fairgate-role-certificate-v1\n%s\n%s", role, pkhex);
    return n > 0 && (size_t)n < len ? (size_t)n : 0;
}

void keys_certify(const unsigned char *sk, const char *role, unsigned char cert[64])
{
    unsigned char pk[32];
    char msg[256];
    crypto_sign_ed25519_sk_to_pk(pk, sk);
    size_t ml = cert_message(role, pk, msg, sizeof msg);
    crypto_sign_detached(cert, NULL, (unsigned char *)msg, ml, sk);
}

const char *keys_certified_role(const unsigned char pk[32], const unsigned char cert[64])
{
    char msg[256];
    for (size_t i = 0; i < sizeof roles / sizeof *roles; i++) {
        size_t ml = cert_message(roles[i], pk, msg, sizeof msg);
        if (ml && crypto_sign_verify_detached(cert, (unsigned char *)msg, ml, pk) == 0)
            return roles[i];
    }
    return NULL;
}

/* "MAGIC ROLE HEX" -> role, bytes */
static fg_err parse(const char *text, const char *magic, unsigned char *out, size_t outlen,
                    char *role, size_t role_len)
{
    char m[40], r[KEYS_ROLE_MAX + 1], hex[2 * 64 + 2];
    if (sscanf(text, "%39s %32s %129s", m, r, hex) == 3 && !strcmp(m, magic)) {
        size_t bin = 0;
        if (sodium_hex2bin(out, outlen, hex, strlen(hex), NULL, &bin, NULL) != 0 || bin != outlen)
            return FG_ERR_PARSE;
        snprintf(role, role_len, "%s", r);
        return FG_OK;
    }
    /* bare hex (e.g. a key printed by `keys init`) */
    size_t bin = 0;
    char tmp[2 * 64 + 2];
    if (sscanf(text, "%129s", tmp) == 1 &&
        sodium_hex2bin(out, outlen, tmp, strlen(tmp), NULL, &bin, NULL) == 0 && bin == outlen) {
        snprintf(role, role_len, "?");
        return FG_OK;
    }
    return FG_ERR_PARSE;
}

fg_err keys_load_secret(const char *path, unsigned char **sk, char *role, size_t role_len,
                        char *why, size_t why_len)
{
    *sk = NULL;
    if (sodium_init() < 0)
        return FG_ERR_CRYPTO;
    fg_err e = fg_check_secret_file(path, why, why_len);
    if (e)
        return e;
    char *text = NULL;
    if (fg_read_file(path, 4096, &text, NULL) != FG_OK) {
        snprintf(why, why_len, "%s: cannot read", path);
        return FG_ERR_IO;
    }
    unsigned char *k = sodium_malloc(crypto_sign_SECRETKEYBYTES);
    e = k ? parse(text, "fairgate-ed25519-secret", k, crypto_sign_SECRETKEYBYTES, role, role_len)
          : FG_ERR_NOMEM;
    sodium_memzero(text, strlen(text));
    free(text);
    if (e) {
        snprintf(why, why_len, "%s is not a fairgate secret key", path);
        sodium_free(k);
        return e;
    }
    *sk = k;
    return FG_OK;
}

fg_err keys_load_public(const char *path, unsigned char pk[32], char *role, size_t role_len,
                        char *why, size_t why_len)
{
    char *text = NULL;
    if (fg_read_file(path, 4096, &text, NULL) != FG_OK) {
        snprintf(why, why_len, "%s: cannot read public key", path);
        return FG_ERR_NOT_FOUND;
    }
    char written[KEYS_ROLE_MAX + 1];
    fg_err e = parse(text, "fairgate-ed25519", pk, 32, written, sizeof written);
    /* The role is what the key certified about itself, never the word in the file. */
    char m[40], r[KEYS_ROLE_MAX + 1], hex[80], certhex[160];
    unsigned char cert[64];
    size_t got = 0;
    const char *certified = NULL;
    if (!e && sscanf(text, "%39s %32s %79s %159s", m, r, hex, certhex) == 4 &&
        sodium_hex2bin(cert, sizeof cert, certhex, strlen(certhex), NULL, &got, NULL) == 0 &&
        got == sizeof cert)
        certified = keys_certified_role(pk, cert);
    free(text);
    if (e)
        snprintf(why, why_len, "%s is not a fairgate public key", path);
    else
        snprintf(role, role_len, "%s", certified ? certified : "?");
    return e;
}
