#include "common/fg_json.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void fg_jw_init(struct fg_jw *w, char *buf, size_t cap)
{
    w->buf = buf;
    w->cap = cap;
    w->len = 0;
    w->overflow = cap == 0;
    w->need_comma = false;
}

static void put(struct fg_jw *w, const char *s, size_t n)
{
    if (w->overflow || w->len + n + 1 > w->cap) {
        w->overflow = true;
        return;
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
}

static void comma(struct fg_jw *w)
{
    if (w->need_comma)
        put(w, ",", 1);
    w->need_comma = true;
}

void fg_jw_obj_open(struct fg_jw *w)
{
    comma(w);
    put(w, "{", 1);
    w->need_comma = false;
}

void fg_jw_obj_close(struct fg_jw *w)
{
    put(w, "}", 1);
    w->need_comma = true;
}

void fg_jw_arr_open(struct fg_jw *w)
{
    comma(w);
    put(w, "[", 1);
    w->need_comma = false;
}

void fg_jw_arr_close(struct fg_jw *w)
{
    put(w, "]", 1);
    w->need_comma = true;
}

static void escaped(struct fg_jw *w, const char *s, size_t len)
{
    put(w, "\"", 1);
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        put(w, s + run, i - run);
        run = i + 1;
        char esc[8];
        switch (c) {
        case '"':
            put(w, "\\\"", 2);
            break;
        case '\\':
            put(w, "\\\\", 2);
            break;
        case '\n':
            put(w, "\\n", 2);
            break;
        case '\t':
            put(w, "\\t", 2);
            break;
        case '\r':
            put(w, "\\r", 2);
            break;
        default:
            snprintf(esc, sizeof esc, "\\u%04x", c);
            put(w, esc, 6);
        }
    }
    put(w, s + run, len - run);
    put(w, "\"", 1);
}

void fg_jw_key(struct fg_jw *w, const char *key)
{
    comma(w);
    escaped(w, key, strlen(key));
    put(w, ":", 1);
    w->need_comma = false;
}

void fg_jw_str(struct fg_jw *w, const char *s, size_t len)
{
    comma(w);
    escaped(w, s, len);
}

void fg_jw_cstr(struct fg_jw *w, const char *s)
{
    fg_jw_str(w, s, strlen(s));
}

void fg_jw_num(struct fg_jw *w, double v)
{
    comma(w);
    if (!isfinite(v)) {
        put(w, "null", 4);
        return;
    }
    char tmp[32];
    int n;
    if (v == floor(v) && fabs(v) < 1e15)
        n = snprintf(tmp, sizeof tmp, "%.0f", v);
    else
        n = snprintf(tmp, sizeof tmp, "%.10g", v);
    put(w, tmp, (size_t)n);
}

void fg_jw_int(struct fg_jw *w, int64_t v)
{
    comma(w);
    char tmp[24];
    int n = snprintf(tmp, sizeof tmp, "%lld", (long long)v);
    put(w, tmp, (size_t)n);
}

void fg_jw_bool(struct fg_jw *w, bool v)
{
    comma(w);
    put(w, v ? "true" : "false", v ? 4 : 5);
}

void fg_jw_null(struct fg_jw *w)
{
    comma(w);
    put(w, "null", 4);
}

bool fg_jw_finish(struct fg_jw *w)
{
    if (w->overflow || w->len >= w->cap) {
        w->overflow = true;
        if (w->cap)
            w->buf[0] = '\0';
        return false;
    }
    w->buf[w->len] = '\0';
    return true;
}
