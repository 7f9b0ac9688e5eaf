/* Metrics: Prometheus text rendering, the status JSON, the latency histogram
 * and a small libmicrohttpd server. The server is pull-only, GET-only, on
 * loopback by default, and renders a fresh snapshot per request: nothing is
 * cached, nothing is written to disk. */
#include "gateway/metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef FAIRGATE_HAVE_MICROHTTPD
#include <arpa/inet.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/fg_util.h"
#endif

const int64_t metrics_latency_bounds_us[METRICS_LATENCY_BUCKETS] = {
    1000,   2500,   5000,    10000,   25000,   50000,   100000,
    250000, 500000, 1000000, 2500000, 5000000, 10000000};

void metrics_observe_latency(struct metrics_histogram *h, int64_t us)
{
    if (us < 0)
        us = 0;
    size_t i = 0;
    while (i < METRICS_LATENCY_BUCKETS && us > metrics_latency_bounds_us[i])
        i++;
    atomic_fetch_add_explicit(&h->bucket[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum_us, (uint_fast64_t)us, memory_order_relaxed);
}

void metrics_histogram_read(const struct metrics_histogram *h,
                            struct metrics_histogram_snapshot *out)
{
    out->count = 0;
    for (size_t i = 0; i <= METRICS_LATENCY_BUCKETS; i++) {
        out->bucket[i] = atomic_load_explicit(&h->bucket[i], memory_order_relaxed);
        out->count += out->bucket[i];
    }
    out->sum_us = atomic_load_explicit(&h->sum_us, memory_order_relaxed);
}

int64_t metrics_monotonic_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- a bounded writer with snprintf semantics ---------------------------------- */

struct wr {
    char *buf;
    size_t len, pos; /* pos counts what the whole text needs, even past len */
};

__attribute__((format(printf, 2, 3))) static void put(struct wr *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t room = w->pos < w->len ? w->len - w->pos : 0;
    int n = vsnprintf(room ? w->buf + w->pos : NULL, room, fmt, ap);
    va_end(ap);
    if (n > 0)
        w->pos += (size_t)n;
}

static size_t finish(struct wr *w)
{
    if (w->len)
        w->buf[w->pos < w->len ? w->pos : w->len - 1] = '\0';
    return w->pos;
}

/* A Prometheus label value: backslash, quote and newline escaped. */
static void put_label(struct wr *w, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\' || *v == '"')
            put(w, "\\%c", *v);
        else if (*v == '\n')
            put(w, "\\n");
        else
            put(w, "%c", *v);
    }
}

