/* Shared certificate helpers and `certs inspect`. */
#include "certs/certs_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <mbedtls/asn1.h>
#include <mbedtls/oid.h>
#include <mbedtls/sha256.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common/fg_log.h"
#include "common/fg_util.h"

static const char *const kind_names[] = {
    [CERTS_KIND_SENSOR] = "sensor", [CERTS_KIND_GATEWAY] = "gateway",
    [CERTS_KIND_BROKER] = "broker", [CERTS_KIND_WORKS_COUNCIL] = "works-council",
    [CERTS_KIND_CA] = "ca",         [CERTS_KIND_UNKNOWN] = "unknown",
};

const char *certs_kind_name(enum certs_kind kind)
{
    if ((unsigned)kind > CERTS_KIND_UNKNOWN)
        return "unknown";
    return kind_names[kind];
}

bool certs_kind_parse(const char *s, enum certs_kind *out)
{
    for (int k = CERTS_KIND_SENSOR; k <= CERTS_KIND_WORKS_COUNCIL; k++) {
        if (strcmp(s, kind_names[k]) == 0) {
            *out = (enum certs_kind)k;
            return true;
        }
    }
    return false;
}

bool certs_token_ok(const char *s, size_t max, bool space)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > max || s[0] == '.' || s[0] == '-' || s[0] == ' ')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-' || (space && c == ' ')))
            return false;
    }
    return true;
}

bool certs_name_ok(const char *name)
{
    return certs_token_ok(name, 64, false);
}

fg_err certs_rng_init(struct certs_rng *rng)
{
    static const char pers[] = "fairgate-certs";
    mbedtls_entropy_init(&rng->entropy);
    mbedtls_ctr_drbg_init(&rng->drbg);
    if (mbedtls_ctr_drbg_seed(&rng->drbg, mbedtls_entropy_func, &rng->entropy,
                              (const unsigned char *)pers, sizeof pers - 1) != 0) {
        certs_rng_free(rng);
        return FG_ERR_CRYPTO;
    }
    return FG_OK;
}

void certs_rng_free(struct certs_rng *rng)
{
    mbedtls_ctr_drbg_free(&rng->drbg);
    mbedtls_entropy_free(&rng->entropy);
}

int64_t certs_time_ms(const mbedtls_x509_time *t)
{
    struct tm tm = {
        .tm_year = t->year - 1900,
        .tm_mon = t->mon - 1,
        .tm_mday = t->day,
        .tm_hour = t->hour,
        .tm_min = t->min,
        .tm_sec = t->sec,
    };
    return (int64_t)timegm(&tm) * 1000;
}

int certs_days_between(int64_t now_ms, int64_t then_ms)
{
    int64_t d = then_ms - now_ms, day = 86400000;
    if (d >= 0)
        return (int)(d / day);
    /* Past: whole days elapsed, but never 0 so that "expired" stays negative. */
    int64_t n = -d / day;
    return (int)-(n ? n : 1);
}

fg_err certs_load_crt(const char *path, const char *what, mbedtls_x509_crt *crt, char *why,
                      size_t why_len)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        int e = errno;
        if (e == ENOENT)
            snprintf(why, why_len, "The %s %s does not exist.", what, path);
        else
            snprintf(why, why_len, "The %s %s cannot be read: %s.", what, path, strerror(e));
        return e == ENOENT ? FG_ERR_NOT_FOUND : FG_ERR_IO;
    }
    int rc = mbedtls_x509_crt_parse_file(crt, path);
    if (rc != 0) {
        if (rc == MBEDTLS_ERR_PK_FILE_IO_ERROR || rc == MBEDTLS_ERR_X509_FILE_IO_ERROR)
            snprintf(why, why_len, "The %s %s cannot be read.", what, path);
        else
            snprintf(why, why_len, "The %s %s does not hold a valid X.509 certificate.", what,
                     path);
        return FG_ERR_TLS;
    }
    return FG_OK;
}

bool certs_subject_attr(const mbedtls_x509_crt *crt, const char *oid, size_t oid_len, char *buf,
                        size_t len)
{
    for (const mbedtls_x509_name *n = &crt->subject; n; n = n->next) {
        if (n->oid.p && n->oid.len == oid_len && memcmp(n->oid.p, oid, oid_len) == 0) {
            size_t l = n->val.len < len - 1 ? n->val.len : len - 1;
            memcpy(buf, n->val.p, l);
            buf[l] = '\0';
            return true;
        }
    }
    if (len)
        buf[0] = '\0';
    return false;
}

