#include "certs/tls_probe.h"

#include <arpa/inet.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#include <stdio.h>
#include <string.h>

#include "certs/certs_internal.h"
#include "common/fg_log.h"

/* What the verify callback saw of the peer's chain: available even when the
 * handshake fails afterwards (a peer that demands a client certificate). */
struct seen {
    uint32_t flags; /* of the whole chain */
    bool leaf;
    mbedtls_x509_crt crt; /* a copy of the leaf */
};

static int on_verify(void *ctx, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
{
    struct seen *s = ctx;
    s->flags |= *flags;
    if (depth == 0 && !s->leaf)
        s->leaf = mbedtls_x509_crt_parse_der(&s->crt, crt->raw.p, crt->raw.len) == 0;
    return 0;
}

/* The names the peer's certificate is valid for, escaped, for the message: its
 * subjectAltName, or its subject if it has none. */
static void peer_names(const mbedtls_x509_crt *crt, char *buf, size_t len)
{
    struct certs_san san;
    certs_san_parse(crt, &san);
    buf[0] = '\0';
    char piece[300];
    for (size_t i = 0; i < san.n_dns; i++) {
        fg_log_escape(piece, sizeof piece, san.dns[i], (size_t)-1);
        certs_append(buf, len, piece);
    }
    for (size_t i = 0; i < san.n_ip; i++) {
        inet_ntop(san.ip_len[i] == 4 ? AF_INET : AF_INET6, san.ip[i], piece, sizeof piece);
        certs_append(buf, len, piece);
    }
    if (!buf[0]) {
        char dn[256];
        if (mbedtls_x509_dn_gets(dn, sizeof dn, &crt->subject) < 0)
            snprintf(dn, sizeof dn, "?");
        fg_log_escape(buf, len, dn, (size_t)-1);
    }
}

static void handshake_failed(int ret, const char *host, int port, char *why, size_t why_len)
{
    if (ret == MBEDTLS_ERR_SSL_TIMEOUT)
        snprintf(why, why_len,
                 "%s:%d did not answer the TLS handshake: it is probably a plaintext MQTT port",
                 host, port);
    else if (ret == MBEDTLS_ERR_NET_CONN_RESET || ret == MBEDTLS_ERR_SSL_CONN_EOF ||
             ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY)
        snprintf(why, why_len,
                 "%s:%d closed the connection during the TLS handshake: it is probably a "
                 "plaintext port, or it refuses our TLS version (TLS 1.2 is required)",
                 host, port);
    else if (ret == MBEDTLS_ERR_SSL_INVALID_RECORD || ret == MBEDTLS_ERR_SSL_BAD_HS_SERVER_HELLO)
        snprintf(why, why_len, "%s:%d does not speak TLS: it is probably a plaintext port", host,
                 port);
    else {
        char err[128];
        mbedtls_strerror(ret, err, sizeof err);
        snprintf(why, why_len, "the TLS handshake with %s:%d failed: %s", host, port, err);
    }
}

/* The verdict on the certificate the peer showed. */
static fg_err judge(const struct tls_peer_req *req, const struct seen *s, char *why, size_t why_len)
{
    const char *host = req->host;
    int port = req->port;
    char names[300], weak[300];
    peer_names(&s->crt, names, sizeof names);
    struct certs_san san;
    certs_san_parse(&s->crt, &san);
    uint32_t flags = s->flags & ~(uint32_t)MBEDTLS_X509_BADCERT_CN_MISMATCH; /* ours below */
    if (flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED)
        snprintf(why, why_len,
                 "the certificate of %s:%d (%s) is not signed by the configured CA %s", host, port,
                 names, req->ca_file);
    else if (flags & MBEDTLS_X509_BADCERT_EXPIRED)
        snprintf(why, why_len, "the certificate of %s:%d has expired", host, port);
    else if (flags & MBEDTLS_X509_BADCERT_FUTURE)
        snprintf(why, why_len, "the certificate of %s:%d is not valid yet", host, port);
    else if (certs_strength_text(flags, &s->crt, weak, sizeof weak))
        snprintf(why, why_len, "the certificate of %s:%d (%s) %s", host, port, names, weak);
    else if (req->check_host && !san.n_dns && !san.n_ip)
        snprintf(why, why_len,
                 "the certificate of %s:%d (%s) has no subjectAltName: only the subjectAltName "
                 "names a server, never the CN; reissue it with DNS:%s",
                 host, port, names, host);
    else if (req->check_host && !certs_host_matches(&san, host))
        snprintf(why, why_len, "hostname mismatch: the certificate of %s:%d is for %s, not for %s",
                 host, port, names, host);
    else if (flags) {
        char info[256];
        if (mbedtls_x509_crt_verify_info(info, sizeof info, "", flags) < 0)
            snprintf(info, sizeof info, "flags 0x%x", (unsigned)flags);
        info[strcspn(info, "\n")] = '\0';
        snprintf(why, why_len, "the certificate of %s:%d is not acceptable: %s", host, port, info);
    } else {
        snprintf(why, why_len, "the TLS peer %s:%d looks valid", host, port);
        return FG_OK;
    }
    return FG_ERR_TLS;
}

struct probe {
    mbedtls_net_context net;
    mbedtls_ssl_context ssl;
    mbedtls_ssl_config conf;
    mbedtls_x509_crt ca, own;
    mbedtls_pk_context key;
    mbedtls_entropy_context ent;
    mbedtls_ctr_drbg_context drbg;
    struct seen seen;
};

static fg_err setup(struct probe *p, const struct tls_peer_req *req, char *why, size_t why_len)
{
    char portstr[8];
    snprintf(portstr, sizeof portstr, "%d", req->port);
    if (mbedtls_ctr_drbg_seed(&p->drbg, mbedtls_entropy_func, &p->ent,
                              (const unsigned char *)"probe", 5) != 0) {
        snprintf(why, why_len, "cannot seed the random generator");
        return FG_ERR_TLS;
    }
    if (mbedtls_x509_crt_parse_file(&p->ca, req->ca_file) != 0) {
        snprintf(why, why_len, "the CA file %s cannot be read as PEM certificates", req->ca_file);
        return FG_ERR_TLS;
    }
    bool own = req->cert_file && req->key_file &&
               mbedtls_x509_crt_parse_file(&p->own, req->cert_file) == 0 &&
               mbedtls_pk_parse_keyfile(&p->key, req->key_file, NULL) == 0;
    int ret = mbedtls_net_connect(&p->net, req->host, portstr, MBEDTLS_NET_PROTO_TCP);
    if (ret != 0) {
        snprintf(why, why_len, "%s:%d cannot be reached (%s)", req->host, req->port,
                 ret == MBEDTLS_ERR_NET_UNKNOWN_HOST ? "unknown host" : "connection refused");
        return FG_ERR_IO;
    }
    mbedtls_ssl_config_defaults(&p->conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                MBEDTLS_SSL_PRESET_DEFAULT);
    /* OPTIONAL: finish the handshake so we can say what is wrong with the peer. */
    mbedtls_ssl_conf_authmode(&p->conf, MBEDTLS_SSL_VERIFY_OPTIONAL);
    mbedtls_ssl_conf_cert_profile(&p->conf, &certs_profile);
    mbedtls_ssl_conf_verify(&p->conf, on_verify, &p->seen);
    mbedtls_ssl_conf_ca_chain(&p->conf, &p->ca, NULL);
    mbedtls_ssl_conf_rng(&p->conf, mbedtls_ctr_drbg_random, &p->drbg);
    mbedtls_ssl_conf_read_timeout(&p->conf, (uint32_t)req->timeout_ms);
    if (own)
        mbedtls_ssl_conf_own_cert(&p->conf, &p->own, &p->key);
    /* The name goes out as SNI; the host check is ours (subjectAltName only). */
    unsigned char addr[16];
    bool is_ip = inet_pton(AF_INET, req->host, addr) == 1 || inet_pton(AF_INET6, req->host, addr);
    if (mbedtls_ssl_setup(&p->ssl, &p->conf) != 0 ||
        (!is_ip && mbedtls_ssl_set_hostname(&p->ssl, req->host) != 0)) {
        snprintf(why, why_len, "cannot set up a TLS probe");
        return FG_ERR_TLS;
    }
    mbedtls_ssl_set_bio(&p->ssl, &p->net, mbedtls_net_send, NULL, mbedtls_net_recv_timeout);
    return FG_OK;
}

fg_err tls_peer_check(const struct tls_peer_req *req, char *why, size_t why_len)
{
    struct probe p;
    memset(&p, 0, sizeof p);
    mbedtls_net_init(&p.net);
    mbedtls_ssl_init(&p.ssl);
    mbedtls_ssl_config_init(&p.conf);
    mbedtls_x509_crt_init(&p.ca);
    mbedtls_x509_crt_init(&p.own);
    mbedtls_pk_init(&p.key);
    mbedtls_x509_crt_init(&p.seen.crt);
    mbedtls_entropy_init(&p.ent);
    mbedtls_ctr_drbg_init(&p.drbg);
    fg_err e = setup(&p, req, why, why_len);
    if (e == FG_OK) {
        int ret = mbedtls_ssl_handshake(&p.ssl);
        if (p.seen.leaf)
            e = judge(req, &p.seen, why, why_len); /* even if the handshake failed later */
        if (ret != 0 && (e == FG_OK || !p.seen.leaf)) {
            handshake_failed(ret, req->host, req->port, why, why_len);
            e = FG_ERR_TLS;
        }
        if (ret == 0)
            mbedtls_ssl_close_notify(&p.ssl);
    }
    mbedtls_x509_crt_free(&p.seen.crt);
    mbedtls_net_free(&p.net);
    mbedtls_ssl_free(&p.ssl);
    mbedtls_ssl_config_free(&p.conf);
    mbedtls_x509_crt_free(&p.ca);
    mbedtls_x509_crt_free(&p.own);
    mbedtls_pk_free(&p.key); /* zeroizes */
    mbedtls_ctr_drbg_free(&p.drbg);
    mbedtls_entropy_free(&p.ent);
    return e;
}

fg_err tls_probe(const char *host, int port, const char *ca_file, int timeout_ms, char *why,
                 size_t why_len)
{
    struct tls_peer_req req = {.host = host,
                               .port = port,
                               .ca_file = ca_file,
                               .check_host = true,
                               .timeout_ms = timeout_ms};
    return tls_peer_check(&req, why, why_len);
}