/* Reasons are sentences in logs ("malformed payload"); in labels, snake_case. */
static void put_slug(struct wr *w, const char *v)
{
    for (; *v; v++) {
        char c = *v;
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        put(w, "%c", (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ? c : '_');
    }
}

static void head(struct wr *w, const char *name, const char *type, const char *help)
{
    put(w, "# HELP fairgate_%s %s\n# TYPE fairgate_%s %s\n", name, help, name, type);
}

static void scalar(struct wr *w, const char *name, const char *type, const char *help, uint64_t v)
{
    head(w, name, type, help);
    put(w, "fairgate_%s %llu\n", name, (unsigned long long)v);
}

static void per_link(struct wr *w, const char *name, const char *type, const char *help,
                     uint64_t local, uint64_t upstream)
{
    head(w, name, type, help);
    put(w, "fairgate_%s{link=\"local\"} %llu\n", name, (unsigned long long)local);
    put(w, "fairgate_%s{link=\"upstream\"} %llu\n", name, (unsigned long long)upstream);
}

#define ROUTE_COUNTER(field, metric, help)                                                         \
    do {                                                                                           \
        head(&w, metric, "counter", help);                                                         \
        for (size_t i = 0; i < s->nroutes; i++) {                                                  \
            put(&w, "fairgate_" metric "{route=\"");                                               \
            put_label(&w, s->routes[i].name);                                                      \
            put(&w, "\"} %llu\n", (unsigned long long)s->routes[i].field);                         \
        }                                                                                          \
    } while (0)

/* Quarantine and the degraded reasons (issue 16). */
static void render_health(struct wr *w, const struct metrics_snapshot *s)
{
    scalar(w, "quarantine_messages", "gauge",
           "Messages the upstream refused, held in quarantine (fairgate outbox list).",
           s->quarantined);
    scalar(w, "quarantined_total", "counter", "Messages moved to quarantine.",
           s->quarantined_total);
    scalar(w, "degraded", "gauge", "1 while the gateway is degraded (see degraded_reason).",
           s->ndegraded > 0);
    head(w, "degraded_reason", "gauge", "1 for each reason the gateway is degraded.");
    for (size_t i = 0; i < s->ndegraded; i++)
        put(w, "fairgate_degraded_reason{reason=\"%s\"} 1\n", s->degraded[i]);
}

/* Links, their client certificates and the publish latency histogram. */
static void render_links(struct wr *wp, const struct metrics_snapshot *s)
{
    per_link(wp, "link_up", "gauge", "1 while connected to the broker.", s->local.connected,
             s->upstream.connected);
    per_link(wp, "link_connects_total", "counter",
             "Successful connections (more than one means reconnects).", s->local.connects,
             s->upstream.connects);
    per_link(wp, "link_losses_total", "counter", "Connections lost.", s->local.losses,
             s->upstream.losses);
    head(wp, "tls_client_certificate_expiry_days", "gauge",
         "Days until the client certificate of a link expires (absent without one).");
    const struct metrics_link *links[2] = {&s->local, &s->upstream};
    for (int i = 0; i < 2; i++)
        if (links[i]->cert_days_left >= 0)
            put(wp, "fairgate_tls_client_certificate_expiry_days{link=\"%s\"} %d\n",
                i ? "upstream" : "local", links[i]->cert_days_left);

    head(wp, "publish_latency_seconds", "histogram",
         "Time from sending a message upstream to its PUBACK.");
    uint64_t cum = 0;
    for (size_t i = 0; i < METRICS_LATENCY_BUCKETS; i++) {
        cum += s->latency.bucket[i];
        put(wp, "fairgate_publish_latency_seconds_bucket{le=\"%g\"} %llu\n",
            (double)metrics_latency_bounds_us[i] / 1e6, (unsigned long long)cum);
    }
    cum += s->latency.bucket[METRICS_LATENCY_BUCKETS];
    put(wp, "fairgate_publish_latency_seconds_bucket{le=\"+Inf\"} %llu\n", (unsigned long long)cum);
    put(wp, "fairgate_publish_latency_seconds_sum %.6f\n", (double)s->latency.sum_us / 1e6);
    put(wp, "fairgate_publish_latency_seconds_count %llu\n", (unsigned long long)cum);
}

size_t metrics_render(const struct metrics_snapshot *s, char *buf, size_t len)
{
    struct wr w = {buf, len, 0};
    head(&w, "build_info", "gauge", "Always 1; the version is a label.");
    put(&w, "fairgate_build_info{version=\"");
    put_label(&w, s->version);
    put(&w, "\"} 1\n");
    head(&w, "start_time_seconds", "gauge", "When the gateway started, unix seconds.");
    put(&w, "fairgate_start_time_seconds %lld\n", (long long)(s->started_ms / 1000));

    scalar(&w, "inputs_total", "counter", "Inputs received from the local broker.", s->inputs);
    head(&w, "inputs_rejected_total", "counter",
         "Inputs not forwarded, by reason (content is never logged or exported).");
    for (size_t i = 0; i < s->nreasons; i++) {
        put(&w, "fairgate_inputs_rejected_total{reason=\"");
        put_slug(&w, s->rejected[i].name);
        put(&w, "\"} %llu\n", (unsigned long long)s->rejected[i].count);
    }
    scalar(&w, "messages_queued_total", "counter", "Minimised messages written to the outbox.",
           s->queued);
    scalar(&w, "messages_sent_total", "counter",
           "Minimised messages acknowledged by the upstream broker.", s->sent);
    scalar(&w, "messages_refused_upstream_total", "counter",
           "Publishes the upstream broker refused with an error reason code (not retried).",
           s->refused_upstream);

    ROUTE_COUNTER(matched, "route_records_total",
                  "Records of a sensor type the route reads, since the policy was loaded.");
    ROUTE_COUNTER(filtered, "route_filtered_total", "Records the route's when-condition left out.");
    ROUTE_COUNTER(emitted, "route_messages_total",
                  "Messages the route produced (records, aggregates and totals).");
    ROUTE_COUNTER(late, "route_late_records_total",
                  "Records too late for their aggregation window (not counted).");
    ROUTE_COUNTER(groups_published, "route_groups_published_total", "Aggregate groups published.");
    head(&w, "route_groups_suppressed_total", "counter",
         "Aggregate groups held back: min_group (too few distinct workers) or secondary "
         "(a total would reveal them).");
    for (size_t i = 0; i < s->nroutes; i++) {
        put(&w, "fairgate_route_groups_suppressed_total{route=\"");
        put_label(&w, s->routes[i].name);
        put(&w, "\",kind=\"min_group\"} %llu\n",
            (unsigned long long)s->routes[i].groups_suppressed);
        put(&w, "fairgate_route_groups_suppressed_total{route=\"");
        put_label(&w, s->routes[i].name);
        put(&w, "\",kind=\"secondary\"} %llu\n", (unsigned long long)s->routes[i].groups_secondary);
    }
    ROUTE_COUNTER(totals_suppressed, "route_totals_suppressed_total",
                  "Totals held back because they would reveal a suppressed group.");

    scalar(&w, "outbox_messages", "gauge", "Minimised messages waiting for the upstream broker.",
           s->outbox_messages);
    scalar(&w, "outbox_bytes", "gauge", "Bytes of minimised messages in the outbox.",
           s->outbox_bytes);
    scalar(&w, "outbox_inflight", "gauge", "Publishes sent upstream and not yet acknowledged.",
           s->outbox_inflight);
    head(&w, "outbox_oldest_age_seconds", "gauge",
         "Age of the oldest message in the outbox; 0 when empty.");
    put(&w, "fairgate_outbox_oldest_age_seconds %.3f\n", (double)s->outbox_oldest_age_ms / 1000.0);
    scalar(&w, "outbox_write_errors_total", "counter",
           "Failed outbox writes (disk full or I/O error); inputs pause meanwhile.",
           s->outbox_write_errors);
    scalar(&w, "outbox_retention_deleted_total", "counter",
           "Unsent messages deleted because their retention ended before delivery.",
           s->retention_deleted);
    scalar(&w, "inputs_paused", "gauge",
           "1 while inputs are paused (outbox full or not writable); the local broker keeps them.",
           s->inputs_paused);
    scalar(&w, "input_pauses_total", "counter", "Times inputs were paused.", s->input_pauses);
    render_health(&w, s);

    render_links(&w, s);

    scalar(&w, "trust_weakenings", "gauge",
           "Weakenings of co-determination in force (changed trust key, fewer required roles, "
           "lab mode); each is in the audit log. 0 is the only good value.",
           s->trust_weakenings);
    scalar(&w, "policy_loaded", "gauge",
           "1 while a policy is in force; without one nothing leaves.", s->policy_loaded);
    if (s->policy_loaded) {
        head(&w, "policy_info", "gauge", "The policy in force; name and version are labels.");
        put(&w, "fairgate_policy_info{policy=\"");
        put_label(&w, s->policy_name);
        put(&w, "\",version=\"%d\"} 1\n", s->policy_version);
        head(&w, "policy_valid_until_seconds", "gauge",
             "End of the policy's validity, unix seconds (+Inf: no end date).");
        if (s->policy_valid_until_s)
            put(&w, "fairgate_policy_valid_until_seconds %lld\n",
                (long long)s->policy_valid_until_s);
        else
            put(&w, "fairgate_policy_valid_until_seconds +Inf\n");
        scalar(&w, "policy_expired", "gauge", "1 when the policy has expired: it forwards nothing.",
               s->policy_expired);
    }
    return finish(&w);
}

/* ---- status JSON ---------------------------------------------------------------- */

static void put_json_string(struct wr *w, const char *v)
{
    put(w, "\"");
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        if (*p == '"' || *p == '\\')
            put(w, "\\%c", *p);
        else if (*p < 0x20)
            put(w, "\\u%04x", *p);
        else
            put(w, "%c", *p);
    }
    put(w, "\"");
}

