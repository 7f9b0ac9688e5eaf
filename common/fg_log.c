#include "common/fg_log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

static fg_log_level g_level = FG_LOG_INFO;
static bool g_syslog;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

void fg_log_setup(fg_log_level level, bool use_syslog)
{
    g_level = level;
    if (use_syslog && !g_syslog)
        openlog("fairgate", LOG_PID, LOG_DAEMON);
    g_syslog = use_syslog;
}

fg_log_level fg_log_get_level(void)
{
    return g_level;
}

bool fg_log_parse_level(const char *s, fg_log_level *out)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    for (int i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = (fg_log_level)i;
            return true;
        }
    return false;
}

void fg_log_write(fg_log_level level, const char *component, const char *fmt, ...)
{
    static const char *const tags[] = {"ERROR", "WARN", "INFO", "DEBUG"};
    static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
    if (level > g_level)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (g_syslog) {
        syslog(prio[level], "%s: %s", component, msg);
        return;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    /* One fprintf under a lock so lines from Paho's threads never interleave. */
    pthread_mutex_lock(&g_lock);
    fprintf(stderr, "%s.%03ldZ %-5s %s: %s\n", when, ts.tv_nsec / 1000000, tags[level], component,
            msg);
    pthread_mutex_unlock(&g_lock);
}
