/* What fairgate accepts from a certificate, in one place for `certs verify`, the
 * daemon's pre-flight and the peer check before each TLS connection: RSA keys of
 * at least 2048 bits or EC keys on P-256, P-384 or P-521 (or the Brainpool curves
 * of those sizes), signatures with SHA-256 or better, and host names from the
 * subjectAltName only, never from the CN. */
#include "certs/certs_internal.h"

#include <arpa/inet.h>
#include <mbedtls/ecp.h>
#include <mbedtls/pk.h>
#include <string.h>
#include <strings.h>

const mbedtls_x509_crt_profile certs_profile = {
    .allowed_mds = MBEDTLS_X509_ID_FLAG(MBEDTLS_MD_SHA256) |
                   MBEDTLS_X509_ID_FLAG(MBEDTLS_MD_SHA384) |
                   MBEDTLS_X509_ID_FLAG(MBEDTLS_MD_SHA512),
    .allowed_pks = MBEDTLS_X509_ID_FLAG(MBEDTLS_PK_RSA) | MBEDTLS_X509_ID_FLAG(MBEDTLS_PK_ECDSA) |
                   MBEDTLS_X509_ID_FLAG(MBEDTLS_PK_ECKEY) |
                   MBEDTLS_X509_ID_FLAG(MBEDTLS_PK_RSASSA_PSS),
    .allowed_curves = MBEDTLS_X509_ID_FLAG(MBEDTLS_ECP_DP_SECP256R1) |
                      MBEDTLS_X509_ID_FLAG(MBEDTLS_ECP_DP_SECP384R1) |
                      MBEDTLS_X509_ID_FLAG(MBEDTLS_ECP_DP_SECP521R1) |
                      MBEDTLS_X509_ID_FLAG(MBEDTLS_ECP_DP_BP256R1) |
                      MBEDTLS_X509_ID_FLAG(MBEDTLS_ECP_DP_BP384R1) |
                      MBEDTLS_X509_ID_FLAG(MBEDTLS_ECP_DP_BP512R1),
    .rsa_min_bitlen = 2048,
};

void certs_key_text(const mbedtls_pk_context *pk, char *buf, size_t len)
{
    mbedtls_pk_type_t t = mbedtls_pk_get_type(pk);
    if (t == MBEDTLS_PK_ECKEY || t == MBEDTLS_PK_ECDSA) {
        const mbedtls_ecp_curve_info *c =
            mbedtls_ecp_curve_info_from_grp_id(mbedtls_pk_ec(*pk)->grp.id);
        snprintf(buf, len, "an EC key on %s", c ? c->name : "an unknown curve");
    } else {
        snprintf(buf, len, "a %s key of %zu bits", mbedtls_pk_get_name(pk),
                 mbedtls_pk_get_bitlen(pk));
    }
}

static const char *md_name(mbedtls_md_type_t md)
{
    switch (md) {
    case MBEDTLS_MD_MD5:
        return "MD5";
    case MBEDTLS_MD_SHA1:
        return "SHA-1";
    case MBEDTLS_MD_SHA224:
        return "SHA-224";
    default:
        return "a weak digest";
    }
}

bool certs_strength_text(uint32_t flags, const mbedtls_x509_crt *crt, char *buf, size_t len)
{
    char key[80];
    certs_key_text(&crt->pk, key, sizeof key);
    if (flags & MBEDTLS_X509_BADCERT_BAD_MD)
        snprintf(buf, len,
                 "is signed with %s; only SHA-256 or stronger signatures are accepted "
                 "(reissue it)",
                 md_name(crt->sig_md));
    else if (flags & MBEDTLS_X509_BADCERT_BAD_KEY)
        snprintf(buf, len,
                 "or its issuer has a key that is too weak (this certificate has %s); at least "
                 "RSA 2048 bits or EC P-256 is required (reissue it)",
                 key);
    else if (flags & MBEDTLS_X509_BADCERT_BAD_PK)
        snprintf(buf, len, "uses a key type that is not accepted (%s)", key);
    else
        return false;
    return true;
}

bool certs_host_matches(const struct certs_san *san, const char *host)
{
    unsigned char addr[16];
    size_t alen = 0;
    if (inet_pton(AF_INET, host, addr) == 1)
        alen = 4;
    else if (inet_pton(AF_INET6, host, addr) == 1)
        alen = 16;
    if (alen) {
        for (size_t i = 0; i < san->n_ip; i++)
            if (san->ip_len[i] == alen && memcmp(san->ip[i], addr, alen) == 0)
                return true;
        return false;
    }
    const char *dot = strchr(host, '.');
    for (size_t i = 0; i < san->n_dns; i++) {
        const char *d = san->dns[i];
        if (strcasecmp(d, host) == 0)
            return true;
        /* "*.example.org" covers exactly one leftmost label. */
        if (d[0] == '*' && d[1] == '.' && dot && dot != host && strcasecmp(d + 1, dot) == 0)
            return true;
    }
    return false;
}
