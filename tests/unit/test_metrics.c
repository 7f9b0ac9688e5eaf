/* Metrics: the Prometheus text, the status JSON, the latency histogram under
 * threads, and the HTTP endpoint on a real loopback socket. */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gateway/metrics.h"

static void sample(struct metrics_snapshot *s)
{
    memset(s, 0, sizeof *s);
    s->now_ms = 1767225600000LL; /* 2026-01-01T00:00:00Z */
    s->started_ms = s->now_ms - 3600000;
    strcpy(s->version, "0.1.0");
    strcpy(s->site, "plant \"7\"");
    s->inputs = 42;
    s->queued = 30;
    s->sent = 29;
    s->nreasons = 2;
    strcpy(s->rejected[0].name, "malformed payload");
    s->rejected[0].count = 3;
    strcpy(s->rejected[1].name, "no route for sensor type");
    s->rejected[1].count = 9;
    s->nroutes = 2;
    strcpy(s->routes[0].name, "occupancy");
    s->routes[0].matched = 40;
    s->routes[0].groups_suppressed = 4;
    s->routes[0].groups_secondary = 1;
    strcpy(s->routes[1].name, "we\"ird\\route");
    s->outbox_messages = 7;
    s->outbox_bytes = 2048;
    s->outbox_oldest_age_ms = 1500;
    s->retention_deleted = 2;
    s->upstream.connected = true;
    s->upstream.connects = 3;
    s->upstream.losses = 2;
    s->upstream.cert_days_left = 12;
    s->local.cert_days_left = -1;
    s->policy_loaded = true;
    strcpy(s->policy_name, "factory-default");
    s->policy_version = 3;
    s->policy_valid_until_s = 1814313600; /* 2027-06-30 */
}

static char *render(const struct metrics_snapshot *s)
{
    size_t n = metrics_render(s, NULL, 0);
    char *b = malloc(n + 1);
    assert_non_null(b);
    assert_int_equal(metrics_render(s, b, n + 1), n);
    assert_int_equal(strlen(b), n);
    return b;
}

static void prometheus_text_has_every_family(void **state)
{
    (void)state;
    struct metrics_snapshot s;
    sample(&s);
    char *t = render(&s);
    const char *want[] = {
        "fairgate_build_info{version=\"0.1.0\"} 1\n",
        "fairgate_inputs_total 42\n",
        "# TYPE fairgate_inputs_total counter\n",
        "fairgate_inputs_rejected_total{reason=\"malformed_payload\"} 3\n",
        "fairgate_inputs_rejected_total{reason=\"no_route_for_sensor_type\"} 9\n",
        "fairgate_messages_sent_total 29\n",
        "fairgate_route_records_total{route=\"occupancy\"} 40\n",
        "fairgate_route_groups_suppressed_total{route=\"occupancy\",kind=\"min_group\"} 4\n",
        "fairgate_route_groups_suppressed_total{route=\"occupancy\",kind=\"secondary\"} 1\n",
        "fairgate_route_records_total{route=\"we\\\"ird\\\\route\"} 0\n",
        "fairgate_outbox_messages 7\n",
        "fairgate_outbox_bytes 2048\n",
        "fairgate_outbox_oldest_age_seconds 1.500\n",
        "fairgate_outbox_retention_deleted_total 2\n",
        "fairgate_link_up{link=\"upstream\"} 1\n",
        "fairgate_link_up{link=\"local\"} 0\n",
        "fairgate_link_connects_total{link=\"upstream\"} 3\n",
        "fairgate_link_losses_total{link=\"upstream\"} 2\n",
        "fairgate_tls_client_certificate_expiry_days{link=\"upstream\"} 12\n",
        "fairgate_publish_latency_seconds_bucket{le=\"+Inf\"} 0\n",
        "fairgate_policy_info{policy=\"factory-default\",version=\"3\"} 1\n",
        "fairgate_policy_valid_until_seconds 1814313600\n",
        "fairgate_policy_expired 0\n",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strstr(t, want[i]))
            fail_msg("missing: %s\nin:\n%s", want[i], t);
    assert_null(strstr(t, "{link=\"local\"} -1")); /* no certificate: no sample */
    /* Every non-comment line is NAME[{labels}] VALUE: one space, no blank lines. */
    for (char *line = strtok(t, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == '#')
            continue;
        assert_true(!strncmp(line, "fairgate_", 9));
        char *sp = strrchr(line, ' ');
        assert_non_null(sp);
        char *end;
        strtod(sp + 1, &end);
        if (*end)
            fail_msg("value not a number: %s", line);
    }
    free(t);
}