enum certs_kind certs_kind_of(const mbedtls_x509_crt *crt)
{
    enum certs_kind found = CERTS_KIND_UNKNOWN;
    for (const mbedtls_x509_name *n = &crt->subject; n; n = n->next) {
        if (!n->oid.p || n->oid.len != MBEDTLS_OID_SIZE(MBEDTLS_OID_AT_ORG_UNIT) ||
            memcmp(n->oid.p, MBEDTLS_OID_AT_ORG_UNIT, n->oid.len) != 0)
            continue;
        for (int k = CERTS_KIND_SENSOR; k < CERTS_KIND_UNKNOWN; k++) {
            if (n->val.len != strlen(kind_names[k]) ||
                memcmp(n->val.p, kind_names[k], n->val.len) != 0)
                continue;
            if (found != CERTS_KIND_UNKNOWN && found != (enum certs_kind)k)
                return CERTS_KIND_UNKNOWN; /* two kinds: trust neither */
            found = (enum certs_kind)k;
        }
    }
    return found;
}

bool certs_sensor_type_of(const mbedtls_x509_crt *crt, char *buf, size_t len)
{
    size_t pl = strlen(CERTS_SENSOR_TYPE_PREFIX);
    buf[0] = '\0';
    for (const mbedtls_x509_name *n = &crt->subject; n; n = n->next) {
        if (!n->oid.p || n->oid.len != MBEDTLS_OID_SIZE(MBEDTLS_OID_AT_TITLE) ||
            memcmp(n->oid.p, MBEDTLS_OID_AT_TITLE, n->oid.len) != 0 || n->val.len <= pl ||
            memcmp(n->val.p, CERTS_SENSOR_TYPE_PREFIX, pl) != 0)
            continue;
        if (buf[0] || n->val.len - pl >= len)
            return buf[0] = '\0', false; /* two types, or too long: none */
        memcpy(buf, n->val.p + pl, n->val.len - pl);
        buf[n->val.len - pl] = '\0';
    }
    if (buf[0] && !certs_name_ok(buf))
        buf[0] = '\0';
    return buf[0] != '\0';
}

void certs_append(char *buf, size_t len, const char *piece)
{
    size_t used = strnlen(buf, len);
    if (used + 1 >= len)
        return;
    snprintf(buf + used, len - used, "%s%s", used ? ", " : "", piece);
}

/* Finds an extension's value (the OCTET STRING content) by walking the raw DER. */
static bool find_extension(const mbedtls_x509_crt *crt, const char *oid, size_t oid_len,
                           unsigned char **val, size_t *val_len)
{
    unsigned char *p = crt->raw.p, *end = p + crt->raw.len;
    size_t len;
    if (mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE))
        return false;
    if (mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE))
        return false;
    unsigned char *tbs_end = p + len;
    unsigned char *ext_end = NULL;
    while (p < tbs_end) {
        int tag = *p++;
        if (mbedtls_asn1_get_len(&p, tbs_end, &len))
            return false;
        if (tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 3)) {
            ext_end = p + len;
            break;
        }
        p += len;
    }
    if (!ext_end ||
        mbedtls_asn1_get_tag(&p, ext_end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE))
        return false;
    while (p < ext_end) {
        if (mbedtls_asn1_get_tag(&p, ext_end, &len,
                                 MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE))
            return false;
        unsigned char *one_end = p + len;
        size_t olen;
        if (mbedtls_asn1_get_tag(&p, one_end, &olen, MBEDTLS_ASN1_OID))
            return false;
        bool match = olen == oid_len && memcmp(p, oid, oid_len) == 0;
        p += olen;
        int critical;
        if (p < one_end && *p == MBEDTLS_ASN1_BOOLEAN &&
            mbedtls_asn1_get_bool(&p, one_end, &critical))
            return false;
        size_t vlen;
        if (mbedtls_asn1_get_tag(&p, one_end, &vlen, MBEDTLS_ASN1_OCTET_STRING))
            return false;
        if (match) {
            *val = p;
            *val_len = vlen;
            return true;
        }
        p = one_end;
    }
    return false;
}

