/* Typed values with the checks a descriptor declares: limits, enum values,
 * UTF-8, integrality. A value that fails them rejects the whole message. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/fg_json.h"
#include "common/fg_util.h"
#include "sensors/sensor.h"

#define DEFAULT_MAX_STRING 256

static bool utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        size_t k;
        uint32_t cp;
        if (c < 0x80) {
            if (c == 0)
                return false;
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            k = 1;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            k = 2;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            k = 3;
            cp = c & 0x07;
        } else
            return false;
        if (i + k >= n)
            return false;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + j] & 0x3F);
        }
        if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
            cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += k + 1;
    }
    return true;
}

int sensor_field_index(const struct sensor_type *t, const char *name)
{
    for (size_t i = 0; i < t->nfields; i++)
        if (strcmp(t->fields[i].name, name) == 0)
            return (int)i;
    return -1;
}

static fg_err store_string(struct sensor_record *rec, size_t idx, const char *s, size_t len)
{
    if (rec->arena_used + len + 1 > SENSOR_ARENA)
        return FG_ERR_TOO_BIG;
    char *dst = rec->arena + rec->arena_used;
    memcpy(dst, s, len);
    dst[len] = '\0';
    rec->arena_used += len + 1;
    rec->values[idx].present = true;
    rec->values[idx].v.str.s = dst;
    rec->values[idx].v.str.len = (uint32_t)len;
    return FG_OK;
}

fg_err sensor_record_set_string(struct sensor_record *rec, size_t idx, const char *s, size_t len,
                                char *why, size_t why_len)
{
    const struct sensor_field *f = &rec->type->fields[idx];
    if (f->type == SENSOR_TIMESTAMP) {
        int64_t ms;
        if (!fg_parse_time(s, len, &ms)) {
            snprintf(why, why_len, "field '%s' is not an RFC 3339 timestamp", f->name);
            return FG_ERR_TYPE;
        }
        rec->values[idx].present = true;
        rec->values[idx].v.i = ms;
        return FG_OK;
    }
    if (f->type != SENSOR_STRING && f->type != SENSOR_ENUM) {
        snprintf(why, why_len, "field '%s' must be %s, got a string", f->name,
                 sensor_ftype_name(f->type));
        return FG_ERR_TYPE;
    }
    size_t max = f->max_length ? f->max_length : DEFAULT_MAX_STRING;
    if (len > max) {
        snprintf(why, why_len, "field '%s' longer than %zu bytes", f->name, max);
        return FG_ERR_RANGE;
    }
    if (!utf8_valid((const unsigned char *)s, len)) {
        snprintf(why, why_len, "field '%s' is not valid UTF-8", f->name);
        return FG_ERR_PARSE;
    }
    if (f->type == SENSOR_ENUM) {
        /* s has no NUL (utf8_valid), so strncmp stops at the value's end */
        bool ok = false;
        for (size_t i = 0; i < f->nvalues && !ok; i++)
            ok = strncmp(f->values[i], s, len) == 0 && f->values[i][len] == '\0';
        if (!ok) {
            snprintf(why, why_len, "field '%s' has a value outside its allowed list", f->name);
            return FG_ERR_RANGE;
        }
    }
    if (store_string(rec, idx, s, len) != FG_OK) {
        snprintf(why, why_len, "record too large");
        return FG_ERR_TOO_BIG;
    }
    return FG_OK;
}