static void no_policy_no_policy_series(void **state)
{
    (void)state;
    struct metrics_snapshot s;
    sample(&s);
    s.policy_loaded = false;
    char *t = render(&s);
    assert_non_null(strstr(t, "fairgate_policy_loaded 0\n"));
    assert_null(strstr(t, "fairgate_policy_info"));
    free(t);
    sample(&s);
    s.policy_valid_until_s = 0;
    t = render(&s);
    assert_non_null(strstr(t, "fairgate_policy_valid_until_seconds +Inf\n"));
    free(t);
}

static void render_truncates_like_snprintf(void **state)
{
    (void)state;
    struct metrics_snapshot s;
    sample(&s);
    size_t need = metrics_render(&s, NULL, 0);
    assert_true(need > 1000);
    char small[100];
    memset(small, 'x', sizeof small);
    assert_int_equal(metrics_render(&s, small, sizeof small), need);
    assert_int_equal(strlen(small), sizeof small - 1);
    need = metrics_render_status_json(&s, NULL, 0);
    assert_int_equal(metrics_render_status_json(&s, small, sizeof small), need);
    assert_int_equal(strlen(small), sizeof small - 1);
}

static void status_json_is_json(void **state)
{
    (void)state;
    struct metrics_snapshot s;
    sample(&s);
    char buf[4096];
    assert_true(metrics_render_status_json(&s, buf, sizeof buf) < sizeof buf);
    cJSON *j = cJSON_Parse(buf);
    if (!j)
        fail_msg("not JSON: %s", buf);
    assert_string_equal(cJSON_GetObjectItem(j, "state")->valuestring, "ok");
    assert_string_equal(cJSON_GetObjectItem(j, "site")->valuestring, "plant \"7\"");
    assert_string_equal(cJSON_GetObjectItem(j, "time")->valuestring, "2026-01-01T00:00:00Z");
    cJSON *p = cJSON_GetObjectItem(j, "policy");
    assert_string_equal(cJSON_GetObjectItem(p, "name")->valuestring, "factory-default");
    assert_string_equal(cJSON_GetObjectItem(p, "valid_until")->valuestring, "2027-06-30T00:00:00Z");
    cJSON *up = cJSON_GetObjectItem(j, "upstream");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(up, "connected")));
    assert_int_equal(cJSON_GetObjectItem(up, "certificate_days_left")->valueint, 12);
    assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "local"), "certificate_days_left"));
    cJSON *c = cJSON_GetObjectItem(j, "counters");
    assert_int_equal(cJSON_GetObjectItem(c, "rejected")->valueint, 12);
    assert_int_equal(
        cJSON_GetObjectItem(cJSON_GetObjectItem(j, "outbox"), "oldest_age_s")->valueint, 1);
    cJSON_Delete(j);

    s.upstream.connected = false;
    metrics_render_status_json(&s, buf, sizeof buf);
    assert_non_null(strstr(buf, "\"state\":\"upstream-down\""));
    s.policy_expired = true;
    metrics_render_status_json(&s, buf, sizeof buf);
    assert_non_null(strstr(buf, "\"state\":\"no-policy\""));
}

static void histogram_buckets_are_inclusive_and_cumulative(void **state)
{
    (void)state;
    static struct metrics_histogram h;
    metrics_observe_latency(&h, 500);      /* <= 1 ms */
    metrics_observe_latency(&h, 1000);     /* <= 1 ms: upper bounds are inclusive */
    metrics_observe_latency(&h, 1001);     /* <= 2.5 ms */
    metrics_observe_latency(&h, -5);       /* clock oddity: counted as 0 */
    metrics_observe_latency(&h, 60000000); /* a minute: +Inf only */
    struct metrics_snapshot s;
    sample(&s);
    metrics_histogram_read(&h, &s.latency);
    assert_int_equal(s.latency.count, 5);
    assert_int_equal(s.latency.bucket[0], 3);
    assert_int_equal(s.latency.bucket[1], 1);
    assert_int_equal(s.latency.bucket[METRICS_LATENCY_BUCKETS], 1);
    assert_int_equal(s.latency.sum_us, 500 + 1000 + 1001 + 60000000);
    char *t = render(&s);
    assert_non_null(strstr(t, "fairgate_publish_latency_seconds_bucket{le=\"0.001\"} 3\n"));
    assert_non_null(strstr(t, "fairgate_publish_latency_seconds_bucket{le=\"0.0025\"} 4\n"));
    assert_non_null(strstr(t, "fairgate_publish_latency_seconds_bucket{le=\"10\"} 4\n"));
    assert_non_null(strstr(t, "fairgate_publish_latency_seconds_bucket{le=\"+Inf\"} 5\n"));
    assert_non_null(strstr(t, "fairgate_publish_latency_seconds_count 5\n"));
    assert_non_null(strstr(t, "fairgate_publish_latency_seconds_sum 60.002501\n"));
    free(t);
}

static struct metrics_histogram shared;

static void *observer(void *arg)
{
    (void)arg;
    for (int i = 0; i < 20000; i++)
        metrics_observe_latency(&shared, i % 3000);
    return NULL;
}

