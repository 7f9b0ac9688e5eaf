/* `certs init-ca` and `certs issue`: P-256 keys and certificates with mbedTLS 2.28.
 * 2.28 has no setters for extendedKeyUsage or subjectAltName, so their DER is written
 * here with mbedtls_asn1_write_* and attached with mbedtls_x509write_crt_set_extension. */
#include "certs/certs_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <mbedtls/asn1write.h>
#include <mbedtls/ecp.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/x509_crt.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/fg_log.h"
#include "common/fg_util.h"

#define DAY_MS (86400LL * 1000)
/* Issued certificates start slightly in the past so a peer whose clock lags a few
 * minutes does not reject a certificate made a moment ago. */
#define BACKDATE_MS (5LL * 60 * 1000)

struct crt_params {
    const char *subject;
    const char *issuer;
    mbedtls_pk_context *subject_key;
    mbedtls_pk_context *issuer_key;
    bool is_ca;
    unsigned key_usage;
    bool eku_client, eku_server;
    const char *dns[CERTS_MAX_SAN + 1];
    size_t n_dns;
    unsigned char ip[CERTS_MAX_SAN][16];
    size_t ip_len[CERTS_MAX_SAN];
    size_t n_ip;
    int64_t not_before_ms, not_after_ms;
};

/* The site name goes into O=; spaces are fine there. */
static bool site_ok(const char *s)
{
    return certs_token_ok(s, 48, true);
}

static bool dns_ok(const char *s)
{
    return certs_token_ok(s, 253, false);
}

static void x509_time(int64_t ms, char out[16])
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    strftime(out, 16, "%Y%m%d%H%M%S", &tm);
}

/* SEQUENCE OF KeyPurposeId. Returns the DER length, written at the end of buf. */
static int write_eku(unsigned char *buf, size_t size, bool client, bool server)
{
    unsigned char *p = buf + size;
    size_t len = 0;
    int ret;
    /* Written backwards: serverAuth ends up last. */
    if (server)
        MBEDTLS_ASN1_CHK_ADD(len,
                             mbedtls_asn1_write_oid(&p, buf, MBEDTLS_OID_SERVER_AUTH,
                                                    MBEDTLS_OID_SIZE(MBEDTLS_OID_SERVER_AUTH)));
    if (client)
        MBEDTLS_ASN1_CHK_ADD(len,
                             mbedtls_asn1_write_oid(&p, buf, MBEDTLS_OID_CLIENT_AUTH,
                                                    MBEDTLS_OID_SIZE(MBEDTLS_OID_CLIENT_AUTH)));
    MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_len(&p, buf, len));
    MBEDTLS_ASN1_CHK_ADD(
        len, mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
    return (int)len;
}

/* GeneralNames: dNSName [2] IA5String, iPAddress [7] OCTET STRING, in the given order
 * (ASN.1 is written backwards, so the lists are walked from the end). */
static int write_san(unsigned char *buf, size_t size, const struct crt_params *cp)
{
    unsigned char *p = buf + size;
    size_t len = 0;
    int ret;
    for (size_t i = cp->n_ip; i-- > 0;) {
        size_t one = 0;
        MBEDTLS_ASN1_CHK_ADD(one, mbedtls_asn1_write_raw_buffer(&p, buf, cp->ip[i], cp->ip_len[i]));
        MBEDTLS_ASN1_CHK_ADD(one, mbedtls_asn1_write_len(&p, buf, one));
        MBEDTLS_ASN1_CHK_ADD(one,
                             mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7));
        len += one;
    }
    for (size_t i = cp->n_dns; i-- > 0;) {
        size_t one = 0;
        MBEDTLS_ASN1_CHK_ADD(one, mbedtls_asn1_write_raw_buffer(&p, buf,
                                                                (const unsigned char *)cp->dns[i],
                                                                strlen(cp->dns[i])));
        MBEDTLS_ASN1_CHK_ADD(one, mbedtls_asn1_write_len(&p, buf, one));
        MBEDTLS_ASN1_CHK_ADD(one,
                             mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONTEXT_SPECIFIC | 2));
        len += one;
    }
    MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_len(&p, buf, len));
    MBEDTLS_ASN1_CHK_ADD(
        len, mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
    return (int)len;
}

static fg_err gen_key(mbedtls_pk_context *pk, struct certs_rng *rng)
{
    if (mbedtls_pk_setup(pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)) != 0 ||
        mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(*pk), mbedtls_ctr_drbg_random,
                            &rng->drbg) != 0)
        return FG_ERR_CRYPTO;
    return FG_OK;
}

