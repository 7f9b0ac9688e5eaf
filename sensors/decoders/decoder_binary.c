/* Fixed binary layouts (LoRaWAN-style compact payloads): every field sits at
 * a declared offset with a width of 1, 2, 4 or 8 bytes, signed or unsigned,
 * big or little endian, optionally a bit field inside that value, times a
 * scale. Booleans are nonzero; enums map a raw code to a word through the
 * descriptor's value map; timestamps are epoch seconds (after scale). Bytes
 * no field covers are never read. */
#include <stdio.h>
#include <string.h>

#include "sensors/sensor.h"

static uint64_t read_uint(const unsigned char *p, int width, bool little)
{
    uint64_t v = 0;
    for (int i = 0; i < width; i++)
        v = (v << 8) | p[little ? width - 1 - i : i];
    return v;
}

/* An enum: the word the value map gives the raw code. */
static fg_err set_code(struct sensor_record *rec, size_t i, int64_t code, char *why, size_t why_len)
{
    const struct sensor_field *f = &rec->type->fields[i];
    for (size_t k = 0; k < f->nvalues; k++)
        if (f->codes[k] == code)
            return sensor_record_set_string(rec, i, f->values[k], strlen(f->values[k]), why,
                                            why_len);
    snprintf(why, why_len, "field '%s' has a code its value map does not name", f->name);
    return FG_ERR_RANGE;
}

static fg_err decode_binary(const struct sensor_type *t, const unsigned char *payload, size_t len,
                            struct sensor_record *rec, char *why, size_t why_len)
{
    /* A declared length is exact: a longer payload is another firmware's
     * layout, and guessing would misread it. */
    if (t->length && len != t->length) {
        snprintf(why, why_len, "payload is %zu bytes, layout declares %zu", len, t->length);
        return len < t->length ? FG_ERR_PARSE : FG_ERR_TOO_BIG;
    }
    if (len < t->min_length) {
        snprintf(why, why_len, "payload is %zu bytes, layout needs %zu", len, t->min_length);
        return FG_ERR_PARSE;
    }
    for (size_t i = 0; i < t->nfields; i++) {
        const struct sensor_field *f = &t->fields[i];
        uint64_t u = read_uint(payload + f->offset, f->width, f->little_endian);
        int nbits = f->width * 8;
        if (f->bits) { /* bits < 64: checked at load */
            u = (u >> f->bit) & ((1ull << f->bits) - 1);
            nbits = f->bits;
        }
        int64_t sv;
        if (f->is_signed) {
            /* sign-extend without shifting into the sign bit (UB) */
            if (nbits < 64 && (u >> (nbits - 1)) & 1)
                u |= ~(uint64_t)0 << nbits;
            sv = (int64_t)u;
        } else if (u > (uint64_t)INT64_MAX) {
            snprintf(why, why_len, "field '%s' does not fit a signed 64-bit integer", f->name);
            return FG_ERR_RANGE;
        } else
            sv = (int64_t)u;
        fg_err e;
        if (f->type == SENSOR_BOOLEAN) /* the one type set_bool takes: cannot fail */
            e = sensor_record_set_bool(rec, i, sv != 0);
        else if (f->type == SENSOR_ENUM)
            e = set_code(rec, i, sv, why, why_len);
        else if (f->type == SENSOR_INTEGER && f->scale == 1.0)
            e = sensor_record_set_int(rec, i, sv, why, why_len);
        else
            e = sensor_record_set_number(rec, i, (double)sv * f->scale, why, why_len);
        if (e)
            return e;
    }
    return FG_OK;
}

const struct sensor_decoder sensor_decoder_binary = {
    .name = "binary",
    .decode = decode_binary,
};