static void put_iso_time(struct wr *w, int64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    char b[32];
    gmtime_r(&t, &tm);
    strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%SZ", &tm);
    put(w, "\"%s\"", b);
}

static void put_link_json(struct wr *w, const struct metrics_link *l)
{
    put(w, "{\"connected\":%s,\"connects\":%llu,\"losses\":%llu", l->connected ? "true" : "false",
        (unsigned long long)l->connects, (unsigned long long)l->losses);
    if (l->cert_days_left >= 0)
        put(w, ",\"certificate_days_left\":%d", l->cert_days_left);
    put(w, "}");
}

size_t metrics_render_status_json(const struct metrics_snapshot *s, char *buf, size_t len)
{
    struct wr w = {buf, len, 0};
    uint64_t rejected = 0;
    for (size_t i = 0; i < s->nreasons; i++)
        rejected += s->rejected[i].count;
    const char *state = !s->policy_loaded || s->policy_expired ? "no-policy"
                        : !s->upstream.connected               ? "upstream-down"
                        : s->ndegraded                         ? "degraded"
                                                               : "ok";
    put(&w, "{\"state\":\"%s\",\"degraded\":[", state);
    for (size_t i = 0; i < s->ndegraded; i++)
        put(&w, "%s\"%s\"", i ? "," : "", s->degraded[i]);
    put(&w, "],\"quarantined\":%llu,\"version\":", (unsigned long long)s->quarantined);
    put_json_string(&w, s->version);
    put(&w, ",\"site\":");
    put_json_string(&w, s->site);
    put(&w, ",\"time\":");
    put_iso_time(&w, s->now_ms);
    put(&w, ",\"started\":");
    put_iso_time(&w, s->started_ms);
    put(&w, ",\"trust_weakenings\":%u,\"weakened\":", (unsigned)s->trust_weakenings);
    put_json_string(&w, s->trust_weakening_kinds);
    put(&w, ",\"policy\":");
    if (s->policy_loaded) {
        put(&w, "{\"name\":");
        put_json_string(&w, s->policy_name);
        put(&w, ",\"version\":%d,\"valid_until\":", s->policy_version);
        if (s->policy_valid_until_s)
            put_iso_time(&w, s->policy_valid_until_s * 1000);
        else
            put(&w, "null");
        put(&w, ",\"expired\":%s}", s->policy_expired ? "true" : "false");
    } else
        put(&w, "null");
    put(&w, ",\"local\":");
    put_link_json(&w, &s->local);
    put(&w, ",\"upstream\":");
    put_link_json(&w, &s->upstream);
    put(&w,
        ",\"inputs_paused\":%s,\"outbox\":{\"messages\":%llu,\"bytes\":%llu,"
        "\"oldest_age_s\":%lld},\"counters\":{\"inputs\":%llu,\"rejected\":%llu,"
        "\"queued\":%llu,\"sent\":%llu,\"retention_deleted\":%llu}}",
        s->inputs_paused ? "true" : "false", (unsigned long long)s->outbox_messages,
        (unsigned long long)s->outbox_bytes, (long long)(s->outbox_oldest_age_ms / 1000),
        (unsigned long long)s->inputs, (unsigned long long)rejected, (unsigned long long)s->queued,
        (unsigned long long)s->sent, (unsigned long long)s->retention_deleted);
    return finish(&w);
}