/* Signs the certificate described by cp into pem (NUL-terminated). */
static fg_err make_crt(const struct crt_params *cp, struct certs_rng *rng, unsigned char *pem,
                       size_t pem_len)
{
    mbedtls_x509write_cert ctx;
    mbedtls_mpi serial;
    mbedtls_x509write_crt_init(&ctx);
    mbedtls_mpi_init(&serial);
    fg_err e = FG_ERR_CRYPTO;
    unsigned char sbuf[16], ext[1024];
    char nb[16], na[16];
    x509_time(cp->not_before_ms, nb);
    x509_time(cp->not_after_ms, na);

    /* 127 random bits, positive and with a fixed top bit so the length never shrinks. */
    if (mbedtls_ctr_drbg_random(&rng->drbg, sbuf, sizeof sbuf) != 0)
        goto out;
    sbuf[0] = (unsigned char)((sbuf[0] & 0x7f) | 0x40);
    if (mbedtls_mpi_read_binary(&serial, sbuf, sizeof sbuf) != 0)
        goto out;

    mbedtls_x509write_crt_set_version(&ctx, MBEDTLS_X509_CRT_VERSION_3);
    mbedtls_x509write_crt_set_md_alg(&ctx, MBEDTLS_MD_SHA256);
    mbedtls_x509write_crt_set_subject_key(&ctx, cp->subject_key);
    mbedtls_x509write_crt_set_issuer_key(&ctx, cp->issuer_key);
    if (mbedtls_x509write_crt_set_serial(&ctx, &serial) != 0 ||
        mbedtls_x509write_crt_set_subject_name(&ctx, cp->subject) != 0 ||
        mbedtls_x509write_crt_set_issuer_name(&ctx, cp->issuer) != 0 ||
        mbedtls_x509write_crt_set_validity(&ctx, nb, na) != 0 ||
        mbedtls_x509write_crt_set_basic_constraints(&ctx, cp->is_ca, cp->is_ca ? 0 : -1) != 0 ||
        mbedtls_x509write_crt_set_subject_key_identifier(&ctx) != 0 ||
        mbedtls_x509write_crt_set_authority_key_identifier(&ctx) != 0 ||
        mbedtls_x509write_crt_set_key_usage(&ctx, cp->key_usage) != 0)
        goto out;
    if (cp->eku_client || cp->eku_server) {
        int n = write_eku(ext, sizeof ext, cp->eku_client, cp->eku_server);
        if (n < 0 ||
            mbedtls_x509write_crt_set_extension(&ctx, MBEDTLS_OID_EXTENDED_KEY_USAGE,
                                                MBEDTLS_OID_SIZE(MBEDTLS_OID_EXTENDED_KEY_USAGE), 0,
                                                ext + sizeof ext - n, (size_t)n) != 0)
            goto out;
    }
    if (cp->n_dns || cp->n_ip) {
        int n = write_san(ext, sizeof ext, cp);
        if (n < 0 ||
            mbedtls_x509write_crt_set_extension(&ctx, MBEDTLS_OID_SUBJECT_ALT_NAME,
                                                MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME), 0,
                                                ext + sizeof ext - n, (size_t)n) != 0)
            goto out;
    }
    if (mbedtls_x509write_crt_pem(&ctx, pem, pem_len, mbedtls_ctr_drbg_random, &rng->drbg) != 0)
        goto out;
    e = FG_OK;
out:
    mbedtls_mpi_free(&serial);
    mbedtls_x509write_crt_free(&ctx);
    return e;
}

/* Key first, then certificate: a crash in between leaves a key without a certificate,
 * never a certificate whose key is lost. */