fg_err sensor_record_set_number(struct sensor_record *rec, size_t idx, double v, char *why,
                                size_t why_len)
{
    const struct sensor_field *f = &rec->type->fields[idx];
    if (!isfinite(v)) {
        snprintf(why, why_len, "field '%s' is not a finite number", f->name);
        return FG_ERR_RANGE;
    }
    switch (f->type) {
    case SENSOR_NUMBER:
        rec->values[idx].v.num = v;
        break;
    case SENSOR_INTEGER:
        if (v != floor(v) || fabs(v) > 9007199254740992.0) {
            snprintf(why, why_len, "field '%s' must be an integer", f->name);
            return FG_ERR_TYPE;
        }
        rec->values[idx].v.i = (int64_t)v;
        break;
    case SENSOR_TIMESTAMP:
        /* epoch seconds, or milliseconds when clearly so */
        if (v < 0 || v > 1e14) {
            snprintf(why, why_len, "field '%s' is not a plausible epoch time", f->name);
            return FG_ERR_RANGE;
        }
        rec->values[idx].v.i = v > 1e11 ? (int64_t)v : (int64_t)(v * 1000.0);
        rec->values[idx].present = true;
        return FG_OK;
    default:
        snprintf(why, why_len, "field '%s' must be %s, got a number", f->name,
                 sensor_ftype_name(f->type));
        return FG_ERR_TYPE;
    }
    if ((f->has_min && v < f->min) || (f->has_max && v > f->max)) {
        snprintf(why, why_len, "field '%s' outside its declared range", f->name);
        return FG_ERR_RANGE;
    }
    rec->values[idx].present = true;
    return FG_OK;
}

fg_err sensor_record_set_int(struct sensor_record *rec, size_t idx, int64_t v, char *why,
                             size_t why_len)
{
    const struct sensor_field *f = &rec->type->fields[idx];
    if (f->type != SENSOR_INTEGER)
        return sensor_record_set_number(rec, idx, (double)v, why, why_len);
    /* Compare as doubles only where the limit is exact: limits are written
     * by people and are far below 2^53. */
    if ((f->has_min && (double)v < f->min) || (f->has_max && (double)v > f->max)) {
        snprintf(why, why_len, "field '%s' outside its declared range", f->name);
        return FG_ERR_RANGE;
    }
    rec->values[idx].present = true;
    rec->values[idx].v.i = v;
    return FG_OK;
}

fg_err sensor_record_set_bool(struct sensor_record *rec, size_t idx, bool v)
{
    if (rec->type->fields[idx].type != SENSOR_BOOLEAN)
        return FG_ERR_TYPE;
    rec->values[idx].present = true;
    rec->values[idx].v.b = v;
    return FG_OK;
}

fg_err sensor_record_finish(struct sensor_record *rec, char *why, size_t why_len)
{
    for (size_t i = 0; i < rec->type->nfields; i++)
        if (rec->type->fields[i].required && !rec->values[i].present) {
            snprintf(why, why_len, "required field '%s' missing", rec->type->fields[i].name);
            return FG_ERR_MISSING;
        }
    return FG_OK;
}

bool sensor_record_to_json(const struct sensor_record *rec, char *buf, size_t len)
{
    const struct sensor_type *t = rec->type;
    struct fg_jw w;
    fg_jw_init(&w, buf, len);
    fg_jw_obj_open(&w);
    fg_jw_key(&w, "type");
    fg_jw_cstr(&w, t->name);
    fg_jw_key(&w, "device");
    fg_jw_cstr(&w, rec->device);
    fg_jw_key(&w, "fields");
    fg_jw_obj_open(&w);
    for (size_t i = 0; i < t->nfields; i++) {
        const struct sensor_value *v = &rec->values[i];
        if (!v->present)
            continue;
        fg_jw_key(&w, t->fields[i].name);
        switch (t->fields[i].type) {
        case SENSOR_STRING:
        case SENSOR_ENUM:
            fg_jw_str(&w, v->v.str.s, v->v.str.len);
            break;
        case SENSOR_INTEGER:
            fg_jw_int(&w, v->v.i);
            break;
        case SENSOR_NUMBER:
            fg_jw_num(&w, v->v.num);
            break;
        case SENSOR_BOOLEAN:
            fg_jw_bool(&w, v->v.b);
            break;
        case SENSOR_TIMESTAMP: {
            char ts[40];
            fg_format_time(v->v.i, ts, sizeof ts);
            fg_jw_cstr(&w, ts);
            break;
        }
        default:
            fg_jw_null(&w);
        }
    }
    fg_jw_obj_close(&w);
    fg_jw_obj_close(&w);
    return fg_jw_finish(&w);
}