/* ---- the HTTP server -------------------------------------------------------------- */

/* Slow clients: MHD's timeout counts idle time only, so a client sending a byte
 * now and then would hold a connection for ever. Each connection gets a total
 * deadline per request (from accept, then from the end of its previous request);
 * a watchdog shuts down the sockets that pass it. Together with the connection
 * caps, a few slow or stuck clients delay a scraper by at most the deadline. */
#define METRICS_MAX_CONNECTIONS 32u
#define METRICS_MAX_PER_IP 4u
#define METRICS_IDLE_TIMEOUT_S 5u
#define METRICS_DEADLINE_MS 5000

struct conn_rec {
    int fd; /* our dup of the connection's socket: shutdown() on it can never hit a
               later connection that reuses MHD's descriptor number */
    int64_t deadline_ms;
    struct conn_rec *prev, *next;
};

struct metrics {
    metrics_fill_fn fill;
    void *ctx;
#ifdef FAIRGATE_HAVE_MICROHTTPD
    struct MHD_Daemon *daemon;
    pthread_mutex_t lock; /* conns, stop */
    pthread_cond_t wake;
    struct conn_rec *conns;
    bool stop, watchdog_started;
    pthread_t watchdog;
#endif
    int port;
};

int metrics_port(const struct metrics *m)
{
    return m ? m->port : 0;
}

