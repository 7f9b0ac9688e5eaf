/* `certs verify` and the daemon's pre-flight check. Validity is judged against the
 * caller's clock (now_ms) rather than mbedTLS's, so tests and the daemon agree;
 * mbedTLS still checks the signature chain and key strength. */
#include "certs/certs_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "common/fg_util.h"

__attribute__((format(printf, 3, 4))) static void add(struct certs_report *rep, fg_err err,
                                                      const char *fmt, ...)
{
    if (rep->n >= CERTS_MAX_PROBLEMS)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rep->problem[rep->n].text, sizeof rep->problem[rep->n].text, fmt, ap);
    va_end(ap);
    rep->problem[rep->n++].err = err;
}

static void day_of(int64_t ms, char *buf, size_t len)
{
    char full[32];
    fg_format_time(ms, full, sizeof full);
    snprintf(buf, len, "%.10s %.5s UTC", full, full + 11);
}

static void check_times(struct certs_report *rep, const char *what, const char *path,
                        const mbedtls_x509_crt *crt, int64_t now)
{
    int64_t nb = certs_time_ms(&crt->valid_from), na = certs_time_ms(&crt->valid_to);
    char when[40];
    if (now < nb) {
        day_of(nb, when, sizeof when);
        add(rep, FG_ERR_EXPIRED, "The %s %s is not valid until %s; check the system clock.", what,
            path, when);
    } else if (now > na) {
        day_of(na, when, sizeof when);
        int ago = -certs_days_between(now, na);
        add(rep, FG_ERR_EXPIRED, "The %s %s expired on %s, %d day%s ago; issue a new one.", what,
            path, when, ago, ago == 1 ? "" : "s");
    }
}

static void check_usage(struct certs_report *rep, const char *path, const mbedtls_x509_crt *crt,
                        enum certs_usage usage)
{
    if (usage == CERTS_USAGE_ANY)
        return;
    const char *oid =
        usage == CERTS_USAGE_SERVER ? MBEDTLS_OID_SERVER_AUTH : MBEDTLS_OID_CLIENT_AUTH;
    const char *role = usage == CERTS_USAGE_SERVER ? "server" : "client";
    size_t oid_len = usage == CERTS_USAGE_SERVER ? MBEDTLS_OID_SIZE(MBEDTLS_OID_SERVER_AUTH)
                                                 : MBEDTLS_OID_SIZE(MBEDTLS_OID_CLIENT_AUTH);
    if (mbedtls_x509_crt_check_extended_key_usage(crt, oid, oid_len) != 0) {
        char eku[160];
        certs_ext_key_usage_text(crt, eku, sizeof eku);
        add(rep, FG_ERR_TLS,
            "The certificate %s is not allowed for TLS %s authentication (its extended key "
            "usage is %s).",
            path, role, eku[0] ? eku : "none");
    }
    if (mbedtls_x509_crt_check_key_usage(crt, MBEDTLS_X509_KU_DIGITAL_SIGNATURE) != 0)
        add(rep, FG_ERR_TLS,
            "The certificate %s does not allow digital signatures, which TLS with an EC key "
            "needs.",
            path);
}

static void check_key(struct certs_report *rep, const char *key_file, const char *cert_file,
                      const mbedtls_x509_crt *crt)
{
    struct stat st;
    char why[400];
    if (stat(key_file, &st) != 0) {
        add(rep, FG_ERR_NOT_FOUND, "The key file %s %s.", key_file,
            errno == ENOENT ? "does not exist" : "cannot be read");
        return;
    }
    if (fg_check_secret_file(key_file, why, sizeof why) != FG_OK)
        add(rep, FG_ERR_PERM, "Key file %s.", why);
    mbedtls_pk_context key;
    mbedtls_pk_init(&key);
    if (mbedtls_pk_parse_keyfile(&key, key_file, NULL) != 0)
        add(rep, FG_ERR_TLS, "The key file %s does not hold a readable unencrypted private key.",
            key_file);
    else if (crt && mbedtls_pk_check_pair(&crt->pk, &key) != 0)
        add(rep, FG_ERR_TLS, "The key %s does not belong to the certificate %s.", key_file,
            cert_file);
    mbedtls_pk_free(&key); /* zeroizes */
}