static void histogram_is_thread_safe(void **state)
{
    (void)state;
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, observer, NULL), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    struct metrics_histogram_snapshot s;
    metrics_histogram_read(&shared, &s);
    assert_int_equal(s.count, 80000);
}

static void fill(void *ctx, struct metrics_snapshot *s)
{
    (*(int *)ctx)++;
    struct metrics_snapshot x;
    sample(&x);
    *s = x;
}

/* One HTTP/1.0 request; returns the whole response (headers and body). */
static char *http(int port, const char *request)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(write(fd, request, strlen(request)), (ssize_t)strlen(request));
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap);
    ssize_t r;
    while ((r = read(fd, b + n, cap - 1 - n)) > 0)
        n += (size_t)r;
    b[n] = '\0';
    close(fd);
    return b;
}

static void http_endpoint_serves_metrics_and_status(void **state)
{
    (void)state;
    int calls = 0;
    struct metrics *m = NULL;
    char why[256] = "";
    fg_err e = metrics_start("127.0.0.1", 0, fill, &calls, &m, why, sizeof why);
#ifndef FAIRGATE_HAVE_MICROHTTPD
    assert_int_equal(e, FG_ERR_CONFIG);
    assert_non_null(strstr(why, "libmicrohttpd"));
    skip();
#endif
    if (e)
        fail_msg("metrics_start: %s", why);
    int port = metrics_port(m);
    assert_true(port > 0);
    char *r = http(port, "GET /metrics HTTP/1.0\r\n\r\n");
    assert_true(!strncmp(r, "HTTP/1.0 200", 12) || !strncmp(r, "HTTP/1.1 200", 12));
    assert_non_null(strstr(r, "text/plain; version=0.0.4"));
    assert_non_null(strstr(r, "\r\n\r\n# HELP fairgate_build_info"));
    assert_non_null(strstr(r, "fairgate_inputs_total 42\n"));
    free(r);
    r = http(port, "GET /status HTTP/1.0\r\n\r\n");
    assert_non_null(strstr(r, "application/json"));
    cJSON *j = cJSON_Parse(strstr(r, "\r\n\r\n") + 4);
    assert_non_null(j);
    cJSON_Delete(j);
    free(r);
    r = http(port, "GET /secret HTTP/1.0\r\n\r\n");
    assert_non_null(strstr(r, " 404 "));
    free(r);
    r = http(port, "DELETE /metrics HTTP/1.0\r\n\r\n");
    assert_non_null(strstr(r, " 405 "));
    free(r);
    assert_int_equal(calls, 2);
    metrics_stop(m);
}

