/* Logging: repeated errors are rate-limited per cause, and the next line that
 * gets through (or a flush) says how many were held back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/fg_log.h"

static char *capture(void (*fn)(void))
{
    char path[] = "/tmp/fg-log-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    fn();
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    lseek(fd, 0, SEEK_SET);
    static char buf[8192];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = '\0';
    close(fd);
    unlink(path);
    return buf;
}

static int count(const char *s, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

static void burst(void)
{
    for (int i = 0; i < 5; i++)
        fg_log_ratelimited("disk", FG_LOG_ERROR, "outbox", "cannot write");
    fg_log_ratelimited("tls", FG_LOG_ERROR, "upstream", "handshake failed");
}

static void after_interval(void)
{
    struct timespec ts = {0, 250000000L};
    nanosleep(&ts, NULL);
    fg_log_ratelimit_flush();
    fg_log_ratelimited("disk", FG_LOG_ERROR, "outbox", "cannot write"); /* just reported: held */
    nanosleep(&ts, NULL);
    fg_log_ratelimited("disk", FG_LOG_ERROR, "outbox", "cannot write"); /* a new interval */
}

static void repeats_are_held_back_and_counted(void **state)
{
    (void)state;
    fg_log_setup(FG_LOG_INFO, false);
    fg_log_set_ratelimit(200);
    char *out = capture(burst);
    assert_int_equal(count(out, "outbox: cannot write"), 1);
    assert_int_equal(count(out, "upstream: handshake failed"), 1); /* another cause */
    out = capture(after_interval);
    assert_non_null(strstr(out, "4 more like 'disk' were not logged"));
    assert_int_equal(count(out, "outbox: cannot write"), 1);
}

static void burst_and_warnings(void)
{
    burst();
    fg_log_ratelimited("slow", FG_LOG_WARN, "outbox", "write was slow");
    fg_warn("outbox", "write was slow again");
    fg_info("outbox", "all is well");
}

/* At level error, warnings and info are silent; with no rate limit every error
 * line gets through. */
static void below_level_is_silent(void **state)
{
    (void)state;
    fg_log_setup(FG_LOG_ERROR, false);
    fg_log_set_ratelimit(0);
    char *out = capture(burst_and_warnings);
    assert_int_equal(count(out, "cannot write"), 5);
    assert_int_equal(count(out, "handshake failed"), 1);
    assert_int_equal(count(out, "slow"), 0);
    assert_int_equal(count(out, "all is well"), 0);
    fg_log_setup(FG_LOG_INFO, false);
    out = capture(burst_and_warnings); /* the same calls at level info do log */
    assert_int_equal(count(out, "write was slow"), 2);
    assert_int_equal(count(out, "all is well"), 1);
}

static void forged_lines(void)
{
    const char *san = "gw.example.org\n2026-11-28T10:00:00.000Z INFO  upstream: connected to "
                      "evil:8883";
    fg_error("upstream", "cannot connect securely: certificate is for %s", san);
    fg_log_ratelimited("t", FG_LOG_WARN, "local", "topic %s", "raw/x\r\x1b[2Kfake\tline");
    fg_warn("local", "peer said %s",
            "a\xc2\x85"
            "b\xe2\x80\xa8"
            "c\xff\xc0\xaf"
            "d caf\xc3\xa9");
}

static void outside_text_cannot_forge_a_line(void **state)
{
    (void)state;
    fg_log_setup(FG_LOG_INFO, false);
    fg_log_set_ratelimit(10000);
    char *out = capture(forged_lines);
    assert_int_equal(count(out, "\n"), 3); /* three events, three lines */
    assert_int_equal(count(out, "INFO  upstream: connected"), 1);
    assert_non_null(strstr(out, "ERROR upstream: cannot connect securely: certificate is for "
                                "gw.example.org\\n2026-11-28T10:00:00.000Z INFO  upstream"));
    assert_non_null(strstr(out, "topic raw/x\\r\\x1b[2Kfake\\tline"));
    /* NEL and U+2028 end lines in some viewers; invalid UTF-8 is shown as bytes;
     * valid UTF-8 (é) is kept */
    assert_non_null(strstr(out, "peer said a\\u0085b\\u2028c\\xff\\xc0\\xaf"
                                "d caf\xc3\xa9"));
}

static void escape_truncates_whole_escapes(void **state)
{
    (void)state;
    char buf[5];
    assert_int_equal(fg_log_escape(buf, sizeof buf, "ab\ncd", (size_t)-1), 4);
    assert_string_equal(buf, "ab\\n");
    assert_int_equal(fg_log_escape(buf, sizeof buf, "a\0b", 3), 1); /* no half "\x0" */
    assert_string_equal(buf, "a");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(repeats_are_held_back_and_counted),
        cmocka_unit_test(outside_text_cannot_forge_a_line),
        cmocka_unit_test(escape_truncates_whole_escapes),
        cmocka_unit_test(below_level_is_silent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
