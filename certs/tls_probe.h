/* When a TLS connection fails, Paho says only "TCP/TLS connect failure". This
 * probe repeats the handshake with mbedTLS and says why in one sentence. */
#ifndef TLS_PROBE_H
#define TLS_PROBE_H

#include <stddef.h>

#include "common/fg_error.h"

/* Blocks up to timeout_ms. FG_OK means the peer looks fine (the failure was
 * elsewhere, e.g. MQTT-level); otherwise why holds the reason. */
fg_err tls_probe(const char *host, int port, const char *ca_file, int timeout_ms, char *why,
                 size_t why_len);

#endif
