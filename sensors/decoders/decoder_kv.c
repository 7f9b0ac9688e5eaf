/* A C decoder example: the "key=value" text lines legacy access-control
 * panels and PLC loggers send, e.g.
 *     gate=G-03;badge=B-10042;dir=in;granted=1;zone=warehouse;ts=1795766400
 * Pairs are separated by ';', a trailing CR/LF is allowed, an empty value
 * counts as absent. A field reads the key named by its `path` (default: the
 * field name). Used by descriptors with `format: c` and `decoder: kv`.
 *
 * To write your own: copy this file to sensors/decoders/decoder_NAME.c, export
 * `const struct sensor_decoder sensor_decoder_NAME`, rebuild (or, without
 * rebuilding fairgate, build a shared object against the public
 * <fairgate/sensor_decoder.h>: docs/integrators.md, section 6). For each
 * t->fields[i], look for f->path[0] (f->path_len components for nested
 * formats) and store by f->type through the sensor_record_set_* helpers: they
 * apply the descriptor's type, limit and UTF-8 checks; a timestamp takes epoch
 * seconds (set_number) or RFC 3339 text (set_string). Report errors by field
 * name, never by value. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sensors/sensor.h"

#define KV_MAX_PAIRS 64

struct span {
    const char *p;
    size_t len;
};

static bool key_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
}

/* Strict decimal number: no hex, no "nan"/"inf", whole span consumed. */
static bool parse_number(struct span v, double *out)
{
    char buf[64];
    if (v.len == 0 || v.len >= sizeof buf)
        return false;
    for (size_t i = 0; i < v.len; i++)
        if (!strchr("0123456789+-.eE", v.p[i]))
            return false;
    memcpy(buf, v.p, v.len);
    buf[v.len] = '\0';
    char *end;
    errno = 0;
    *out = strtod(buf, &end);
    return *end == '\0' && errno == 0 && isfinite(*out);
}

static bool span_eq(struct span v, const char *s, size_t len)
{
    return len == v.len && memcmp(v.p, s, len) == 0;
}

static bool span_is(struct span v, const char *s)
{
    return span_eq(v, s, strlen(s));
}

static fg_err store(const struct sensor_field *f, size_t idx, struct span v,
                    struct sensor_record *rec, char *why, size_t why_len)
{
    double d;
    switch (f->type) {
    case SENSOR_INTEGER:
    case SENSOR_NUMBER:
        if (!parse_number(v, &d)) {
            snprintf(why, why_len, "field '%s' is not a number", f->name);
            return FG_ERR_TYPE;
        }
        return sensor_record_set_number(rec, idx, d, why, why_len);
    case SENSOR_BOOLEAN:
        if (span_is(v, "1") || span_is(v, "true") || span_is(v, "yes"))
            return sensor_record_set_bool(rec, idx, true);
        if (span_is(v, "0") || span_is(v, "false") || span_is(v, "no"))
            return sensor_record_set_bool(rec, idx, false);
        snprintf(why, why_len, "field '%s' is not 1/0, true/false or yes/no", f->name);
        return FG_ERR_TYPE;
    case SENSOR_TIMESTAMP:
        /* legacy panels send epoch seconds; newer ones RFC 3339 */
        if (parse_number(v, &d))
            return sensor_record_set_number(rec, idx, d, why, why_len);
        return sensor_record_set_string(rec, idx, v.p, v.len, why, why_len);
    default:
        return sensor_record_set_string(rec, idx, v.p, v.len, why, why_len);
    }
}

static fg_err decode_kv(const struct sensor_type *t, const unsigned char *payload, size_t len,
                        struct sensor_record *rec, char *why, size_t why_len)
{
    const char *p = (const char *)payload, *end = p + len;
    while (end > p && (end[-1] == '\n' || end[-1] == '\r'))
        end--;
    struct span keys[KV_MAX_PAIRS], vals[KV_MAX_PAIRS];
    size_t n = 0;
    while (p < end) {
        const char *semi = memchr(p, ';', (size_t)(end - p));
        const char *stop = semi ? semi : end;
        const char *eq = memchr(p, '=', (size_t)(stop - p));
        if (!eq || eq == p) {
            snprintf(why, why_len, "malformed key=value pair");
            return FG_ERR_PARSE;
        }
        for (const char *k = p; k < eq; k++)
            if (!key_char(*k)) {
                snprintf(why, why_len, "key=value line has a key with forbidden characters");
                return FG_ERR_PARSE;
            }
        for (const char *v = eq + 1; v < stop; v++)
            if ((unsigned char)*v < 0x20 || *v == 0x7f) {
                snprintf(why, why_len, "key=value line contains a control character");
                return FG_ERR_PARSE;
            }
        if (n == KV_MAX_PAIRS) {
            snprintf(why, why_len, "key=value line has more than %d pairs", KV_MAX_PAIRS);
            return FG_ERR_TOO_BIG;
        }
        keys[n] = (struct span){p, (size_t)(eq - p)};
        vals[n] = (struct span){eq + 1, (size_t)(stop - eq - 1)};
        n++;
        p = semi ? semi + 1 : end;
    }
    if (n == 0) {
        snprintf(why, why_len, "empty key=value line");
        return FG_ERR_PARSE;
    }
    for (size_t i = 0; i < t->nfields; i++) {
        const struct sensor_field *f = &t->fields[i];
        const char *key = f->path[0];
        size_t key_len = strlen(key);
        int found = -1;
        for (size_t j = 0; j < n; j++)
            if (span_eq(keys[j], key, key_len)) {
                if (found >= 0) {
                    snprintf(why, why_len, "duplicate key for field '%s'", f->name);
                    return FG_ERR_PARSE;
                }
                found = (int)j;
            }
        if (found < 0 || vals[found].len == 0)
            continue;
        fg_err e = store(f, i, vals[found], rec, why, why_len);
        if (e)
            return e;
    }
    return FG_OK;
}

/* key=value lines are flat: a dotted path would never match. */
static fg_err check_kv(const struct sensor_type *t, char *why, size_t why_len)
{
    for (size_t i = 0; i < t->nfields; i++)
        if (t->fields[i].path_len != 1) {
            snprintf(why, why_len, "field '%s': decoder kv reads flat keys, not a nested path",
                     t->fields[i].name);
            return FG_ERR_CONFIG;
        }
    return FG_OK;
}

const struct sensor_decoder sensor_decoder_kv = {
    .name = "kv",
    .decode = decode_kv,
    .check = check_kv,
};
