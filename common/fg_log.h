/* Logging: one line per event, "LEVEL component: message", to stderr
 * (journald picks it up) or syslog. Never pass telemetry values or identifiers. */
#ifndef FG_LOG_H
#define FG_LOG_H

#include <stdbool.h>

typedef enum { FG_LOG_ERROR = 0, FG_LOG_WARN, FG_LOG_INFO, FG_LOG_DEBUG } fg_log_level;

/* Process-wide sink settings: the one deliberate global, like syslog's. */
void fg_log_setup(fg_log_level level, bool use_syslog);
bool fg_log_parse_level(const char *s, fg_log_level *out);
fg_log_level fg_log_get_level(void);

void fg_log_write(fg_log_level level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

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
