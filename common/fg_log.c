#include "common/fg_log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "common/fg_util.h"

static fg_log_level g_level = FG_LOG_INFO;
static bool g_syslog;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

#define RL_SLOTS 64
struct rl_slot {
    const char *key, *component;
    fg_log_level level;
    int64_t last_ms;
    uint64_t suppressed;
};
static struct rl_slot g_rl[RL_SLOTS];
static int64_t g_rl_interval_ms = 10000;
static pthread_mutex_t g_rl_lock = PTHREAD_MUTEX_INITIALIZER;

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

/* Length of the well-formed UTF-8 sequence at s (2..4), 0 if it is not one. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    size_t need = s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
    if (s[0] >= 0xf5 || !need || need > n)
        return 0;
    for (size_t i = 1; i < need; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0) ||
        (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))
        return 0; /* overlong, surrogate, above U+10FFFF */
    return need;
}

size_t fg_log_escape(char *dst, size_t dst_len, const char *src, size_t len)
{
    if (!dst_len)
        return 0;
    const unsigned char *s = (const unsigned char *)src;
    if (len == (size_t)-1)
        len = strlen(src);
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        char esc[8];
        size_t take = 1, k = utf8_len(s + i, len - i);
        const char *out = (const char *)s + i;
        size_t olen = 1;
        if (s[i] == '\n' || s[i] == '\r' || s[i] == '\t') {
            snprintf(esc, sizeof esc, "\\%c", s[i] == '\n' ? 'n' : s[i] == '\r' ? 'r' : 't');
            out = esc, olen = 2;
        } else if (s[i] < 0x20 || s[i] == 0x7f || (s[i] >= 0x80 && !k)) {
            snprintf(esc, sizeof esc, "\\x%02x", s[i]);
            out = esc, olen = 4;
        } else if (k) {
            take = olen = k;
            if ((s[i] == 0xc2 && s[i + 1] < 0xa0) || /* C1 controls, e.g. NEL */
                (s[i] == 0xe2 && s[i + 1] == 0x80 && (s[i + 2] == 0xa8 || s[i + 2] == 0xa9))) {
                snprintf(esc, sizeof esc, "\\u%04x",
                         s[i] == 0xc2 ? s[i + 1] : 0x2000u + (unsigned)(s[i + 2] - 0x80));
                out = esc, olen = 6;
            }
        }
        if (o + olen >= dst_len)
            break;
        memcpy(dst + o, out, olen);
        o += olen;
        i += take;
    }
    dst[o] = '\0';
    return o;
}

void fg_log_set_ratelimit(int64_t interval_ms)
{
    pthread_mutex_lock(&g_rl_lock);
    g_rl_interval_ms = interval_ms;
    pthread_mutex_unlock(&g_rl_lock);
}

void fg_log_ratelimited(const char *key, fg_log_level level, const char *component, const char *fmt,
                        ...)
{
    if (level > g_level)
        return;
    int64_t now = fg_monotonic_ms();
    uint64_t suppressed = 0;
    pthread_mutex_lock(&g_rl_lock);
    size_t i = 0;
    while (i < RL_SLOTS && g_rl[i].key && strcmp(g_rl[i].key, key))
        i++;
    if (i < RL_SLOTS) {
        struct rl_slot *s = &g_rl[i];
        if (s->key && now - s->last_ms < g_rl_interval_ms) {
            s->suppressed++;
            pthread_mutex_unlock(&g_rl_lock);
            return;
        }
        suppressed = s->suppressed;
        *s = (struct rl_slot){.key = key, .component = component, .level = level, .last_ms = now};
    }
    pthread_mutex_unlock(&g_rl_lock);
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (suppressed)
        fg_log_write(level, component, "%s (and %llu more like it, not logged)", msg,
                     (unsigned long long)suppressed);
    else
        fg_log_write(level, component, "%s", msg);
}

void fg_log_ratelimit_flush(void)
{
    int64_t now = fg_monotonic_ms();
    pthread_mutex_lock(&g_rl_lock);
    for (size_t i = 0; i < RL_SLOTS && g_rl[i].key; i++) {
        struct rl_slot *s = &g_rl[i];
        if (!s->suppressed || now - s->last_ms < g_rl_interval_ms)
            continue;
        fg_log_write(s->level, s->component, "%llu more like '%s' were not logged",
                     (unsigned long long)s->suppressed, s->key);
        s->suppressed = 0;
        s->last_ms = now;
    }
    pthread_mutex_unlock(&g_rl_lock);
}

void fg_log_write(fg_log_level level, const char *component, const char *fmt, ...)
{
    static const char *const tags[] = {"ERROR", "WARN", "INFO", "DEBUG"};
    static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
    if (level > g_level)
        return;
    char raw[1024], msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    /* One line per event, whatever the arguments held. */
    fg_log_escape(msg, sizeof msg, raw, (size_t)-1);
    if (g_syslog) {
        syslog(prio[level], "%s: %s", component, msg);
        return;
    }
    char when[32];
    fg_format_time(fg_now_ms(), when, sizeof when);
    /* One fprintf under a lock so lines from Paho's threads never interleave. */
    pthread_mutex_lock(&g_lock);
    fprintf(stderr, "%s %-5s %s: %s\n", when, tags[level], component, msg);
    pthread_mutex_unlock(&g_lock);
}