static fg_err write_pair(mbedtls_pk_context *key, const unsigned char *crt_pem,
                         const char *key_path, const char *crt_path, char *why, size_t why_len)
{
    unsigned char key_pem[1024];
    if (mbedtls_pk_write_key_pem(key, key_pem, sizeof key_pem) != 0) {
        snprintf(why, why_len, "Cannot encode the private key.");
        return FG_ERR_CRYPTO;
    }
    fg_err e = fg_write_file_atomic(key_path, key_pem, strlen((char *)key_pem), 0600);
    mbedtls_platform_zeroize(key_pem, sizeof key_pem);
    if (e != FG_OK) {
        snprintf(why, why_len, "Cannot write %s: %s.", key_path, strerror(errno));
        return e;
    }
    e = fg_write_file_atomic(crt_path, crt_pem, strlen((const char *)crt_pem), 0644);
    if (e != FG_OK)
        snprintf(why, why_len, "Cannot write %s: %s.", crt_path, strerror(errno));
    return e;
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static fg_err validity(int64_t nb_req, int64_t na_req, int days, int64_t *nb, int64_t *na,
                       char *why, size_t why_len)
{
    if (days < 0 || days > 36500) {
        snprintf(why, why_len, "The validity must be between 1 and 36500 days, not %d.", days);
        return FG_ERR_RANGE;
    }
    int64_t now = fg_now_ms();
    *nb = nb_req ? nb_req : now - BACKDATE_MS;
    *na = na_req ? na_req : now + (int64_t)days * DAY_MS;
    if (*na <= *nb) {
        snprintf(why, why_len, "The certificate would expire before it becomes valid.");
        return FG_ERR_RANGE;
    }
    return FG_OK;
}

fg_err certs_init_ca(const struct certs_ca_req *req, char *why, size_t why_len)
{
    char key_path[4096], crt_path[4096], subject[160];
    if (!site_ok(req->site)) {
        snprintf(why, why_len,
                 "The site name must be 1 to 48 letters, digits, spaces, '.', '_' or '-'.");
        return FG_ERR_CONFIG;
    }
    if (snprintf(key_path, sizeof key_path, "%s/ca.key", req->out_dir) >= (int)sizeof key_path ||
        snprintf(crt_path, sizeof crt_path, "%s/ca.crt", req->out_dir) >= (int)sizeof crt_path) {
        snprintf(why, why_len, "The directory name is too long.");
        return FG_ERR_TOO_BIG;
    }
    if (exists(key_path)) {
        snprintf(why, why_len,
                 "%s already exists; a site CA is never overwritten, remove it first if you "
                 "really mean to replace every certificate of the site.",
                 key_path);
        return FG_ERR_CONFIG;
    }
    int64_t nb, na;
    fg_err e = validity(req->not_before_ms, req->not_after_ms,
                        req->days ? req->days : CERTS_CA_DAYS, &nb, &na, why, why_len);
    if (e != FG_OK)
        return e;
    if (fg_mkdirs(req->out_dir, 0700) != FG_OK) {
        snprintf(why, why_len, "Cannot create directory %s: %s.", req->out_dir, strerror(errno));
        return FG_ERR_IO;
    }
    snprintf(subject, sizeof subject, "O=%s,OU=ca,CN=fairgate %s CA", req->site, req->site);

    struct certs_rng rng;
    if (certs_rng_init(&rng) != FG_OK) {
        snprintf(why, why_len, "Cannot seed the random number generator.");
        return FG_ERR_CRYPTO;
    }
    mbedtls_pk_context key;
    mbedtls_pk_init(&key);
    unsigned char pem[4096];
    struct crt_params cp = {
        .subject = subject,
        .issuer = subject,
        .subject_key = &key,
        .issuer_key = &key,
        .is_ca = true,
        .key_usage = MBEDTLS_X509_KU_KEY_CERT_SIGN | MBEDTLS_X509_KU_CRL_SIGN,
        .not_before_ms = nb,
        .not_after_ms = na,
    };
    e = gen_key(&key, &rng);
    if (e == FG_OK)
        e = make_crt(&cp, &rng, pem, sizeof pem);
    if (e != FG_OK)
        snprintf(why, why_len, "Cannot create the CA key and certificate.");
    else
        e = write_pair(&key, pem, key_path, crt_path, why, why_len);
    mbedtls_pk_free(&key); /* zeroizes the private key */
    certs_rng_free(&rng);
    return e;
}

/* The CA subject as an mbedTLS name string, so the issuer of a leaf matches it exactly. */
static fg_err dn_string(const mbedtls_x509_name *dn, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (const mbedtls_x509_name *n = dn; n; n = n->next) {
        const char *short_name;
        if (!n->oid.p)
            continue;
        if (mbedtls_oid_get_attr_short_name(&n->oid, &short_name) != 0)
            return FG_ERR_TLS;
        int w = snprintf(buf + used, len - used, "%s%s=", used ? "," : "", short_name);
        if (w < 0 || (size_t)w >= len - used)
            return FG_ERR_TOO_BIG;
        used += (size_t)w;
        for (size_t i = 0; i < n->val.len; i++) {
            unsigned char c = n->val.p[i];
            if (c < 0x20 || c == '\\' || used + 3 >= len)
                return FG_ERR_TLS;
            if (c == ',')
                buf[used++] = '\\';
            buf[used++] = (char)c;
        }
        buf[used] = '\0';
    }
    return FG_OK;
}

struct ca {
    mbedtls_x509_crt crt;
    mbedtls_pk_context key;
};

static fg_err load_ca(const char *dir, struct ca *ca, char *why, size_t why_len)
{
    char key_path[4096], crt_path[4096];
    snprintf(key_path, sizeof key_path, "%s/ca.key", dir);
    snprintf(crt_path, sizeof crt_path, "%s/ca.crt", dir);
    fg_err e = certs_load_crt(crt_path, "CA certificate", &ca->crt, why, why_len);
    if (e != FG_OK)
        return e;
    if (!ca->crt.ca_istrue) {
        snprintf(why, why_len, "%s is not a CA certificate (basicConstraints CA:false).", crt_path);
        return FG_ERR_TLS;
    }
    if (!exists(key_path)) {
        snprintf(why, why_len, "The CA key %s does not exist.", key_path);
        return FG_ERR_NOT_FOUND;
    }
    e = fg_check_secret_file(key_path, why, why_len);
    if (e != FG_OK)
        return e;
    if (mbedtls_pk_parse_keyfile(&ca->key, key_path, NULL) != 0) {
        snprintf(why, why_len, "The CA key %s is not a readable unencrypted private key.",
                 key_path);
        return FG_ERR_TLS;
    }
    if (mbedtls_pk_check_pair(&ca->crt.pk, &ca->key) != 0) {
        snprintf(why, why_len, "The CA key %s does not match %s.", key_path, crt_path);
        return FG_ERR_TLS;
    }
    return FG_OK;
}

static fg_err issue_params(const struct certs_issue_req *req, struct crt_params *cp, char *why,
                           size_t why_len)
{
    if (req->kind > CERTS_KIND_WORKS_COUNCIL) {
        snprintf(why, why_len,
                 "Certificates are issued for sensor, gateway, broker or "
                 "works-council only.");
        return FG_ERR_CONFIG;
    }
    if (!certs_name_ok(req->name)) {
        snprintf(why, why_len,
                 "The name '%s' must be 1 to 64 letters, digits, '.', '_' or '-' (it becomes an "
                 "MQTT username and topic level).",
                 req->name ? req->name : "");
        return FG_ERR_CONFIG;
    }
    if (strcmp(req->name, "ca") == 0) {
        snprintf(why, why_len, "The name 'ca' is reserved for the site CA's own files.");
        return FG_ERR_CONFIG;
    }
    if (req->sensor_type && (req->kind != CERTS_KIND_SENSOR || !certs_name_ok(req->sensor_type))) {
        snprintf(why, why_len,
                 req->kind != CERTS_KIND_SENSOR
                     ? "Only sensor certificates take a sensor type."
                     : "The sensor type must be 1 to 64 letters, digits, '.', '_' or '-'.");
        return FG_ERR_CONFIG;
    }
    if (req->n_dns > CERTS_MAX_SAN || req->n_ip > CERTS_MAX_SAN) {
        snprintf(why, why_len, "At most %d DNS and %d IP entries are allowed.", CERTS_MAX_SAN,
                 CERTS_MAX_SAN);
        return FG_ERR_RANGE;
    }
    if (req->server_auth && req->kind != CERTS_KIND_GATEWAY) {
        snprintf(why, why_len, "Only gateway certificates take --server-auth.");
        return FG_ERR_CONFIG;
    }
    cp->key_usage = MBEDTLS_X509_KU_DIGITAL_SIGNATURE;
    cp->eku_client = req->kind != CERTS_KIND_BROKER;
    cp->eku_server = req->kind == CERTS_KIND_BROKER || req->server_auth;
    if (req->kind == CERTS_KIND_BROKER)
        cp->dns[cp->n_dns++] = req->name;
    for (size_t i = 0; i < req->n_dns; i++) {
        if (!dns_ok(req->dns[i])) {
            snprintf(why, why_len, "'%s' is not a valid DNS name.", req->dns[i]);
            return FG_ERR_CONFIG;
        }
        bool dup = false;
        for (size_t j = 0; j < cp->n_dns; j++)
            dup = dup || strcasecmp(cp->dns[j], req->dns[i]) == 0;
        if (!dup)
            cp->dns[cp->n_dns++] = req->dns[i];
    }
    for (size_t i = 0; i < req->n_ip; i++) {
        if (inet_pton(AF_INET, req->ip[i], cp->ip[cp->n_ip]) == 1)
            cp->ip_len[cp->n_ip++] = 4;
        else if (inet_pton(AF_INET6, req->ip[i], cp->ip[cp->n_ip]) == 1)
            cp->ip_len[cp->n_ip++] = 16;
        else {
            snprintf(why, why_len, "'%s' is not an IPv4 or IPv6 address.", req->ip[i]);
            return FG_ERR_CONFIG;
        }
    }
    return validity(req->not_before_ms, req->not_after_ms, req->days ? req->days : CERTS_LEAF_DAYS,
                    &cp->not_before_ms, &cp->not_after_ms, why, why_len);
}

fg_err certs_issue(const struct certs_issue_req *req, char *why, size_t why_len)
{
    struct crt_params cp = {0};
    fg_err e = issue_params(req, &cp, why, why_len);
    if (e == FG_OK)
        e = certs_check_name(req->ca_dir, req->kind, req->name, why, why_len);
    if (e != FG_OK)
        return e;
    const char *out_dir = req->out_dir ? req->out_dir : req->ca_dir;
    char key_path[4096], crt_path[4096];
    if (snprintf(key_path, sizeof key_path, "%s/%s.key", out_dir, req->name) >=
            (int)sizeof key_path ||
        snprintf(crt_path, sizeof crt_path, "%s/%s.crt", out_dir, req->name) >=
            (int)sizeof crt_path) {
        snprintf(why, why_len, "The output directory name is too long.");
        return FG_ERR_TOO_BIG;
    }
    if (!req->overwrite && (exists(key_path) || exists(crt_path))) {
        snprintf(why, why_len, "%s already exists; pass --force to replace it.",
                 exists(key_path) ? key_path : crt_path);
        return FG_ERR_CONFIG;
    }

    struct ca ca;
    mbedtls_x509_crt_init(&ca.crt);
    mbedtls_pk_init(&ca.key);
    mbedtls_pk_context key;
    mbedtls_pk_init(&key);
    struct certs_rng rng;
    bool rng_ok = false;
    char subject[300], issuer[512], site[65], type_ou[100] = "";
    unsigned char pem[4096];

    e = load_ca(req->ca_dir, &ca, why, why_len);
    if (e != FG_OK)
        goto out;
    if (dn_string(&ca.crt.subject, issuer, sizeof issuer) != FG_OK) {
        snprintf(why, why_len, "The CA's subject cannot be copied into an issuer name.");
        e = FG_ERR_TLS;
        goto out;
    }
    if (req->sensor_type)
        snprintf(type_ou, sizeof type_ou, ",title=" CERTS_SENSOR_TYPE_PREFIX "%s",
                 req->sensor_type);
    if (certs_subject_attr(&ca.crt, MBEDTLS_OID_AT_ORGANIZATION,
                           MBEDTLS_OID_SIZE(MBEDTLS_OID_AT_ORGANIZATION), site, sizeof site) &&
        site_ok(site))
        snprintf(subject, sizeof subject, "O=%s,OU=%s%s,CN=%s", site, certs_kind_name(req->kind),
                 type_ou, req->name);
    else
        snprintf(subject, sizeof subject, "OU=%s%s,CN=%s", certs_kind_name(req->kind), type_ou,
                 req->name);
    int64_t ca_end = certs_time_ms(&ca.crt.valid_to);
    if (cp.not_after_ms > ca_end) {
        fg_warn(CERTS_COMPONENT, "the CA expires first; the certificate ends with it");
        cp.not_after_ms = ca_end;
    }
    if (fg_mkdirs(out_dir, 0700) != FG_OK) {
        snprintf(why, why_len, "Cannot create directory %s: %s.", out_dir, strerror(errno));
        e = FG_ERR_IO;
        goto out;
    }
    e = certs_rng_init(&rng);
    if (e != FG_OK) {
        snprintf(why, why_len, "Cannot seed the random number generator.");
        goto out;
    }
    rng_ok = true;
    cp.subject = subject;
    cp.issuer = issuer;
    cp.subject_key = &key;
    cp.issuer_key = &ca.key;
    e = gen_key(&key, &rng);
    if (e == FG_OK)
        e = make_crt(&cp, &rng, pem, sizeof pem);
    if (e != FG_OK) {
        snprintf(why, why_len, "Cannot create the key and certificate for %s.", req->name);
        goto out;
    }
    e = write_pair(&key, pem, key_path, crt_path, why, why_len);
    if (e == FG_OK && certs_record_issued(req->ca_dir, req->kind, req->name) != FG_OK) {
        snprintf(why, why_len, "Cannot record %s in %s/issued-names.txt: %s.", req->name,
                 req->ca_dir, strerror(errno));
        e = FG_ERR_IO;
    }
out:
    if (rng_ok)
        certs_rng_free(&rng);
    mbedtls_pk_free(&key);
    mbedtls_pk_free(&ca.key);
    mbedtls_x509_crt_free(&ca.crt);
    return e;
}
