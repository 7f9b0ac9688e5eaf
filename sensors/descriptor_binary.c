/* Binary layouts: value maps, bit fields, and the checks that catch a layout
 * that could never decode right (overlapping fields, a fractional scale on an
 * integer) when the descriptor loads, not on the first message. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sensors/sensor_internal.h"

/* A raw code: decimal, or hexadecimal as vendors document them (0x1f). */
static bool parse_code(const char *s, int64_t *out)
{
    if (!s || !*s)
        return false;
    bool hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
    if (hex && !s[2])
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(hex ? s + 2 : s, &end, hex ? 16 : 10);
    if (*end || errno || (hex && (s[2] == '-' || s[2] == '+')))
        return false;
    *out = v;
    return true;
}

fg_err sensor_binary_value_map(struct fg_yaml *y, yaml_node_t *map, struct sensor_field *f,
                               yaml_node_t **at, char *msg, size_t len)
{
    size_t cnt = (size_t)(map->data.mapping.pairs.top - map->data.mapping.pairs.start);
    *at = map;
    if (cnt == 0) {
        snprintf(msg, len, "value map of field '%s' is empty", f->name);
        return FG_ERR_CONFIG;
    }
    f->values = calloc(cnt, sizeof(char *));
    f->codes = calloc(cnt, sizeof(int64_t));
    if (!f->values || !f->codes)
        return FG_ERR_NOMEM;
    FG_YAML_MAP_FOREACH(y, map, pair)
    {
        yaml_node_t *kn = fg_yaml_node(y, pair->key), *vn = fg_yaml_node(y, pair->value);
        const char *k = fg_yaml_scalar(kn), *v = fg_yaml_scalar(vn);
        int64_t code;
        *at = kn;
        if (!parse_code(k, &code)) {
            snprintf(msg, len,
                     "value map of field '%s': keys are the raw codes (whole numbers), "
                     "e.g. {0: closed, 1: open}",
                     f->name);
            return FG_ERR_CONFIG;
        }
        *at = vn;
        if (!v || !*v) {
            snprintf(msg, len, "value map of field '%s': code %lld needs a word", f->name,
                     (long long)code);
            return FG_ERR_CONFIG;
        }
        for (size_t i = 0; i < f->nvalues; i++) {
            if (f->codes[i] == code) {
                *at = kn;
                snprintf(msg, len, "value map of field '%s' names code %lld twice", f->name,
                         (long long)code);
                return FG_ERR_CONFIG;
            }
            if (strcmp(f->values[i], v) == 0) {
                snprintf(msg, len, "value map of field '%s' uses the word '%s' twice", f->name, v);
                return FG_ERR_CONFIG;
            }
        }
        if (!(f->values[f->nvalues] = strdup(v)))
            return FG_ERR_NOMEM;
        f->codes[f->nvalues++] = code;
    }
    return FG_OK;
}

static fg_err field_rules(const struct sensor_field *f, char *msg, size_t len)
{
    int nbits = f->width * 8;
    if (f->type == SENSOR_STRING) {
        snprintf(msg, len,
                 "binary field '%s' must be numeric, boolean, timestamp or enum; for named "
                 "codes use type: enum with values: {0: closed, 1: open}",
                 f->name);
        return FG_ERR_CONFIG;
    }
    if (f->type == SENSOR_ENUM && !f->codes) {
        snprintf(msg, len,
                 "binary enum field '%s' needs a value map of raw codes, e.g. "
                 "values: {0: closed, 1: open}",
                 f->name);
        return FG_ERR_CONFIG;
    }
    if (f->codes && f->type != SENSOR_ENUM) {
        snprintf(msg, len, "a value map makes field '%s' an enum: declare type: enum", f->name);
        return FG_ERR_CONFIG;
    }
    if (f->bits && (f->bit < 0 || f->bits < 1 || f->bit + f->bits > nbits || f->bits > 63)) {
        snprintf(msg, len, "bit field '%s' (bits %d..%d) does not fit its width of %d bytes",
                 f->name, f->bit, f->bit + f->bits - 1, f->width);
        return FG_ERR_CONFIG;
    }
    if (f->scale != 1.0) {
        if (f->type == SENSOR_BOOLEAN || f->type == SENSOR_ENUM) {
            snprintf(msg, len, "'scale' does not apply to %s field '%s'",
                     sensor_ftype_name(f->type), f->name);
            return FG_ERR_CONFIG;
        }
        /* Every message would fail "must be an integer": say so now. */
        if (f->type == SENSOR_INTEGER && f->scale != floor(f->scale)) {
            snprintf(msg, len,
                     "field '%s' is an integer but scale %g makes fractions: declare "
                     "type: number",
                     f->name, f->scale);
            return FG_ERR_CONFIG;
        }
    }
    if (f->codes)
        for (size_t i = 0; i < f->nvalues; i++) {
            int vbits = f->bits ? f->bits : nbits;
            int64_t lo = 0, hi;
            if (f->is_signed) {
                lo = vbits >= 64 ? INT64_MIN : -((int64_t)1 << (vbits - 1));
                hi = vbits >= 64 ? INT64_MAX : ((int64_t)1 << (vbits - 1)) - 1;
            } else
                hi = vbits >= 63 ? INT64_MAX : ((int64_t)1 << vbits) - 1;
            if (f->codes[i] < lo || f->codes[i] > hi) {
                snprintf(msg, len, "value map of field '%s': code %lld does not fit in %d bits",
                         f->name, (long long)f->codes[i], vbits);
                return FG_ERR_CONFIG;
            }
        }
    return FG_OK;
}

fg_err sensor_binary_check_field(const struct sensor_type *t, size_t idx, char *msg, size_t len)
{
    const struct sensor_field *f = &t->fields[idx];
    fg_err e = field_rules(f, msg, len);
    if (e)
        return e;
    int a0 = f->offset, a1 = f->offset + f->width - 1;
    for (size_t j = 0; j < idx; j++) {
        const struct sensor_field *g = &t->fields[j];
        int b0 = g->offset, b1 = g->offset + g->width - 1;
        if (a1 < b0 || b1 < a0)
            continue;
        /* Bit fields may share bytes, read the same way, with distinct bits. */
        if (f->bits && g->bits && f->offset == g->offset && f->width == g->width &&
            f->little_endian == g->little_endian) {
            if (f->bit + f->bits <= g->bit || g->bit + g->bits <= f->bit)
                continue;
            snprintf(msg, len, "bits %d..%d of field '%s' overlap bits %d..%d of field '%s'",
                     f->bit, f->bit + f->bits - 1, f->name, g->bit, g->bit + g->bits - 1, g->name);
            return FG_ERR_CONFIG;
        }
        snprintf(msg, len, "binary field '%s' (bytes %d..%d) overlaps field '%s' (bytes %d..%d)%s",
                 f->name, a0, a1, g->name, b0, b1,
                 f->bits || g->bits
                     ? "; bit fields may share bytes only with the same offset, width and endian"
                     : "");
        return FG_ERR_CONFIG;
    }
    return FG_OK;
}
