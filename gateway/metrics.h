/* Metrics: the gateway's counters in the Prometheus text format, served over
 * HTTP on a loopback port (libmicrohttpd), and the same snapshot as the JSON
 * status message the gateway publishes retained on the local broker.
 *
 * Labels carry route names, reject reasons and link names only: never an
 * identifier, a pseudonym or a telemetry value (docs/operations-service.md). */
#ifndef METRICS_H
#define METRICS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/fg_error.h"

#define METRICS_NAME_MAX 64
#define METRICS_MAX_REASONS 16
#define METRICS_MAX_ROUTES 32
#define METRICS_MAX_DEGRADED 6
#define METRICS_LATENCY_BUCKETS 13 /* finite upper bounds; +Inf is implicit */

/* Upper bounds of the publish latency buckets, in microseconds (1 ms .. 10 s). */
extern const int64_t metrics_latency_bounds_us[METRICS_LATENCY_BUCKETS];

/* THREAD SAFETY: observe from any thread (relaxed atomics); a reader may see
 * a count one ahead of the sum, which Prometheus tolerates. Zero-initialise. */
struct metrics_histogram {
    atomic_uint_fast64_t bucket[METRICS_LATENCY_BUCKETS + 1]; /* per bucket, not cumulative */
    atomic_uint_fast64_t sum_us;
};

struct metrics_histogram_snapshot {
    uint64_t bucket[METRICS_LATENCY_BUCKETS + 1]; /* per bucket, not cumulative */
    uint64_t count, sum_us;
};

void metrics_observe_latency(struct metrics_histogram *h, int64_t us);
void metrics_histogram_read(const struct metrics_histogram *h,
                            struct metrics_histogram_snapshot *out);
/* CLOCK_MONOTONIC in microseconds: take it at send, observe the difference at PUBACK. */
int64_t metrics_monotonic_us(void);

struct metrics_reason {
    char name[METRICS_NAME_MAX]; /* "malformed payload": rendered as malformed_payload */
    uint64_t count;
};

/* Counters of one policy route since the policy was loaded (they restart at a
 * reload; Prometheus' rate() treats that as a counter reset). */
struct metrics_route {
    char name[METRICS_NAME_MAX];
    uint64_t matched, filtered, emitted, late;
    uint64_t groups_published, groups_suppressed, groups_secondary;
    uint64_t totals_published, totals_suppressed;
};

struct metrics_link {
    bool connected;
    uint64_t connects, losses;
    int cert_days_left; /* of the client certificate; -1: none or unknown */
};

/* Everything one scrape or one status message shows. Plain values: the fill
 * function copies strings in, so a snapshot outlives a policy reload. */
struct metrics_snapshot {
    int64_t now_ms;     /* wall clock, unix ms */
    int64_t started_ms; /* when the gateway started, unix ms */
    char version[32];
    char site[METRICS_NAME_MAX];

    uint64_t inputs;           /* accepted from the local broker */
    uint64_t queued;           /* minimised messages written to the outbox */
    uint64_t sent;             /* acknowledged by the upstream broker */
    uint64_t refused_upstream; /* the upstream broker answered with an error reason */
    size_t nreasons;
    struct metrics_reason rejected[METRICS_MAX_REASONS];
    size_t nroutes;
    struct metrics_route routes[METRICS_MAX_ROUTES];

    uint64_t outbox_messages, outbox_bytes, outbox_inflight;
    int64_t outbox_oldest_age_ms; /* 0 when empty */
    uint64_t outbox_write_errors;
    uint64_t retention_deleted; /* unsent messages deleted because retention ended */
    bool inputs_paused;         /* outbox full or not writable */
    uint64_t input_pauses;
    uint64_t quarantined;       /* refused messages held in quarantine now */
    uint64_t quarantined_total; /* moved to quarantine since start */
    /* Why the gateway is degraded, as codes (upstream-down, upstream-stalled,
     * inputs-paused-full, inputs-paused-disk, quarantined); none: ok. */
    size_t ndegraded;
    char degraded[METRICS_MAX_DEGRADED][32];

    struct metrics_link local, upstream;
    struct metrics_histogram_snapshot latency; /* send to PUBACK upstream */

    bool policy_loaded;
    char policy_name[METRICS_NAME_MAX];
    int policy_version;
    int64_t policy_valid_until_s; /* unix seconds; 0: no end date */
    bool policy_expired;

    /* issue 14: weakenings of co-determination in force (council/trust.h) */
    uint32_t trust_weakenings;
    char trust_weakening_kinds[256]; /* comma-separated kinds */
};

/* Fills s (already zeroed). THREAD SAFETY: called on the HTTP server's thread
 * while the gateway runs; it must only read atomics or take short locks. */
typedef void (*metrics_fill_fn)(void *ctx, struct metrics_snapshot *s);

struct metrics;

/* Serves GET /metrics (Prometheus text 0.0.4) and GET /status (JSON) on
 * bind_addr:port (IPv4 or IPv6 literal; port 0 picks a free one, see
 * metrics_port). FG_ERR_CONFIG with a sentence in why when built without
 * libmicrohttpd or the address is bad, FG_ERR_IO when the port is taken. */
FG_MUST_CHECK fg_err metrics_start(const char *bind_addr, int port, metrics_fill_fn fill, void *ctx,
                                   struct metrics **out, char *why, size_t why_len);
int metrics_port(const struct metrics *m);
/* Stops the server and waits for its thread; NULL is fine. */
void metrics_stop(struct metrics *m);

/* Like snprintf: writes at most len bytes (NUL-terminated when len > 0) and
 * returns the length the whole text needs; retry with more when >= len. */
size_t metrics_render(const struct metrics_snapshot *s, char *buf, size_t len);
/* The retained status message: one JSON object, same return convention. */
size_t metrics_render_status_json(const struct metrics_snapshot *s, char *buf, size_t len);

#endif