void certs_san_parse(const mbedtls_x509_crt *crt, struct certs_san *san)
{
    memset(san, 0, sizeof *san);
    unsigned char *p;
    size_t len;
    if (!find_extension(crt, MBEDTLS_OID_SUBJECT_ALT_NAME,
                        MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME), &p, &len))
        return;
    unsigned char *end = p + len;
    if (mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE))
        return;
    san->present = true;
    end = p + len;
    size_t cap = sizeof san->dns / sizeof san->dns[0];
    while (p < end) {
        int tag = *p++;
        if (mbedtls_asn1_get_len(&p, end, &len))
            return;
        /* A dNSName with a NUL would compare as its prefix: not a name at all. */
        if (tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 2) && san->n_dns < cap &&
            len < sizeof san->dns[0] && !memchr(p, '\0', len)) {
            memcpy(san->dns[san->n_dns], p, len);
            san->dns[san->n_dns++][len] = '\0';
        } else if (tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7) && san->n_ip < cap &&
                   (len == 4 || len == 16)) {
            memcpy(san->ip[san->n_ip], p, len);
            san->ip_len[san->n_ip++] = len;
        }
        p += len;
    }
}

void certs_san_text(const struct certs_san *san, char *buf, size_t len)
{
    buf[0] = '\0';
    char piece[300], name[280];
    for (size_t i = 0; i < san->n_dns; i++) {
        /* The names are the certificate holder's text: printed, never trusted. */
        fg_log_escape(name, sizeof name, san->dns[i], (size_t)-1);
        snprintf(piece, sizeof piece, "DNS:%s", name);
        certs_append(buf, len, piece);
    }
    for (size_t i = 0; i < san->n_ip; i++) {
        char addr[INET6_ADDRSTRLEN];
        inet_ntop(san->ip_len[i] == 4 ? AF_INET : AF_INET6, san->ip[i], addr, sizeof addr);
        snprintf(piece, sizeof piece, "IP:%s", addr);
        certs_append(buf, len, piece);
    }
}

static void key_usage_text(const mbedtls_x509_crt *crt, char *buf, size_t len)
{
    static const struct {
        unsigned bit;
        const char *name;
    } ku[] = {
        {MBEDTLS_X509_KU_DIGITAL_SIGNATURE, "digitalSignature"},
        {MBEDTLS_X509_KU_NON_REPUDIATION, "nonRepudiation"},
        {MBEDTLS_X509_KU_KEY_ENCIPHERMENT, "keyEncipherment"},
        {MBEDTLS_X509_KU_DATA_ENCIPHERMENT, "dataEncipherment"},
        {MBEDTLS_X509_KU_KEY_AGREEMENT, "keyAgreement"},
        {MBEDTLS_X509_KU_KEY_CERT_SIGN, "keyCertSign"},
        {MBEDTLS_X509_KU_CRL_SIGN, "cRLSign"},
        {MBEDTLS_X509_KU_ENCIPHER_ONLY, "encipherOnly"},
        {MBEDTLS_X509_KU_DECIPHER_ONLY, "decipherOnly"},
    };
    buf[0] = '\0';
    if (!(crt->ext_types & MBEDTLS_X509_EXT_KEY_USAGE))
        return;
    for (size_t i = 0; i < sizeof ku / sizeof ku[0]; i++)
        if (crt->key_usage & ku[i].bit)
            certs_append(buf, len, ku[i].name);
}

void certs_ext_key_usage_text(const mbedtls_x509_crt *crt, char *buf, size_t len)
{
    static const struct {
        const char *oid;
        size_t oid_len;
        const char *name;
    } eku[] = {
        {MBEDTLS_OID_SERVER_AUTH, MBEDTLS_OID_SIZE(MBEDTLS_OID_SERVER_AUTH), "serverAuth"},
        {MBEDTLS_OID_CLIENT_AUTH, MBEDTLS_OID_SIZE(MBEDTLS_OID_CLIENT_AUTH), "clientAuth"},
        {MBEDTLS_OID_CODE_SIGNING, MBEDTLS_OID_SIZE(MBEDTLS_OID_CODE_SIGNING), "codeSigning"},
        {MBEDTLS_OID_EMAIL_PROTECTION, MBEDTLS_OID_SIZE(MBEDTLS_OID_EMAIL_PROTECTION),
         "emailProtection"},
        {MBEDTLS_OID_TIME_STAMPING, MBEDTLS_OID_SIZE(MBEDTLS_OID_TIME_STAMPING), "timeStamping"},
        {MBEDTLS_OID_OCSP_SIGNING, MBEDTLS_OID_SIZE(MBEDTLS_OID_OCSP_SIGNING), "OCSPSigning"},
        {MBEDTLS_OID_ANY_EXTENDED_KEY_USAGE, MBEDTLS_OID_SIZE(MBEDTLS_OID_ANY_EXTENDED_KEY_USAGE),
         "anyExtendedKeyUsage"},
    };
    buf[0] = '\0';
    if (!(crt->ext_types & MBEDTLS_X509_EXT_EXTENDED_KEY_USAGE))
        return;
    for (const mbedtls_x509_sequence *s = &crt->ext_key_usage; s && s->buf.p; s = s->next) {
        const char *name = "other";
        for (size_t i = 0; i < sizeof eku / sizeof eku[0]; i++)
            if (s->buf.len == eku[i].oid_len && memcmp(s->buf.p, eku[i].oid, s->buf.len) == 0)
                name = eku[i].name;
        certs_append(buf, len, name);
    }
}

