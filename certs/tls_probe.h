/* The TLS peer, checked with mbedTLS: before each connection (tls_peer_check) so
 * that a peer Paho/OpenSSL would accept but fairgate must not (a weak key, a SHA-1
 * signature, a certificate without subjectAltName whose CN alone names the host)
 * is refused, and after a failure (tls_probe) because Paho says only "TCP/TLS
 * connect failure". Both block up to timeout_ms: call them from the main thread,
 * never from a Paho callback. */
#ifndef TLS_PROBE_H
#define TLS_PROBE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/fg_error.h"

struct tls_peer_req {
    const char *host;
    int port;
    const char *ca_file;
    const char *cert_file, *key_file; /* optional: our client certificate, for mTLS peers */
    bool check_host;                  /* the subjectAltName must name host */
    int timeout_ms;
};

/* FG_OK: the peer's certificate is acceptable. FG_ERR_IO: the peer cannot be
 * reached (nothing is known about it; the connection attempt will fail the same
 * way). Anything else: do not connect; why says why in one sentence, with every
 * name from the certificate escaped. */
fg_err tls_peer_check(const struct tls_peer_req *req, char *why, size_t why_len);

/* The same check, without client certificate, for the explanation after a failed
 * connection: FG_OK means the peer looks fine (the failure was elsewhere). */
fg_err tls_probe(const char *host, int port, const char *ca_file, int timeout_ms, char *why,
                 size_t why_len);

#endif
