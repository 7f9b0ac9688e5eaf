#include "council/keys.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fg_util.h"

static const char *const roles[] = {"employer", "works-council", "gateway"};

int keys_role_valid(const char *role)
{
    for (size_t i = 0; i < sizeof roles / sizeof *roles; i++)
        if (!strcmp(role, roles[i]))
            return 1;
    return 0;
}

void keys_fingerprint(const unsigned char pk[32], char *out, size_t out_len)
{
    unsigned char h[12];
    crypto_generichash(h, sizeof h, pk, 32, (const unsigned char *)"fairgate-fp", 11);
    char hex[25];
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    snprintf(out, out_len, "%.4s-%.4s-%.4s-%.4s-%.4s-%.4s", hex, hex + 4, hex + 8, hex + 12,
             hex + 16, hex + 20);
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
    char pub[256], pkhex[65];
    sodium_bin2hex(pkhex, sizeof pkhex, pk, 32);
    n = snprintf(pub, sizeof pub, "fairgate-ed25519 %s %s\n", role, pkhex);
    if (fg_write_file_atomic(ppath, pub, (size_t)n, 0644) != FG_OK) {
        snprintf(why, why_len, "%s: %s", ppath, strerror(errno));
        return FG_ERR_IO;
    }
    return FG_OK;
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
    fg_err e = parse(text, "fairgate-ed25519", pk, 32, role, role_len);
    free(text);
    if (e)
        snprintf(why, why_len, "%s is not a fairgate public key", path);
    return e;
}
