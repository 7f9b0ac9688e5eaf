/* Logging: one line per event, "LEVEL component: message", to stderr
 * (journald picks it up) or syslog. Never pass telemetry values or identifiers. */
#ifndef FG_LOG_H
#define FG_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { FG_LOG_ERROR = 0, FG_LOG_WARN, FG_LOG_INFO, FG_LOG_DEBUG } fg_log_level;

/* Copies src (len bytes, or up to NUL if len is (size_t)-1) into dst as one safe
 * line: control characters, DEL, C1 controls, U+2028/U+2029 and invalid UTF-8
 * become \n, \r, \t, \xHH or \u2028; everything else is kept. Always
 * NUL-terminates (dst_len > 0); returns the bytes written. Every line the logger
 * writes goes through it, so text from outside (certificate names, topics, client
 * ids, a peer's error string) cannot forge a line; use it also where such text is
 * printed other than through the logger. */
size_t fg_log_escape(char *dst, size_t dst_len, const char *src, size_t len);

/* Process-wide sink settings: the one deliberate global, like syslog's. */
void fg_log_setup(fg_log_level level, bool use_syslog);
bool fg_log_parse_level(const char *s, fg_log_level *out);
fg_log_level fg_log_get_level(void);

void fg_log_write(fg_log_level level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* For errors that can repeat at message rate (a broker refusing every publish,
 * a disk that stays full): at most one line per key per interval (10 s unless
 * fg_log_set_ratelimit); the next line that gets through, or
 * fg_log_ratelimit_flush(), says how many were suppressed. key names the cause,
 * e.g. "upstream.refused", and must outlive the process (a string literal).
 * THREAD SAFETY: callable from any thread. Up to 64 keys; more are not limited. */
void fg_log_ratelimited(const char *key, fg_log_level level, const char *component, const char *fmt,
                        ...) __attribute__((format(printf, 4, 5)));
void fg_log_set_ratelimit(int64_t interval_ms);
/* Reports keys with suppressed lines whose interval has passed (call it with
 * the stats line, so a burst that stopped is still accounted for). */
void fg_log_ratelimit_flush(void);

#define fg_error(comp, ...)                                                                        \
    do {                                                                                           \
        fg_log_write(FG_LOG_ERROR, comp, __VA_ARGS__);                                             \
    } while (0)
#define fg_warn(comp, ...)                                                                         \
    do {                                                                                           \
        fg_log_write(FG_LOG_WARN, comp, __VA_ARGS__);                                              \
    } while (0)
#define fg_info(comp, ...)                                                                         \
    do {                                                                                           \
        if (fg_log_get_level() >= FG_LOG_INFO)                                                     \
            fg_log_write(FG_LOG_INFO, comp, __VA_ARGS__);                                          \
    } while (0)
#define fg_debug(comp, ...)                                                                        \
    do {                                                                                           \
        if (fg_log_get_level() >= FG_LOG_DEBUG)                                                    \
            fg_log_write(FG_LOG_DEBUG, comp, __VA_ARGS__);                                         \
    } while (0)

#endif