fg_err certs_inspect(const char *path, struct certs_info *out, char *why, size_t why_len)
{
    memset(out, 0, sizeof *out);
    mbedtls_x509_crt crt;
    mbedtls_x509_crt_init(&crt);
    fg_err e = certs_load_crt(path, "certificate", &crt, why, why_len);
    if (e != FG_OK) {
        mbedtls_x509_crt_free(&crt);
        return e;
    }
    if (mbedtls_x509_dn_gets(out->subject, sizeof out->subject, &crt.subject) < 0)
        snprintf(out->subject, sizeof out->subject, "(too long)");
    if (mbedtls_x509_dn_gets(out->issuer, sizeof out->issuer, &crt.issuer) < 0)
        snprintf(out->issuer, sizeof out->issuer, "(too long)");
    certs_subject_attr(&crt, MBEDTLS_OID_AT_CN, MBEDTLS_OID_SIZE(MBEDTLS_OID_AT_CN), out->cn,
                       sizeof out->cn);
    out->kind = certs_kind_of(&crt);
    if (out->kind == CERTS_KIND_SENSOR)
        certs_sensor_type_of(&crt, out->sensor_type, sizeof out->sensor_type);
    out->is_ca = crt.ca_istrue != 0;
    if (mbedtls_x509_serial_gets(out->serial, sizeof out->serial, &crt.serial) < 0)
        out->serial[0] = '\0';
    out->not_before_ms = certs_time_ms(&crt.valid_from);
    out->not_after_ms = certs_time_ms(&crt.valid_to);
    struct certs_san san;
    certs_san_parse(&crt, &san);
    certs_san_text(&san, out->san, sizeof out->san);
    key_usage_text(&crt, out->key_usage, sizeof out->key_usage);
    certs_ext_key_usage_text(&crt, out->ext_key_usage, sizeof out->ext_key_usage);
    unsigned char digest[32];
    if (mbedtls_sha256_ret(crt.raw.p, crt.raw.len, digest, 0) == 0) {
        size_t used = 0;
        for (size_t i = 0; i < sizeof digest; i++)
            used += (size_t)snprintf(out->sha256 + used, sizeof out->sha256 - used, "%s%02X",
                                     i ? ":" : "", digest[i]);
    }
    mbedtls_x509_crt_free(&crt);
    return FG_OK;
}

void certs_info_print(FILE *out, const struct certs_info *info, int64_t now_ms)
{
    char from[32], until[32], left[64];
    fg_format_time(info->not_before_ms, from, sizeof from);
    fg_format_time(info->not_after_ms, until, sizeof until);
    int days = certs_days_between(now_ms, info->not_after_ms);
    if (now_ms < info->not_before_ms)
        snprintf(left, sizeof left, "not valid yet");
    else if (now_ms > info->not_after_ms)
        snprintf(left, sizeof left, "EXPIRED %d days ago", -days);
    else
        snprintf(left, sizeof left, "%d days left", days);
    fprintf(out, "subject:        %s\n", info->subject);
    fprintf(out, "issuer:         %s\n", info->issuer);
    fprintf(out, "kind:           %s%s\n", certs_kind_name(info->kind),
            info->is_ca ? " (certificate authority)" : "");
    if (info->kind == CERTS_KIND_SENSOR)
        fprintf(out, "sensor type:    %s\n",
                info->sensor_type[0] ? info->sensor_type
                                     : "(none: a hub, see broker-config --hub)");
    fprintf(out, "serial:         %s\n", info->serial);
    fprintf(out, "valid from:     %s\n", from);
    fprintf(out, "valid until:    %s (%s)\n", until, left);
    fprintf(out, "SAN:            %s\n", info->san[0] ? info->san : "(none)");
    fprintf(out, "key usage:      %s\n", info->key_usage[0] ? info->key_usage : "(any)");
    fprintf(out, "ext key usage:  %s\n", info->ext_key_usage[0] ? info->ext_key_usage : "(any)");
    fprintf(out, "SHA-256:        %s\n", info->sha256);
}
