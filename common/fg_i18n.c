/* Catalogue lookup and the language-aware formatting of dates, counts and
 * durations. The texts live in fg_i18n_*.c, one table per area. */
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/fg_i18n.h"
#include "common/fg_i18n_tables.h"

static const struct fg_msg *const tables[] = {fg_msgs_common, fg_msgs_report, fg_msgs_events,
                                              fg_msgs_explain, fg_msgs_subject};
#define NTABLES (sizeof tables / sizeof tables[0])

static const char *const codes[FG_LANG__COUNT] = {"en", "nl", "de"};

bool fg_lang_parse(const char *code, fg_lang *out)
{
    for (int l = 0; code && l < FG_LANG__COUNT; l++)
        if (!strcasecmp(code, codes[l])) {
            *out = (fg_lang)l;
            return true;
        }
    return false;
}

const char *fg_lang_code(fg_lang l)
{
    return (unsigned)l < FG_LANG__COUNT ? codes[l] : "en";
}

fg_lang fg_lang_from_env(void)
{
    const char *vars[] = {"FAIRGATE_LANG", "LC_ALL", "LC_MESSAGES", "LANG"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        if (!v || strlen(v) < 2)
            continue;
        char two[3] = {(char)tolower((unsigned char)v[0]), (char)tolower((unsigned char)v[1]), 0};
        fg_lang l;
        if (fg_lang_parse(two, &l))
            return l;
        if (strcmp(v, "C") && strcmp(v, "POSIX"))
            break; /* a language we do not have: English */
    }
    return FG_LANG_EN;
}

size_t fg_i18n_size(void)
{
    size_t n = 0;
    for (size_t t = 0; t < NTABLES; t++)
        for (const struct fg_msg *m = tables[t]; m->key; m++)
            n++;
    return n;
}

const struct fg_msg *fg_i18n_at(size_t i)
{
    for (size_t t = 0; t < NTABLES; t++)
        for (const struct fg_msg *m = tables[t]; m->key; m++)
            if (i-- == 0)
                return m;
    return NULL;
}

static const struct fg_msg *find(const char *key)
{
    for (size_t t = 0; t < NTABLES; t++)
        for (const struct fg_msg *m = tables[t]; m->key; m++)
            if (!strcmp(m->key, key))
                return m;
    return NULL;
}

const char *fg_tr(fg_lang l, const char *key)
{
    const struct fg_msg *m = find(key);
    if (!m)
        return key;
    if ((unsigned)l >= FG_LANG__COUNT || !m->text[l])
        return m->text[FG_LANG_EN] ? m->text[FG_LANG_EN] : key;
    return m->text[l];
}

int fg_trf(char *buf, size_t len, fg_lang l, const char *key, ...)
{
    va_list ap;
    va_start(ap, key);
    int n = vsnprintf(buf, len, fg_tr(l, key), ap);
    va_end(ap);
    return n;
}

void fg_trp(FILE *f, fg_lang l, const char *key, ...)
{
    va_list ap;
    va_start(ap, key);
    vfprintf(f, fg_tr(l, key), ap);
    va_end(ap);
}

void fg_i18n_date(fg_lang l, int64_t ms, bool with_time, char *buf, size_t len)
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    if (!gmtime_r(&s, &tm)) {
        snprintf(buf, len, "?");
        return;
    }
    char mk[24];
    snprintf(mk, sizeof mk, "month.%d", tm.tm_mon + 1);
    int n = snprintf(buf, len, l == FG_LANG_DE ? "%d. %s %d" : "%d %s %d", tm.tm_mday, fg_tr(l, mk),
                     tm.tm_year + 1900);
    if (with_time && n > 0 && (size_t)n < len)
        snprintf(buf + n, len - (size_t)n, ", %02d:%02d UTC", tm.tm_hour, tm.tm_min);
}

void fg_i18n_count(fg_lang l, double n, char *buf, size_t len)
{
    char raw[32];
    snprintf(raw, sizeof raw, "%.0f", n);
    const char sep = l == FG_LANG_EN ? ',' : '.';
    const char *d = raw;
    size_t at = 0;
    if (*d == '-' && at + 1 < len)
        buf[at++] = *d++;
    size_t digits = strlen(d);
    for (size_t i = 0; i < digits && at + 2 < len; i++) {
        if (i && (digits - i) % 3 == 0)
            buf[at++] = sep;
        buf[at++] = d[i];
    }
    if (len)
        buf[at < len ? at : len - 1] = '\0';
}

void fg_i18n_duration(fg_lang l, int64_t ms, char *buf, size_t len)
{
    static const int64_t unit_ms[] = {86400000, 3600000, 60000, 1000};
    static const char *const one[] = {"unit.day", "unit.hour", "unit.minute", "unit.second"};
    static const char *const many[] = {"unit.days", "unit.hours", "unit.minutes", "unit.seconds"};
    for (size_t u = 0; u < 4; u++) {
        if (u == 0 && ms < 2 * unit_ms[0])
            continue;
        if (ms >= unit_ms[u] && ms % unit_ms[u] == 0) {
            long long n = ms / unit_ms[u];
            snprintf(buf, len, "%lld %s", n, fg_tr(l, n == 1 ? one[u] : many[u]));
            return;
        }
    }
    snprintf(buf, len, "%lld ms", (long long)ms);
}

const char *fg_i18n_category(fg_lang l, const char *category)
{
    char k[64];
    snprintf(k, sizeof k, "cat.%s", category);
    const char *t = fg_tr(l, k);
    return t == k || !strcmp(t, k) ? category : t;
}