#ifdef FAIRGATE_HAVE_MICROHTTPD

/* Renders into a heap buffer that grows to fit; MHD frees it. */
static char *render_alloc(const struct metrics_snapshot *s, bool json, size_t *out_len)
{
    size_t cap = 16384;
    for (int tries = 0; tries < 4; tries++) {
        char *b = malloc(cap);
        if (!b)
            return NULL;
        size_t n = json ? metrics_render_status_json(s, b, cap) : metrics_render(s, b, cap);
        if (n < cap) {
            *out_len = n;
            return b;
        }
        free(b);
        cap = n + 1;
    }
    return NULL;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned code, const char *type, char *body,
                             size_t len, enum MHD_ResponseMemoryMode mode)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
    if (!r) {
        if (mode == MHD_RESPMEM_MUST_FREE)
            free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    enum MHD_Result ret = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct metrics *m = cls;
    (void)version;
    (void)upload_data;
    if (strcmp(method, "GET") && strcmp(method, "HEAD"))
        return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", "GET only\n", 9,
                     MHD_RESPMEM_PERSISTENT);
    if (*upload_data_size)
        return MHD_NO; /* a GET with a body: drop the connection */
    if (!*con_cls) {   /* first call per request: headers only */
        *con_cls = (void *)1;
        return MHD_YES;
    }
    bool json = !strcmp(url, "/status");
    if (!json && strcmp(url, "/metrics"))
        return reply(c, MHD_HTTP_NOT_FOUND, "text/plain", "try /metrics or /status\n", 24,
                     MHD_RESPMEM_PERSISTENT);
    struct metrics_snapshot *s = calloc(1, sizeof *s);
    if (!s)
        return MHD_NO;
    m->fill(m->ctx, s);
    size_t n = 0;
    char *body = render_alloc(s, json, &n);
    free(s);
    if (!body)
        return MHD_NO;
    return reply(c, MHD_HTTP_OK,
                 json ? "application/json" : "text/plain; version=0.0.4; charset=utf-8", body, n,
                 MHD_RESPMEM_MUST_FREE);
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    struct metrics *m = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        struct conn_rec *r = calloc(1, sizeof *r);
        if (!r)
            return;
        r->fd = ci ? fcntl(ci->connect_fd, F_DUPFD_CLOEXEC, 0) : -1;
        if (r->fd < 0) {
            /* cannot watch it: do not serve it either */
            if (ci)
                shutdown(ci->connect_fd, SHUT_RDWR);
            free(r);
            return;
        }
        r->deadline_ms = fg_monotonic_ms() + METRICS_DEADLINE_MS;
        pthread_mutex_lock(&m->lock);
        r->next = m->conns;
        if (m->conns)
            m->conns->prev = r;
        m->conns = r;
        pthread_mutex_unlock(&m->lock);
        *socket_context = r;
    } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED && *socket_context) {
        struct conn_rec *r = *socket_context;
        pthread_mutex_lock(&m->lock);
        if (r->prev)
            r->prev->next = r->next;
        else
            m->conns = r->next;
        if (r->next)
            r->next->prev = r->prev;
        pthread_mutex_unlock(&m->lock);
        close(r->fd);
        free(r);
        *socket_context = NULL;
    }
}

