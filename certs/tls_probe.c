#include "certs/tls_probe.h"

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/error.h>
#include <mbedtls/entropy.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#include <stdio.h>
#include <string.h>

/* The DNS names the peer's certificate is valid for, for the message. */
static void peer_names(const mbedtls_x509_crt *crt, char *buf, size_t len)
{
    size_t o = 0;
    buf[0] = '\0';
    for (const mbedtls_x509_sequence *s = &crt->subject_alt_names; s && s->buf.p && o < len;
         s = s->next) {
        if ((s->buf.tag & MBEDTLS_ASN1_TAG_VALUE_MASK) != 2) /* dNSName */
            continue;
        o += (size_t)snprintf(buf + o, len - o, "%s%.*s", o ? ", " : "", (int)s->buf.len,
                              (const char *)s->buf.p);
    }
    if (!o)
        mbedtls_x509_dn_gets(buf, len, &crt->subject);
}

fg_err tls_probe(const char *host, int port, const char *ca_file, int timeout_ms, char *why,
                 size_t why_len)
{
    mbedtls_net_context net;
    mbedtls_ssl_context ssl;
    mbedtls_ssl_config conf;
    mbedtls_x509_crt ca;
    mbedtls_entropy_context ent;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_net_init(&net);
    mbedtls_ssl_init(&ssl);
    mbedtls_ssl_config_init(&conf);
    mbedtls_x509_crt_init(&ca);
    mbedtls_entropy_init(&ent);
    mbedtls_ctr_drbg_init(&drbg);
    fg_err e = FG_ERR_TLS;
    char portstr[8];
    snprintf(portstr, sizeof portstr, "%d", port);
    int ret;
    if (mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &ent, (const unsigned char *)"probe",
                              5) != 0) {
        snprintf(why, why_len, "cannot seed the random generator");
        goto out;
    }
    if (mbedtls_x509_crt_parse_file(&ca, ca_file) != 0) {
        snprintf(why, why_len, "the CA file %s cannot be read as PEM certificates", ca_file);
        goto out;
    }
    if ((ret = mbedtls_net_connect(&net, host, portstr, MBEDTLS_NET_PROTO_TCP)) != 0) {
        snprintf(why, why_len, "%s:%d cannot be reached (%s)", host, port,
                 ret == MBEDTLS_ERR_NET_UNKNOWN_HOST ? "unknown host" : "connection refused");
        e = FG_ERR_IO;
        goto out;
    }
    mbedtls_ssl_config_defaults(&conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                MBEDTLS_SSL_PRESET_DEFAULT);
    /* OPTIONAL: finish the handshake so we can say what is wrong with the peer. */
    mbedtls_ssl_conf_authmode(&conf, MBEDTLS_SSL_VERIFY_OPTIONAL);
    mbedtls_ssl_conf_ca_chain(&conf, &ca, NULL);
    mbedtls_ssl_conf_rng(&conf, mbedtls_ctr_drbg_random, &drbg);
    mbedtls_ssl_conf_read_timeout(&conf, (uint32_t)timeout_ms);
    if (mbedtls_ssl_setup(&ssl, &conf) != 0 || mbedtls_ssl_set_hostname(&ssl, host) != 0) {
        snprintf(why, why_len, "cannot set up a TLS probe");
        goto out;
    }
    mbedtls_ssl_set_bio(&ssl, &net, mbedtls_net_send, NULL, mbedtls_net_recv_timeout);
    ret = mbedtls_ssl_handshake(&ssl);
    if (ret != 0) {
        if (ret == MBEDTLS_ERR_SSL_TIMEOUT)
            snprintf(why, why_len,
                     "%s:%d did not answer the TLS handshake: it is probably a plaintext MQTT "
                     "port",
                     host, port);
        else if (ret == MBEDTLS_ERR_NET_CONN_RESET || ret == MBEDTLS_ERR_SSL_CONN_EOF ||
                 ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY)
            snprintf(why, why_len,
                     "%s:%d closed the connection during the TLS handshake: it is probably a "
                     "plaintext port, or it refuses our TLS version",
                     host, port);
        else if (ret == MBEDTLS_ERR_SSL_INVALID_RECORD ||
                 ret == MBEDTLS_ERR_SSL_BAD_HS_SERVER_HELLO)
            snprintf(why, why_len, "%s:%d does not speak TLS: it is probably a plaintext port",
                     host, port);
        else {
            char err[128];
            mbedtls_strerror(ret, err, sizeof err);
            snprintf(why, why_len, "the TLS handshake with %s:%d failed: %s", host, port, err);
        }
        goto out;
    }
    uint32_t flags = mbedtls_ssl_get_verify_result(&ssl);
    const mbedtls_x509_crt *peer = mbedtls_ssl_get_peer_cert(&ssl);
    char names[256] = "?";
    if (peer)
        peer_names(peer, names, sizeof names);
    if (flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED)
        snprintf(why, why_len,
                 "the certificate of %s:%d (%s) is not signed by the configured CA %s", host, port,
                 names, ca_file);
    else if (flags & MBEDTLS_X509_BADCERT_EXPIRED)
        snprintf(why, why_len, "the certificate of %s:%d has expired", host, port);
    else if (flags & MBEDTLS_X509_BADCERT_FUTURE)
        snprintf(why, why_len, "the certificate of %s:%d is not valid yet", host, port);
    else if (flags & MBEDTLS_X509_BADCERT_CN_MISMATCH)
        snprintf(why, why_len, "hostname mismatch: the certificate of %s:%d is for %s, not for %s",
                 host, port, names, host);
    else if (flags) {
        char info[256];
        mbedtls_x509_crt_verify_info(info, sizeof info, "", flags);
        snprintf(why, why_len, "the certificate of %s:%d is not acceptable: %s", host, port, info);
    } else {
        snprintf(why, why_len, "the TLS peer %s:%d looks valid", host, port);
        e = FG_OK;
    }
    mbedtls_ssl_close_notify(&ssl);
out:
    mbedtls_net_free(&net);
    mbedtls_ssl_free(&ssl);
    mbedtls_ssl_config_free(&conf);
    mbedtls_x509_crt_free(&ca);
    mbedtls_ctr_drbg_free(&drbg);
    mbedtls_entropy_free(&ent);
    return e;
}
