/* Configuration: defaults, every key type, and the errors an operator sees. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "gateway/config.h"

static char path[64];

static fg_err load_text(const char *text, struct fg_config *cfg, char *why, size_t len)
{
    strcpy(path, "/tmp/fg-config-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    fg_err e = config_load(path, cfg, why, len);
    unlink(path);
    return e;
}

static void defaults_apply(void **state)
{
    (void)state;
    struct fg_config cfg;
    char why[512] = "";
    assert_int_equal(load_text("upstream: { tls: { ca: /etc/ca.crt } }\n", &cfg, why, sizeof why),
                     FG_OK);
    assert_string_equal(cfg.local.host, "127.0.0.1");
    assert_int_equal(cfg.local.port, 1883);
    assert_int_equal(cfg.upstream.port, 8883);
    assert_true(cfg.upstream.tls.enabled);
    assert_false(cfg.upstream.tls.insecure_no_hostname_check);
    assert_int_equal(cfg.local_session_expiry_ms, 7 * 86400000LL);
    assert_int_equal(cfg.local.keepalive_s, 30);
    assert_int_equal(cfg.queue_max_bytes, 64LL << 20);
    assert_string_equal(cfg.upstream.tls.ca, "/etc/ca.crt");
    config_free(&cfg);
}

static void nested_and_flat_values(void **state)
{
    (void)state;
    struct fg_config cfg;
    char why[512] = "";
    const char *text = "site: depot-7\n"
                       "local:\n  host: 10.0.0.1\n  port: 1884\n  receive_maximum: 10\n"
                       "upstream:\n  tls:\n    enabled: false\n"
                       "sensors:\n  dirs: [/etc/fairgate/types, /opt/types]\n"
                       "outbox: { max_bytes: 2MiB }\n"
                       "shutdown: { drain_timeout: 1500ms }\n";
    assert_int_equal(load_text(text, &cfg, why, sizeof why), FG_OK);
    assert_string_equal(cfg.site, "depot-7");
    assert_string_equal(cfg.local.host, "10.0.0.1");
    assert_int_equal(cfg.local.port, 1884);
    assert_int_equal(cfg.local_receive_maximum, 10);
    assert_false(cfg.upstream.tls.enabled);
    assert_int_equal(cfg.nsensor_dirs, 2);
    assert_string_equal(cfg.sensor_dirs[1], "/opt/types");
    assert_int_equal(cfg.queue_max_bytes, 2 << 20);
    assert_int_equal(cfg.drain_timeout_ms, 1500);
    config_free(&cfg);
}

static void unknown_key_names_line_and_suggests(void **state)
{
    (void)state;
    struct fg_config cfg;
    char why[512] = "";
    const char *text = "site: a\nupstream:\n  tls: { ca: /x }\n  hots: example.org\n";
    assert_int_equal(load_text(text, &cfg, why, sizeof why), FG_ERR_CONFIG);
    assert_non_null(strstr(why, ":4:3:"));
    assert_non_null(strstr(why, "unknown key 'upstream.hots'"));
    assert_non_null(strstr(why, "did you mean 'upstream.host'"));
    config_free(&cfg);
}

static void wrong_types_rejected(void **state)
{
    (void)state;
    static const struct {
        const char *text, *needle;
    } cases[] = {
        {"local: { port: eighty }\nupstream: { tls: { ca: /x } }\n", "whole number"},
        {"local: { port: 70000 }\nupstream: { tls: { ca: /x } }\n", "between 1 and 65535"},
        {"upstream: { tls: { ca: /x, enabled: maybe } }\n", "true or false"},
        {"local: { session_expiry: soon }\nupstream: { tls: { ca: /x } }\n", "duration"},
        {"outbox: { max_bytes: lots }\nupstream: { tls: { ca: /x } }\n", "size"},
        {"sensors: { dirs: /one }\nupstream: { tls: { ca: /x } }\n", "must be a list"},
        {"site: [a, b]\nupstream: { tls: { ca: /x } }\n", "single value"},
        {"upstream: { host: h }\n", "upstream.tls.ca is required"},
        {"upstream: { tls: { ca: /x, cert: /c } }\n", "go together"},
        {"local: [1, 2\n", "flow sequence"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct fg_config cfg;
        char why[512] = "";
        assert_int_equal(load_text(cases[i].text, &cfg, why, sizeof why), FG_ERR_CONFIG);
        if (!strstr(why, cases[i].needle))
            fail_msg("case %zu: '%s' does not mention '%s'", i, why, cases[i].needle);
        config_free(&cfg);
    }
}

static void missing_file_is_an_error(void **state)
{
    (void)state;
    struct fg_config cfg;
    char why[512] = "";
    assert_int_not_equal(config_load("/nonexistent/fairgate.yaml", &cfg, why, sizeof why), FG_OK);
    assert_non_null(strstr(why, "/nonexistent/fairgate.yaml"));
    config_free(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_apply),
        cmocka_unit_test(nested_and_flat_values),
        cmocka_unit_test(unknown_key_names_line_and_suggests),
        cmocka_unit_test(wrong_types_rejected),
        cmocka_unit_test(missing_file_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