fg_err certs_verify(const struct certs_verify_req *req, struct certs_report *rep)
{
    memset(rep, 0, sizeof *rep);
    rep->days_left = -1;
    mbedtls_x509_crt ca, crt;
    mbedtls_x509_crt_init(&ca);
    mbedtls_x509_crt_init(&crt);
    char why[400];
    bool ca_ok = false, crt_ok = false;

    if (!req->ca_file) {
        add(rep, FG_ERR_CONFIG, "No CA certificate is configured.");
    } else {
        fg_err e = certs_load_crt(req->ca_file, "CA certificate", &ca, why, sizeof why);
        if (e != FG_OK) {
            add(rep, e, "%s", why);
        } else if (!ca.ca_istrue) {
            add(rep, FG_ERR_TLS, "The file %s is not a CA certificate (basicConstraints CA:false).",
                req->ca_file);
        } else {
            ca_ok = true;
            check_times(rep, "CA certificate", req->ca_file, &ca, req->now_ms);
        }
    }
    if (req->cert_file) {
        fg_err e = certs_load_crt(req->cert_file, "certificate", &crt, why, sizeof why);
        if (e != FG_OK)
            add(rep, e, "%s", why);
        else
            crt_ok = true;
    }
    if (req->key_file)
        check_key(rep, req->key_file, req->cert_file, crt_ok ? &crt : NULL);
    if (crt_ok) {
        rep->days_left = certs_days_between(req->now_ms, certs_time_ms(&crt.valid_to));
        check_times(rep, "certificate", req->cert_file, &crt, req->now_ms);
    }
    if (crt_ok && ca_ok) {
        uint32_t flags = 0;
        (void)mbedtls_x509_crt_verify_with_profile(&crt, &ca, NULL, &certs_profile, NULL, &flags,
                                                   NULL, NULL);
        flags &= ~(uint32_t)(MBEDTLS_X509_BADCERT_EXPIRED | MBEDTLS_X509_BADCERT_FUTURE);
        char weak[300];
        if (flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED) {
            add(rep, FG_ERR_TLS, "The certificate %s was not issued by the CA in %s.",
                req->cert_file, req->ca_file);
        } else if (certs_strength_text(flags, &crt, weak, sizeof weak)) {
            add(rep, FG_ERR_TLS, "The certificate %s %s.", req->cert_file, weak);
        } else if (flags) {
            char info[256];
            if (mbedtls_x509_crt_verify_info(info, sizeof info, "", flags) < 0)
                snprintf(info, sizeof info, "flags 0x%x", (unsigned)flags);
            info[strcspn(info, "\n")] = '\0';
            add(rep, FG_ERR_TLS, "The certificate %s fails chain verification: %s.", req->cert_file,
                info);
        }
    }
    if (crt_ok && req->host) {
        struct certs_san san;
        certs_san_parse(&crt, &san);
        if (!san.n_dns && !san.n_ip) {
            /* Only the subjectAltName names a server; a CN is never taken for one. */
            add(rep, FG_ERR_TLS,
                "The server certificate %s has no subjectAltName with a DNS name or IP "
                "address; its CN is never used as a host name: reissue it with the host in "
                "the subjectAltName.",
                req->cert_file);
        } else if (!certs_host_matches(&san, req->host)) {
            char names[512];
            certs_san_text(&san, names, sizeof names);
            add(rep, FG_ERR_TLS,
                "The certificate %s is not valid for host %s (its subjectAltName "
                "names %s).",
                req->cert_file, req->host, names[0] ? names : "nothing");
        }
    }
    if (crt_ok)
        check_usage(rep, req->cert_file, &crt, req->usage);

    mbedtls_x509_crt_free(&crt);
    mbedtls_x509_crt_free(&ca);
    return rep->n ? rep->problem[0].err : FG_OK;
}

fg_err certs_preflight(struct certs_preflight_req *req, char *why, size_t why_len)
{
    struct certs_verify_req v = {
        .ca_file = req->ca_file,
        .cert_file = req->cert_file,
        .key_file = req->key_file,
        .host = req->hostname,
        .usage = !req->cert_file ? CERTS_USAGE_ANY
                 : req->hostname ? CERTS_USAGE_SERVER
                                 : CERTS_USAGE_CLIENT,
        .now_ms = req->now_ms,
    };
    req->days_left = -1;
    if (req->key_file && !req->cert_file) {
        snprintf(why, why_len, "The key file %s is configured without its certificate.",
                 req->key_file);
        return FG_ERR_CONFIG;
    }
    struct certs_report rep;
    fg_err e = certs_verify(&v, &rep);
    req->days_left = rep.days_left;
    if (e != FG_OK)
        snprintf(why, why_len, "%s", rep.problem[0].text);
    else if (why_len)
        why[0] = '\0';
    return e;
}