#ifdef FAIRGATE_HAVE_MICROHTTPD
static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A connection from source address src (127.x.y.z: all loopback) to the server. */
static int connect_from(const char *src, int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    assert_true(fd >= 0);
    struct sockaddr_in s = {.sin_family = AF_INET};
    inet_pton(AF_INET, src, &s.sin_addr);
    assert_int_equal(bind(fd, (struct sockaddr *)&s, sizeof s), 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    connect(fd, (struct sockaddr *)&a, sizeof a); /* EINPROGRESS; loopback completes at once */
    return fd;
}

/* The normal client: a GET from 127.0.0.2 that must be answered within limit_ms,
 * retrying while the server turns it away. Returns the time it took. */
static int64_t scrape(int port, int64_t limit_ms)
{
    int64_t t0 = mono_ms();
    while (mono_ms() - t0 < limit_ms) {
        int fd = connect_from("127.0.0.2", port);
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        poll(&p, 1, 1000);
        const char *req = "GET /metrics HTTP/1.0\r\n\r\n";
        if (write(fd, req, strlen(req)) == (ssize_t)strlen(req)) {
            char buf[64] = "";
            size_t n = 0;
            p.events = POLLIN;
            while (n < 12 && mono_ms() - t0 < limit_ms && poll(&p, 1, 100) >= 0) {
                ssize_t r = read(fd, buf + n, sizeof buf - 1 - n);
                if (r == 0 || (r < 0 && errno != EAGAIN))
                    break;
                n += r > 0 ? (size_t)r : 0;
            }
            close(fd);
            if (n >= 12 && strstr(buf, " 200"))
                return mono_ms() - t0;
        } else {
            close(fd);
        }
        struct timespec ts = {0, 50000000L};
        nanosleep(&ts, NULL);
    }
    return -1;
}

struct loris {
    int fd[64];
    int64_t opened[64];
    size_t n;
    int64_t longest_ms; /* the longest any connection was held open */
    size_t cut;         /* connections the server closed */
};

/* Trickles one header byte into every open connection; notes the ones the server cut. */
static void trickle(struct loris *l)
{
    for (size_t i = 0; i < l->n; i++) {
        if (l->fd[i] < 0)
            continue;
        char b;
        ssize_t r = recv(l->fd[i], &b, 1, MSG_DONTWAIT);
        if (r == 0 || (r < 0 && errno != EAGAIN) ||
            send(l->fd[i], "X", 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
            int64_t held = mono_ms() - l->opened[i];
            if (held > l->longest_ms)
                l->longest_ms = held;
            close(l->fd[i]);
            l->fd[i] = -1;
            l->cut++;
        }
    }
}

static void open_loris(struct loris *l, const char *src, int port)
{
    int fd = connect_from(src, port);
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    poll(&p, 1, 1000);
    const char *start = "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ";
    if (write(fd, start, strlen(start)) < 0) {
        close(fd);
        fd = -1;
    }
    l->opened[l->n] = mono_ms();
    l->fd[l->n++] = fd;
}

/* Slowloris: clients that send a header byte now and then must not block a scraper.
 * 8 from one address (the per-address cap turns half away), then 32 from 8
 * addresses (every slot taken): the scraper is served within the deadline, and no
 * trickling connection lives much past it. */
static void slow_clients_do_not_block_a_scraper(void **state)
{
    (void)state;
    int calls = 0;
    struct metrics *m = NULL;
    char why[256] = "";
    assert_int_equal(metrics_start("127.0.0.1", 0, fill, &calls, &m, why, sizeof why), FG_OK);
    int port = metrics_port(m);

    struct loris l = {.n = 0};
    for (int i = 0; i < 8; i++)
        open_loris(&l, "127.0.0.1", port);
    int64_t t0 = mono_ms();
    while (mono_ms() - t0 < 7000) {
        trickle(&l);
        int64_t took = scrape(port, 2000);
        print_message("    scrape beside 8 slow clients: %lld ms\n", (long long)took);
        assert_true(took >= 0);
        struct timespec ts = {0, 400000000L};
        nanosleep(&ts, NULL);
    }
    trickle(&l);
    assert_true(l.cut >= 8); /* half turned away at once, the rest cut at the deadline */
    for (size_t i = 0; i < l.n; i++)
        if (l.fd[i] >= 0)
            close(l.fd[i]);

    struct loris f = {.n = 0};
    char src[32];
    for (int a = 0; a < 8; a++)
        for (int i = 0; i < 4; i++) {
            snprintf(src, sizeof src, "127.0.1.%d", 10 + a);
            open_loris(&f, src, port);
        }
    trickle(&f);
    int64_t took = scrape(port, 8000);
    print_message("    scrape with every slot taken by slow clients: %lld ms\n", (long long)took);
    assert_true(took >= 0 && took < 7000);
    t0 = mono_ms();
    while (mono_ms() - t0 < 7000 && f.cut < f.n) {
        trickle(&f);
        struct timespec ts = {0, 200000000L};
        nanosleep(&ts, NULL);
    }
    assert_int_equal(f.cut, f.n);
    print_message("    longest slow connection: %lld ms\n", (long long)f.longest_ms);
    assert_true(f.longest_ms < 7000);
    metrics_stop(m);
}
#endif

static void bad_bind_address_is_a_config_error(void **state)
{
    (void)state;
    struct metrics *m = (struct metrics *)1;
    char why[256] = "";
    assert_int_equal(metrics_start("localhost", 9100, fill, NULL, &m, why, sizeof why),
                     FG_ERR_CONFIG);
    assert_null(m);
    assert_true(why[0] != '\0');
#ifdef FAIRGATE_HAVE_MICROHTTPD
    assert_non_null(strstr(why, "must be an IP address"));
    /* The port is taken: an I/O error that names it. */
    struct metrics *a = NULL, *b = NULL;
    int calls = 0;
    assert_int_equal(metrics_start("127.0.0.1", 0, fill, &calls, &a, why, sizeof why), FG_OK);
    char port[16];
    snprintf(port, sizeof port, "%d", metrics_port(a));
    assert_int_equal(metrics_start("127.0.0.1", metrics_port(a), fill, &calls, &b, why, sizeof why),
                     FG_ERR_IO);
    assert_non_null(strstr(why, port));
    metrics_stop(a);
#endif
    metrics_stop(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(prometheus_text_has_every_family),
        cmocka_unit_test(no_policy_no_policy_series),
        cmocka_unit_test(render_truncates_like_snprintf),
#ifdef FAIRGATE_HAVE_MICROHTTPD
        cmocka_unit_test(slow_clients_do_not_block_a_scraper),
#endif
        cmocka_unit_test(status_json_is_json),
        cmocka_unit_test(histogram_buckets_are_inclusive_and_cumulative),
        cmocka_unit_test(histogram_is_thread_safe),
        cmocka_unit_test(http_endpoint_serves_metrics_and_status),
        cmocka_unit_test(bad_bind_address_is_a_config_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
