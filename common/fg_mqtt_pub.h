/* The one MQTT v5 publisher of the simulator, the test tools and the bench load
 * generator: keeps at most `window` publishes outstanding (and never more than
 * the broker's Receive Maximum), never handing Paho a backlog. */
#ifndef FG_MQTT_PUB_H
#define FG_MQTT_PUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/fg_error.h"

struct fg_pub;

struct fg_pub_options {
    const char *host;
    int port;
    const char *client_id;
    int qos;
    int window;       /* max outstanding QoS 1 publishes */
    const char *ca;   /* TLS when set */
    const char *cert; /* client certificate (optional) */
    const char *key;
    int send_timeout_ms; /* fg_pub_send waits this long for room in the window, 0: forever */
};

struct fg_pub_prop { /* an MQTT v5 user property */
    const char *key, *value;
};

FG_MUST_CHECK fg_err fg_pub_connect(const struct fg_pub_options *o, struct fg_pub **out, char *why,
                                    size_t why_len);
/* Blocks while the window is full (FG_ERR_FULL after send_timeout_ms; then
 * nothing was sent). user_key/user_value: optional user property. */
FG_MUST_CHECK fg_err fg_pub_send(struct fg_pub *p, const char *topic, const void *payload,
                                 size_t len, const char *user_key, const char *user_value);
/* The same with n user properties. */
FG_MUST_CHECK fg_err fg_pub_send_props(struct fg_pub *p, const char *topic, const void *payload,
                                       size_t len, const struct fg_pub_prop *props, size_t n);
/* Waits until every publish is acknowledged (or timeout_ms passes). */
FG_MUST_CHECK fg_err fg_pub_flush(struct fg_pub *p, int timeout_ms);
size_t fg_pub_acked(struct fg_pub *p);
size_t fg_pub_failed(struct fg_pub *p);
/* How many sends found the window full and had to wait. */
size_t fg_pub_waits(struct fg_pub *p);
/* The window in force: the option, lowered to the broker's Receive Maximum. */
int fg_pub_window(struct fg_pub *p);
bool fg_pub_connected(struct fg_pub *p);
void fg_pub_close(struct fg_pub *p);

/* Paces a sender to rate messages per second: sleeps until message number
 * sent is due, counted from t0_ms (fg_monotonic_ms at the first message). */
void fg_pub_pace(int64_t t0_ms, long long sent, double rate);

#endif
