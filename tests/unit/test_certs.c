/* certs/: site CA, issuing per kind, inspect, verify, pre-flight and broker-config,
 * all in a temporary directory through the library API. */
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "certs/certs.h"
#include "common/fg_util.h"

#define DAY_MS (86400LL * 1000)

static char dir[256];
static char path_buf[32][512];
static int path_next;

/* Small rotating pool so a test can hold a few paths at once. */
static const char *P(const char *fmt, ...)
{
    char *buf = path_buf[path_next++ % 32];
    int n = snprintf(buf, 512, "%s/", dir);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + n, 512 - (size_t)n, fmt, ap);
    va_end(ap);
    return buf;
}

static void issue_ok(enum certs_kind kind, const char *name, const char *out, bool server_auth,
                     const char *dns)
{
    char why[512] = "";
    struct certs_issue_req req = {
        .ca_dir = P("ca"),
        .kind = kind,
        .name = name,
        .out_dir = out,
        .server_auth = server_auth,
        .sensor_type = kind == CERTS_KIND_SENSOR ? "environment" : NULL,
    };
    if (dns)
        req.dns[req.n_dns++] = dns;
    if (kind == CERTS_KIND_BROKER)
        req.ip[req.n_ip++] = "127.0.0.1";
    fg_err e = certs_issue(&req, why, sizeof why);
    if (e != FG_OK)
        print_error("issue %s: %s\n", name, why);
    assert_int_equal(e, FG_OK);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "%s/fairgate-certs-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(dir))
        return -1;
    char why[512];
    struct certs_ca_req ca = {.site = "unit site", .out_dir = P("ca")};
    if (certs_init_ca(&ca, why, sizeof why) != FG_OK) {
        fprintf(stderr, "init-ca: %s\n", why);
        return -1;
    }
    struct certs_ca_req other = {.site = "other site", .out_dir = P("other-ca")};
    if (certs_init_ca(&other, why, sizeof why) != FG_OK)
        return -1;
    issue_ok(CERTS_KIND_SENSOR, "sensor-001", P("sensors"), false, NULL);
    issue_ok(CERTS_KIND_SENSOR, "sensor-002", P("sensors"), false, NULL);
    issue_ok(CERTS_KIND_GATEWAY, "fairgate-gateway", NULL, true, NULL);
    issue_ok(CERTS_KIND_BROKER, "mqtt.test", NULL, false, "localhost");
    issue_ok(CERTS_KIND_WORKS_COUNCIL, "works-council", NULL, false, NULL);
    return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int teardown(void **state)
{
    (void)state;
    return nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void test_keys_are_mode_0600(void **state)
{
    (void)state;
    const char *keys[] = {"ca/ca.key",
                          "sensors/sensor-001.key",
                          "sensors/sensor-002.key",
                          "ca/fairgate-gateway.key",
                          "ca/mqtt.test.key",
                          "ca/works-council.key"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        struct stat st;
        assert_int_equal(stat(P("%s", keys[i]), &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
    }
    struct stat st;
    assert_int_equal(stat(P("ca/ca.crt"), &st), 0);
    assert_int_equal(stat(P("sensors/sensor-001.crt"), &st), 0);
}

static void test_inspect_shows_kind_usage_and_san(void **state)
{
    (void)state;
    struct certs_info i;
    char why[512];
    assert_int_equal(certs_inspect(P("ca/ca.crt"), &i, why, sizeof why), FG_OK);
    assert_true(i.is_ca);
    assert_int_equal(i.kind, CERTS_KIND_CA);
    assert_string_equal(i.key_usage, "keyCertSign, cRLSign");
    assert_string_equal(i.ext_key_usage, "");
    int days = (int)((i.not_after_ms - fg_now_ms()) / DAY_MS);
    assert_true(days >= 3648 && days <= 3650);

    assert_int_equal(certs_inspect(P("sensors/sensor-001.crt"), &i, why, sizeof why), FG_OK);
    assert_false(i.is_ca);
    assert_int_equal(i.kind, CERTS_KIND_SENSOR);
    assert_string_equal(i.cn, "sensor-001");
    assert_string_equal(i.subject,
                        "O=unit site, OU=sensor, title=sensor-type:environment, CN=sensor-001");
    assert_string_equal(i.issuer, "O=unit site, OU=ca, CN=fairgate unit site CA");
    assert_string_equal(i.key_usage, "digitalSignature");
    assert_string_equal(i.ext_key_usage, "clientAuth");
    assert_string_equal(i.san, "");
    assert_int_equal(strlen(i.sha256), 95);
    days = (int)((i.not_after_ms - fg_now_ms()) / DAY_MS);
    assert_true(days >= 396 && days <= 397);

    assert_int_equal(certs_inspect(P("ca/mqtt.test.crt"), &i, why, sizeof why), FG_OK);
    assert_int_equal(i.kind, CERTS_KIND_BROKER);
    assert_string_equal(i.ext_key_usage, "serverAuth");
    assert_string_equal(i.san, "DNS:mqtt.test, DNS:localhost, IP:127.0.0.1");

    assert_int_equal(certs_inspect(P("ca/fairgate-gateway.crt"), &i, why, sizeof why), FG_OK);
    assert_int_equal(i.kind, CERTS_KIND_GATEWAY);
    assert_string_equal(i.ext_key_usage, "clientAuth, serverAuth");

    assert_int_equal(certs_inspect(P("ca/works-council.crt"), &i, why, sizeof why), FG_OK);
    assert_int_equal(i.kind, CERTS_KIND_WORKS_COUNCIL);
    assert_string_equal(i.ext_key_usage, "clientAuth");

    assert_int_equal(certs_inspect(P("nope.crt"), &i, why, sizeof why), FG_ERR_NOT_FOUND);
    assert_non_null(strstr(why, "does not exist"));
}

static fg_err verify(const char *ca, const char *crt, const char *key, const char *host,
                     enum certs_usage usage, int64_t now, struct certs_report *rep)
{
    struct certs_verify_req req = {.ca_file = ca,
                                   .cert_file = crt,
                                   .key_file = key,
                                   .host = host,
                                   .usage = usage,
                                   .now_ms = now};
    fg_err e = certs_verify(&req, rep);
    for (size_t i = 0; i < rep->n; i++)
        print_message("    problem: %s\n", rep->problem[i].text);
    return e;
}

static void test_verify_accepts_good_certificates(void **state)
{
    (void)state;
    struct certs_report rep;
    int64_t now = fg_now_ms();
    char ca[512];
    snprintf(ca, sizeof ca, "%s", P("ca/ca.crt"));
    assert_int_equal(verify(ca, P("sensors/sensor-001.crt"), P("sensors/sensor-001.key"), NULL,
                            CERTS_USAGE_CLIENT, now, &rep),
                     FG_OK);
    assert_true(rep.days_left >= 396);
    assert_int_equal(verify(ca, P("ca/fairgate-gateway.crt"), P("ca/fairgate-gateway.key"), NULL,
                            CERTS_USAGE_CLIENT, now, &rep),
                     FG_OK);
    assert_int_equal(
        verify(ca, P("ca/fairgate-gateway.crt"), NULL, NULL, CERTS_USAGE_SERVER, now, &rep), FG_OK);
    assert_int_equal(verify(ca, P("ca/mqtt.test.crt"), P("ca/mqtt.test.key"), "localhost",
                            CERTS_USAGE_SERVER, now, &rep),
                     FG_OK);
    assert_int_equal(
        verify(ca, P("ca/mqtt.test.crt"), NULL, "127.0.0.1", CERTS_USAGE_SERVER, now, &rep), FG_OK);
    assert_int_equal(
        verify(ca, P("ca/mqtt.test.crt"), NULL, "MQTT.test", CERTS_USAGE_SERVER, now, &rep), FG_OK);
    assert_int_equal(verify(ca, P("ca/works-council.crt"), P("ca/works-council.key"), NULL,
                            CERTS_USAGE_CLIENT, now, &rep),
                     FG_OK);
}

static void test_verify_rejects_expired_and_future_certificates(void **state)
{
    (void)state;
    char why[512];
    int64_t now = fg_now_ms();
    struct certs_issue_req req = {.ca_dir = P("ca"),
                                  .kind = CERTS_KIND_SENSOR,
                                  .name = "old-sensor",
                                  .out_dir = P("old"),
                                  .not_before_ms = now - 400 * DAY_MS,
                                  .not_after_ms = now - 3 * DAY_MS};
    assert_int_equal(certs_issue(&req, why, sizeof why), FG_OK);
    struct certs_report rep;
    assert_int_equal(verify(P("ca/ca.crt"), P("old/old-sensor.crt"), P("old/old-sensor.key"), NULL,
                            CERTS_USAGE_CLIENT, now, &rep),
                     FG_ERR_EXPIRED);
    assert_int_equal(rep.n, 1);
    assert_non_null(strstr(rep.problem[0].text, "expired on"));
    assert_non_null(strstr(rep.problem[0].text, "3 days ago"));
    assert_int_equal(rep.days_left, -3);

    req.name = "future-sensor";
    req.not_before_ms = now + 10 * DAY_MS;
    req.not_after_ms = now + 20 * DAY_MS;
    assert_int_equal(certs_issue(&req, why, sizeof why), FG_OK);
    assert_int_equal(verify(P("ca/ca.crt"), P("old/future-sensor.crt"), NULL, NULL,
                            CERTS_USAGE_CLIENT, now, &rep),
                     FG_ERR_EXPIRED);
    assert_non_null(strstr(rep.problem[0].text, "is not valid until"));
}

static void test_verify_rejects_certificate_of_another_ca(void **state)
{
    (void)state;
    struct certs_report rep;
    assert_int_equal(verify(P("other-ca/ca.crt"), P("sensors/sensor-001.crt"), NULL, NULL,
                            CERTS_USAGE_CLIENT, fg_now_ms(), &rep),
                     FG_ERR_TLS);
    assert_int_equal(rep.n, 1);
    assert_non_null(strstr(rep.problem[0].text, "was not issued by the CA in"));
}

static void test_verify_rejects_hostname_mismatch(void **state)
{
    (void)state;
    struct certs_report rep;
    assert_int_equal(verify(P("ca/ca.crt"), P("ca/mqtt.test.crt"), NULL, "broker.example.org",
                            CERTS_USAGE_SERVER, fg_now_ms(), &rep),
                     FG_ERR_TLS);
    assert_int_equal(rep.n, 1);
    assert_non_null(strstr(rep.problem[0].text, "is not valid for host broker.example.org"));
    assert_non_null(strstr(rep.problem[0].text, "DNS:localhost"));
    assert_int_equal(verify(P("ca/ca.crt"), P("ca/mqtt.test.crt"), NULL, "10.1.2.3",
                            CERTS_USAGE_SERVER, fg_now_ms(), &rep),
                     FG_ERR_TLS);
}

static void test_verify_rejects_key_of_another_certificate(void **state)
{
    (void)state;
    struct certs_report rep;
    assert_int_equal(verify(P("ca/ca.crt"), P("sensors/sensor-001.crt"),
                            P("sensors/sensor-002.key"), NULL, CERTS_USAGE_CLIENT, fg_now_ms(),
                            &rep),
                     FG_ERR_TLS);
    assert_int_equal(rep.n, 1);
    assert_non_null(strstr(rep.problem[0].text, "does not belong to the certificate"));
}

static void test_verify_rejects_key_readable_by_others(void **state)
{
    (void)state;
    char *key;
    size_t len;
    assert_int_equal(fg_read_file(P("sensors/sensor-001.key"), 4096, &key, &len), FG_OK);
    assert_int_equal(fg_write_file_atomic(P("loose.key"), key, len, 0644), FG_OK);
    free(key);
    struct certs_report rep;
    assert_int_equal(verify(P("ca/ca.crt"), P("sensors/sensor-001.crt"), P("loose.key"), NULL,
                            CERTS_USAGE_CLIENT, fg_now_ms(), &rep),
                     FG_ERR_PERM);
    assert_int_equal(rep.n, 1);
    assert_non_null(strstr(rep.problem[0].text, "readable by others"));
    assert_non_null(strstr(rep.problem[0].text, "chmod 600"));
}

static void test_verify_rejects_wrong_usage(void **state)
{
    (void)state;
    struct certs_report rep;
    assert_int_equal(verify(P("ca/ca.crt"), P("sensors/sensor-001.crt"), NULL, NULL,
                            CERTS_USAGE_SERVER, fg_now_ms(), &rep),
                     FG_ERR_TLS);
    assert_non_null(strstr(rep.problem[0].text, "not allowed for TLS server authentication"));
    assert_int_equal(verify(P("ca/ca.crt"), P("ca/mqtt.test.crt"), NULL, NULL, CERTS_USAGE_CLIENT,
                            fg_now_ms(), &rep),
                     FG_ERR_TLS);
    assert_non_null(strstr(rep.problem[0].text, "not allowed for TLS client authentication"));
}

/* A server certificate signed by the site CA with openssl: KEYSPEC, DIGEST, EXT lines. */
static const char *openssl_server(const char *name, const char *keyspec, const char *digest,
                                  const char *ext)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "cd %s/ca && printf '%s' > %s.cnf && "
             "openssl req -newkey %s -nodes -subj /CN=localhost -keyout %s.key -out %s.csr "
             "2>/dev/null && openssl x509 -req -in %s.csr -CA ca.crt -CAkey ca.key "
             "-CAcreateserial -days 2 -%s -extfile %s.cnf -out %s.crt 2>/dev/null",
             dir, ext, name, keyspec, name, name, name, digest, name, name);
    assert_int_equal(system(cmd), 0);
    return P("ca/%s.crt", name);
}

/* What Paho would accept at OpenSSL level 1 the pre-flight refuses: weak keys, SHA-1
 * signatures, and a server certificate whose CN alone names the host. */
static void test_preflight_refuses_weak_and_sanless_certificates(void **state)
{
    (void)state;
    const char *san = "subjectAltName=DNS:localhost\\nextendedKeyUsage=serverAuth\\n";
    const char *ok = openssl_server("rsa2048", "rsa:2048", "sha256", san);
    const char *rsa1024 = openssl_server("rsa1024", "rsa:1024", "sha256", san);
    const char *sha1 = openssl_server("sha1", "ec -pkeyopt ec_paramgen_curve:P-256", "sha1", san);
    const char *p192 = openssl_server("p192", "ec -pkeyopt ec_paramgen_curve:P-192", "sha256", san);
    const char *nosan = openssl_server("nosan", "ec -pkeyopt ec_paramgen_curve:P-256", "sha256",
                                       "extendedKeyUsage=serverAuth\\n");
    char ca[512];
    snprintf(ca, sizeof ca, "%s", P("ca/ca.crt"));
    int64_t now = fg_now_ms();
    struct certs_preflight_req req = {.ca_file = ca, .hostname = "localhost", .now_ms = now};
    char why[512];
    req.cert_file = ok;
    assert_int_equal(certs_preflight(&req, why, sizeof why), FG_OK);
    req.cert_file = rsa1024;
    assert_int_equal(certs_preflight(&req, why, sizeof why), FG_ERR_TLS);
    assert_non_null(strstr(why, "too weak (this certificate has a RSA key of 1024 bits)"));
    req.cert_file = sha1;
    assert_int_equal(certs_preflight(&req, why, sizeof why), FG_ERR_TLS);
    assert_non_null(strstr(why, "is signed with SHA-1"));
    req.cert_file = p192;
    assert_int_equal(certs_preflight(&req, why, sizeof why), FG_ERR_TLS);
    assert_non_null(strstr(why, "secp192r1"));
    req.cert_file = nosan;
    assert_int_equal(certs_preflight(&req, why, sizeof why), FG_ERR_TLS);
    assert_non_null(strstr(why, "has no subjectAltName"));
    assert_non_null(strstr(why, "CN is never used"));
}

static void test_preflight_reports_one_sentence(void **state)
{
    (void)state;
    char why[512];
    struct certs_preflight_req req = {.ca_file = P("ca/ca.crt"),
                                      .cert_file = P("ca/fairgate-gateway.crt"),
                                      .key_file = P("ca/fairgate-gateway.key"),
                                      .now_ms = fg_now_ms()};
    assert_int_equal(certs_preflight(&req, why, sizeof why), FG_OK);
    assert_true(req.days_left >= 396 && req.days_left <= 397);
    /* 380 days on, the caller would warn. */
    req.now_ms += 380 * DAY_MS;
    assert_int_equal(certs_preflight(&req, why, sizeof why), FG_OK);
    assert_true(req.days_left < 30);

    req.now_ms = fg_now_ms() + 400 * DAY_MS;
    assert_int_equal(certs_preflight(&req, why, sizeof why), FG_ERR_EXPIRED);
    assert_non_null(strstr(why, "expired on"));
    assert_null(strchr(why, '\n'));

    req.now_ms = fg_now_ms();
    req.ca_file = P("missing/ca.crt");
    assert_int_equal(certs_preflight(&req, why, sizeof why), FG_ERR_NOT_FOUND);
    assert_non_null(strstr(why, "does not exist"));
    assert_int_equal(req.days_left >= 396, true);

    req.ca_file = P("other-ca/ca.crt");
    assert_int_equal(certs_preflight(&req, why, sizeof why), FG_ERR_TLS);
    assert_non_null(strstr(why, "was not issued by the CA"));

    req.ca_file = P("ca/ca.crt");
    req.key_file = P("loose.key");
    if (access(req.key_file, F_OK) != 0) {
        char *key;
        size_t len;
        assert_int_equal(fg_read_file(P("sensors/sensor-001.key"), 4096, &key, &len), FG_OK);
        assert_int_equal(fg_write_file_atomic(req.key_file, key, len, 0644), FG_OK);
        free(key);
    }
    assert_int_equal(certs_preflight(&req, why, sizeof why), FG_ERR_PERM);
    assert_non_null(strstr(why, "readable by others"));

    req.key_file = P("sensors/sensor-002.key");
    assert_int_equal(certs_preflight(&req, why, sizeof why), FG_ERR_TLS);
    assert_non_null(strstr(why, "does not belong"));

    req.key_file = P("ca/missing.key");
    assert_int_equal(certs_preflight(&req, why, sizeof why), FG_ERR_NOT_FOUND);
    assert_non_null(strstr(why, "does not exist"));

    struct certs_preflight_req srv = {.ca_file = P("ca/ca.crt"),
                                      .cert_file = P("ca/mqtt.test.crt"),
                                      .hostname = "mqtt.example.org",
                                      .now_ms = fg_now_ms()};
    assert_int_equal(certs_preflight(&srv, why, sizeof why), FG_ERR_TLS);
    assert_non_null(strstr(why, "is not valid for host mqtt.example.org"));
    srv.hostname = "mqtt.test";
    assert_int_equal(certs_preflight(&srv, why, sizeof why), FG_OK);

    struct certs_preflight_req ca_only = {.ca_file = P("ca/ca.crt"), .now_ms = fg_now_ms()};
    assert_int_equal(certs_preflight(&ca_only, why, sizeof why), FG_OK);
    assert_int_equal(ca_only.days_left, -1);
}

static void test_issue_refuses_bad_names_and_overwrites(void **state)
{
    (void)state;
    char why[512];
    const char *bad[] = {"a/b", "raw+", "dev#1", "", ".hidden", "-x", "with space", "ca"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct certs_issue_req req = {.ca_dir = P("ca"), .kind = CERTS_KIND_SENSOR, .name = bad[i]};
        assert_int_equal(certs_issue(&req, why, sizeof why), FG_ERR_CONFIG);
    }
    struct certs_issue_req again = {.ca_dir = P("ca"),
                                    .kind = CERTS_KIND_SENSOR,
                                    .name = "sensor-001",
                                    .out_dir = P("sensors")};
    assert_int_equal(certs_issue(&again, why, sizeof why), FG_ERR_CONFIG);
    assert_non_null(strstr(why, "--force"));
    struct certs_ca_req ca = {.site = "unit site", .out_dir = P("ca")};
    assert_int_equal(certs_init_ca(&ca, why, sizeof why), FG_ERR_CONFIG);
    struct certs_issue_req ip = {.ca_dir = P("ca"),
                                 .kind = CERTS_KIND_BROKER,
                                 .name = "b2",
                                 .ip = {"999.1.1.1"},
                                 .n_ip = 1,
                                 .out_dir = P("tmp")};
    assert_int_equal(certs_issue(&ip, why, sizeof why), FG_ERR_CONFIG);
}

static char *slurp(const char *path)
{
    char *buf;
    assert_int_equal(fg_read_file(path, 1 << 20, &buf, NULL), FG_OK);
    return buf;
}

static void test_broker_config_writes_mutual_tls_and_acl(void **state)
{
    (void)state;
    char why[512];
    /* A sensor of a foreign CA in the sensors directory must not get an ACL entry. */
    struct certs_issue_req foreign = {.ca_dir = P("other-ca"),
                                      .kind = CERTS_KIND_SENSOR,
                                      .name = "intruder",
                                      .out_dir = P("sensors")};
    assert_int_equal(certs_issue(&foreign, why, sizeof why), FG_OK);
    struct certs_broker_req req = {.sensors_dir = P("sensors"),
                                   .ca_dir = P("ca"),
                                   .out_path = P("broker/mosquitto.conf"),
                                   .port = 18883,
                                   .consumers = {"dashboard"},
                                   .n_consumers = 1,
                                   .now_ms = fg_now_ms()};
    size_t n = 0;
    fg_err e = certs_broker_config(&req, &n, why, sizeof why);
    if (e != FG_OK)
        print_error("broker-config: %s\n", why);
    assert_int_equal(e, FG_OK);
    assert_int_equal(n, 2);
    char *conf = slurp(P("broker/mosquitto.conf"));
    char *acl = slurp(P("broker/mosquitto.acl"));
    assert_non_null(strstr(conf, "listener 18883 127.0.0.1\n"));
    assert_non_null(strstr(conf, "require_certificate true\n"));
    assert_non_null(strstr(conf, "use_identity_as_username true\n"));
    assert_non_null(strstr(conf, "allow_anonymous false\n"));
    assert_non_null(strstr(conf, "/broker.crt\n"));
    assert_non_null(strstr(conf, "mosquitto.acl\n"));
    assert_null(strstr(conf, "allow_anonymous true"));
    assert_non_null(strstr(acl, "user fairgate-gateway\ntopic read raw/#\ntopic write site/#\n"
                                "topic write fairgate/#\n"));
    assert_non_null(strstr(acl, "user sensor-001\ntopic write raw/environment/sensor-001\n"));
    assert_non_null(strstr(acl, "user sensor-002\ntopic write raw/environment/sensor-002\n"));
    assert_null(strstr(acl, "raw/+/"));
    assert_non_null(strstr(conf, "use_username_as_clientid true\n"));
    assert_non_null(strstr(acl, "user dashboard\ntopic read site/#\n"));
    assert_null(strstr(acl, "intruder"));
    assert_null(strstr(acl, "pattern"));
    free(conf);
    free(acl);

    struct certs_info info;
    assert_int_equal(certs_inspect(P("ca/broker.crt"), &info, why, sizeof why), FG_OK);
    assert_string_equal(info.san, "DNS:broker, DNS:localhost, IP:127.0.0.1");
    assert_string_equal(info.ext_key_usage, "serverAuth");

    req.consumers[0] = "sensor-001";
    assert_int_equal(certs_broker_config(&req, &n, why, sizeof why), FG_ERR_CONFIG);
}

/* mosquitto knows clients by CN only: a name belongs to one kind, gateway names are
 * reserved, and a hub is never the gateway or a consumer. */
static void test_names_belong_to_one_kind(void **state)
{
    (void)state;
    char why[512];
    struct certs_issue_req r = {.ca_dir = P("ca"),
                                .kind = CERTS_KIND_SENSOR,
                                .name = "fairgate-gateway",
                                .sensor_type = "uwb-badge",
                                .out_dir = P("kinds")};
    assert_int_equal(certs_issue(&r, why, sizeof why), FG_ERR_CONFIG);
    assert_non_null(strstr(why, "reserved for gateway certificates"));
    r.name = "fairgate-anything";
    assert_int_equal(certs_issue(&r, why, sizeof why), FG_ERR_CONFIG);
    struct certs_issue_req g = {
        .ca_dir = P("ca"), .kind = CERTS_KIND_GATEWAY, .name = "gw-lab", .out_dir = P("kinds")};
    assert_int_equal(certs_issue(&g, why, sizeof why), FG_OK);
    assert_int_equal(certs_issued_kind(P("ca"), "gw-lab"), CERTS_KIND_GATEWAY);
    r.name = "gw-lab";
    assert_int_equal(certs_issue(&r, why, sizeof why), FG_ERR_CONFIG);
    assert_non_null(strstr(why, "already issued for a gateway certificate"));
    g.sensor_type = "uwb-badge"; /* only sensors have a type */
    g.overwrite = true;
    assert_int_equal(certs_issue(&g, why, sizeof why), FG_ERR_CONFIG);
    r.name = "env-7";
    r.sensor_type = "environment";
    assert_int_equal(certs_issue(&r, why, sizeof why), FG_OK);
    struct certs_info info;
    assert_int_equal(certs_inspect(P("kinds/env-7.crt"), &info, why, sizeof why), FG_OK);
    assert_int_equal(info.kind, CERTS_KIND_SENSOR);
    assert_string_equal(info.sensor_type, "environment");
    assert_non_null(strstr(info.subject, "title=sensor-type:environment"));
    r.name = "badge-hub"; /* a hub: no type of its own */
    r.sensor_type = NULL;
    assert_int_equal(certs_issue(&r, why, sizeof why), FG_OK);
    r.name = "untyped-7";
    assert_int_equal(certs_issue(&r, why, sizeof why), FG_OK);

    struct certs_broker_req b = {.sensors_dir = P("kinds"),
                                 .ca_dir = P("ca"),
                                 .out_path = P("kinds-broker/m.conf"),
                                 .consumers = {"dashboard"},
                                 .n_consumers = 1,
                                 .hubs = {"fairgate-gateway=uwb-badge"},
                                 .n_hubs = 1,
                                 .now_ms = fg_now_ms()};
    size_t n;
    assert_int_equal(certs_broker_config(&b, &n, why, sizeof why), FG_ERR_CONFIG);
    b.hubs[0] = "dashboard=uwb-badge";
    assert_int_equal(certs_broker_config(&b, &n, why, sizeof why), FG_ERR_CONFIG);
    b.hubs[0] = "gw-lab=uwb-badge";
    assert_int_equal(certs_broker_config(&b, &n, why, sizeof why), FG_ERR_CONFIG);
    b.hubs[0] = "badge-hub=uwb-badge";
    b.gateway_name = "env-7"; /* a sensor's name as the gateway's: it would read raw/# */
    assert_int_equal(certs_broker_config(&b, &n, why, sizeof why), FG_ERR_CONFIG);
    b.gateway_name = "gw-lab";
    assert_int_equal(certs_broker_config(&b, &n, why, sizeof why), FG_OK);
    assert_int_equal(n, 1);
    char *acl = slurp(P("kinds-broker/m.acl"));
    assert_non_null(strstr(acl, "user env-7\ntopic write raw/environment/env-7\n"));
    assert_non_null(strstr(acl, "user badge-hub\ntopic write raw/uwb-badge/+\n"));
    assert_non_null(strstr(acl, "user gw-lab\ntopic read raw/#\n"));
    assert_null(strstr(acl, "untyped-7")); /* no type, no hub: no access */
    free(acl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys_are_mode_0600),
        cmocka_unit_test(test_inspect_shows_kind_usage_and_san),
        cmocka_unit_test(test_verify_accepts_good_certificates),
        cmocka_unit_test(test_verify_rejects_expired_and_future_certificates),
        cmocka_unit_test(test_verify_rejects_certificate_of_another_ca),
        cmocka_unit_test(test_verify_rejects_hostname_mismatch),
        cmocka_unit_test(test_verify_rejects_key_of_another_certificate),
        cmocka_unit_test(test_verify_rejects_key_readable_by_others),
        cmocka_unit_test(test_verify_rejects_wrong_usage),
        cmocka_unit_test(test_preflight_reports_one_sentence),
        cmocka_unit_test(test_preflight_refuses_weak_and_sanless_certificates),
        cmocka_unit_test(test_issue_refuses_bad_names_and_overwrites),
        cmocka_unit_test(test_broker_config_writes_mutual_tls_and_acl),
        cmocka_unit_test(test_names_belong_to_one_kind),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
