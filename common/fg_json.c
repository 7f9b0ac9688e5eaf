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
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        while (len - i >= 8) {
            uint64_t m = fg_json_special8(s + i);
            if (m) {
                i += (size_t)__builtin_ctzll(m) >> 3;
                break;
            }
            i += 8;
        }
        if (i >= len)
            break;
#endif
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

/* Decimal digits of v, backwards from end; returns the start. */
static char *digits_u64(char *end, uint64_t v)
{
    do {
        *--end = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return end;
}

static const double pow10_tab[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10};

/* What snprintf("%.10g") prints, for the common case of a number with at
 * most 9 decimals and 10 significant digits (generalised coordinates,
 * readings): v is the double nearest to m / 10^k, so its 10-digit rounding is
 * that decimal. Returns the length, or 0 to leave it to snprintf. */
static int num_short(double v, char *out)
{
    double a = fabs(v);
    if (!(a >= 1e-4 && a < 1e9)) /* %g's fixed notation, m below 1e10 */
        return 0;
    for (int k = 1; k <= 9; k++) {
        double s = a * pow10_tab[k];
        if (s >= 1e10)
            return 0;
        if (s != floor(s))
            continue;
        if (s / pow10_tab[k] != a)
            return 0; /* m / 10^k (correctly rounded) is not v */
        uint64_t m = (uint64_t)s;
        while (k > 0 && m % 10 == 0) { /* %g drops trailing zeros */
            m /= 10;
            k--;
        }
        char tmp[32], *end = tmp + sizeof tmp, *p = end;
        for (int i = 0; i < k; i++) {
            *--p = (char)('0' + m % 10);
            m /= 10;
        }
        *--p = '.';
        p = digits_u64(p, m);
        if (v < 0)
            *--p = '-';
        int n = (int)(end - p);
        memcpy(out, p, (size_t)n);
        return n;
    }
    return 0;
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
    if (v == floor(v) && fabs(v) < 1e15) {
        /* as "%.0f": integral, including "-0" */
        char *end = tmp + sizeof tmp, *p = digits_u64(end, (uint64_t)fabs(v));
        if (signbit(v))
            *--p = '-';
        put(w, p, (size_t)(end - p));
        return;
    }
    n = num_short(v, tmp);
    if (!n)
        n = snprintf(tmp, sizeof tmp, "%.10g", v);
    put(w, tmp, (size_t)n);
}

void fg_jw_int(struct fg_jw *w, int64_t v)
{
    comma(w);
    char tmp[24], *end = tmp + sizeof tmp;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    char *p = digits_u64(end, u);
    if (v < 0)
        *--p = '-';
    put(w, p, (size_t)(end - p));
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