/* A request answered: the next one on this connection gets a fresh deadline. */
static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct metrics *m = cls;
    (void)con_cls;
    (void)toe;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    struct conn_rec *r = ci ? ci->socket_context : NULL;
    if (!r)
        return;
    pthread_mutex_lock(&m->lock);
    r->deadline_ms = fg_monotonic_ms() + METRICS_DEADLINE_MS;
    pthread_mutex_unlock(&m->lock);
}

static void *watchdog(void *arg)
{
    struct metrics *m = arg;
    pthread_mutex_lock(&m->lock);
    while (!m->stop) {
        int64_t now = fg_monotonic_ms();
        for (struct conn_rec *r = m->conns; r; r = r->next)
            if (now > r->deadline_ms) {
                shutdown(r->fd, SHUT_RDWR); /* MHD sees EOF and closes it */
                r->deadline_ms = INT64_MAX;
            }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 200 * 1000000L;
        ts.tv_sec += ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&m->wake, &m->lock, &ts);
    }
    pthread_mutex_unlock(&m->lock);
    return NULL;
}

fg_err metrics_start(const char *bind_addr, int port, metrics_fill_fn fill, void *ctx,
                     struct metrics **out, char *why, size_t why_len)
{
    *out = NULL;
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD;
    if (port < 0 || port > 65535) {
        snprintf(why, why_len, "metrics port %d is not a port", port);
        return FG_ERR_CONFIG;
    }
    struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, bind_addr, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
    } else if (inet_pton(AF_INET6, bind_addr, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        flags |= MHD_USE_IPv6;
    } else {
        snprintf(why, why_len, "metrics.bind '%s' must be an IP address such as 127.0.0.1 or ::1",
                 bind_addr);
        return FG_ERR_CONFIG;
    }
    struct metrics *m = calloc(1, sizeof *m);
    if (!m)
        return FG_ERR_NOMEM;
    m->fill = fill;
    m->ctx = ctx;
    pthread_mutex_init(&m->lock, NULL);
    pthread_cond_init(&m->wake, NULL);
    /* Few, short connections: a scraper, perhaps a person with curl. */
    m->daemon = MHD_start_daemon(
        flags, (uint16_t)port, NULL, NULL, on_request, m, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&ss, MHD_OPTION_CONNECTION_LIMIT, METRICS_MAX_CONNECTIONS,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, METRICS_MAX_PER_IP, MHD_OPTION_CONNECTION_TIMEOUT,
        METRICS_IDLE_TIMEOUT_S, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32768,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, m, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
        m, MHD_OPTION_END);
    if (m->daemon && pthread_create(&m->watchdog, NULL, watchdog, m) == 0)
        m->watchdog_started = true;
    if (!m->watchdog_started) {
        snprintf(why, why_len,
                 "cannot serve metrics on %s port %d (in use, or not an address "
                 "of this machine)",
                 bind_addr, port);
        metrics_stop(m);
        return FG_ERR_IO;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(m->daemon, MHD_DAEMON_INFO_BIND_PORT);
    m->port = info ? info->port : port;
    *out = m;
    return FG_OK;
}

void metrics_stop(struct metrics *m)
{
    if (!m)
        return;
    if (m->watchdog_started) {
        pthread_mutex_lock(&m->lock);
        m->stop = true;
        pthread_cond_signal(&m->wake);
        pthread_mutex_unlock(&m->lock);
        pthread_join(m->watchdog, NULL);
    }
    if (m->daemon)
        MHD_stop_daemon(m->daemon); /* closes the rest: on_connection frees their records */
    pthread_cond_destroy(&m->wake);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

#else /* built without libmicrohttpd */

fg_err metrics_start(const char *bind_addr, int port, metrics_fill_fn fill, void *ctx,
                     struct metrics **out, char *why, size_t why_len)
{
    (void)bind_addr;
    (void)port;
    (void)fill;
    (void)ctx;
    *out = NULL;
    snprintf(why, why_len, "this fairgate was built without libmicrohttpd: metrics.port must be 0");
    return FG_ERR_CONFIG;
}

void metrics_stop(struct metrics *m)
{
    free(m);
}

#endif
