/* JSON payloads: flat or nested fields addressed by path. Keys a descriptor
 * does not declare are never read, so they cannot leak. A single-pass scanner
 * without allocation takes plain, strictly valid payloads (nearly all of
 * them); everything else goes through cJSON, whose verdict is the reference. */
#include <cjson/cJSON.h>
#include <locale.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fg_json.h"
#include "sensors/sensor.h"
#include "sensors/sensor_json.h"

/* The member named key, or NULL; a key present twice is an error because a
 * later reader might pick the other one. */
const cJSON *sensor_json_member(const cJSON *obj, const char *key, bool *dup)
{
    const cJSON *found = NULL;
    for (const cJSON *c = obj->child; c; c = c->next)
        if (c->string && strcmp(c->string, key) == 0) {
            if (found)
                *dup = true;
            found = c;
        }
    return found;
}

/* Limits checked before cJSON sees the payload: cJSON's own nesting limit
 * (1000) bounds the stack, ours bounds the work a hostile sensor can cause. */
#define JSON_MAX_DEPTH 32

/* One pass over the text: nesting depth, and "\u0000", which cJSON decodes
 * into a NUL that would silently cut a string short. */
static bool precheck(const char *p, size_t len, const char **problem)
{
    int depth = 0;
    bool in_str = false;
    for (size_t i = 0; i < len; i++) {
        char c = p[i];
        if (in_str) {
            if (c == '\\') {
                if (i + 5 < len && memcmp(p + i + 1, "u0000", 5) == 0) {
                    *problem = "JSON string contains a NUL character";
                    return false;
                }
                i++;
            } else if (c == '"')
                in_str = false;
            else if ((unsigned char)c < 0x20) {
                /* invalid JSON, and a raw NUL would cut the string short */
                *problem = "JSON string contains a control character";
                return false;
            }
        } else if (c == '"')
            in_str = true;
        else if (c == '{' || c == '[') {
            if (++depth > JSON_MAX_DEPTH) {
                *problem = "JSON nested too deeply";
                return false;
            }
        } else if (c == '}' || c == ']')
            depth--;
    }
    return true;
}

fg_err sensor_json_parse(const unsigned char *payload, size_t len, cJSON **root, char *why,
                         size_t why_len)
{
    const char *text = (const char *)payload, *problem = "";
    *root = NULL;
    /* Some firmware sends a C string with its terminator: allow exactly one. */
    if (len && text[len - 1] == '\0')
        len--;
    if (!precheck(text, len, &problem)) {
        snprintf(why, why_len, "%s", problem);
        return FG_ERR_PARSE;
    }
    const char *end = NULL;
    cJSON *r = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!r) {
        snprintf(why, why_len, "malformed JSON");
        return FG_ERR_PARSE;
    }
    while (end && end < text + len && (*end == ' ' || *end == '\n' || *end == '\r' || *end == '\t'))
        end++;
    if (!end || end != text + len) {
        snprintf(why, why_len, "trailing data after JSON");
        cJSON_Delete(r);
        return FG_ERR_PARSE;
    }
    *root = r;
    return FG_OK;
}

/* ---- the fast path ----------------------------------------------------------
 * One pass over the text, no allocation: a strict JSON (RFC 8259) scanner that
 * looks each member key up once among the fields whose path leads through the
 * enclosing object, and remembers where each declared field's value is. The
 * checks afterwards are those of the cJSON path, in the same order, so both
 * paths give the same record, error code and reason.
 *
 * It never judges anything unusual itself: whatever it does not take as
 * plainly valid (malformed or merely lenient JSON that cJSON accepts, a
 * non-object root, escaped keys on a declared path, \u escapes, escaped
 * string values of declared fields, control characters, nesting deeper than
 * JSON_MAX_DEPTH, numbers longer than cJSON reads, bytes other than JSON
 * whitespace around the root) makes it step aside, and the cJSON path below
 * decides. What it accepts is strict JSON, which cJSON parses to the same
 * tree, and which precheck() passes. */

enum { FV_NULL = 1, FV_STR, FV_NUM, FV_TRUE, FV_FALSE, FV_OBJ, FV_ARR };

struct fast_val {
    const char *s; /* string contents (no quotes) or number text */
    uint32_t len;
    unsigned char kind;
    bool esc; /* the string contains a backslash escape */
};

struct fast {
    const char *p, *end;
    const struct sensor_type *t;
    uint64_t have, dup; /* per field: a value was seen; a key on its path repeated */
    struct fast_val v[SENSOR_MAX_FIELDS];
};

static inline void fast_ws(struct fast *x)
{
    while (x->p < x->end && (*x->p == ' ' || *x->p == '\n' || *x->p == '\r' || *x->p == '\t'))
        x->p++;
}

/* After an object member or array element: 1 when a ',' says another follows, 0 when
 * close ends the container, -1 for anything else. Leaves x->p past what it read. */
static inline int fast_next(struct fast *x, char close)
{
    fast_ws(x);
    if (x->p >= x->end)
        return -1;
    if (*x->p == ',') {
        x->p++;
        fast_ws(x);
        return 1;
    }
    if (*x->p == close) {
        x->p++;
        return 0;
    }
    return -1;
}

static inline bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Bytes that end a plain run inside a JSON string: '"', '\\' and controls. */
static inline bool str_special(unsigned char c)
{
    return c == '"' || c == '\\' || c < 0x20;
}

/* x->p just after the opening quote; leaves it after the closing one. */
static bool fast_string(struct fast *x, const char **s, uint32_t *len, bool *esc)
{
    const char *p = x->p, *end = x->end;
    *s = p;
    *esc = false;
    for (;;) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        if (end - p >= 8) {
            uint64_t m = fg_json_special8(p);
            if (!m) {
                p += 8;
                continue;
            }
            p += __builtin_ctzll(m) >> 3;
        } else
#endif
        {
            while (p < end && !str_special((unsigned char)*p))
                p++;
            if (p >= end)
                return false;
        }
        unsigned char c = (unsigned char)*p;
        if (c == '"') {
            if (p - *s > (ptrdiff_t)UINT32_MAX)
                return false;
            *len = (uint32_t)(p - *s);
            x->p = p + 1;
            return true;
        }
        if (c != '\\' || p + 1 >= end)
            return false; /* a control character: precheck's error */
        switch (p[1]) {
        case '"':
        case '\\':
        case '/':
        case 'b':
        case 'f':
        case 'n':
        case 'r':
        case 't':
            break;
        default: /* \u (NUL, surrogates: cJSON's and precheck's call) or invalid */
            return false;
        }
        *esc = true;
        p += 2;
    }
}

/* Strict JSON number grammar; at most 63 characters (what cJSON reads). */
static bool fast_number(struct fast *x)
{
    const char *p = x->p, *end = x->end;
    if (p < end && *p == '-')
        p++;
    if (p >= end)
        return false;
    if (*p == '0')
        p++;
    else if (*p >= '1' && *p <= '9')
        while (p < end && is_digit(*p))
            p++;
    else
        return false;
    if (p < end && *p == '.') {
        p++;
        if (p >= end || !is_digit(*p))
            return false;
        while (p < end && is_digit(*p))
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p >= end || !is_digit(*p))
            return false;
        while (p < end && is_digit(*p))
            p++;
    }
    if (p - x->p > 63)
        return false;
    x->p = p;
    return true;
}

/* The value of a strict JSON number, exactly as strtod (hence cJSON) gives
 * it: Clinger's fast path when the digits fit in 53 bits and the power of ten
 * is exact (one correctly rounded operation), else strtod itself. */
static double fast_number_value(const char *s, size_t n)
{
    static const double pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                   1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    const char *p = s, *end = s + n;
    bool neg = false;
    if (*p == '-') {
        neg = true;
        p++;
    }
    uint64_t m = 0;
    int e10 = 0;
    bool exact = true;
    for (; p < end && is_digit(*p); p++) {
        m = m * 10 + (uint64_t)(*p - '0');
        if (m > (1ull << 53)) {
            exact = false;
            break;
        }
    }
    if (exact && p < end && *p == '.')
        for (p++; p < end && is_digit(*p); p++) {
            m = m * 10 + (uint64_t)(*p - '0');
            e10--;
            if (m > (1ull << 53)) {
                exact = false;
                break;
            }
        }
    if (exact && p < end) { /* e or E */
        p++;
        bool eneg = false;
        if (*p == '+' || *p == '-')
            eneg = *p++ == '-';
        int ev = 0;
        for (; p < end; p++) {
            ev = ev * 10 + (*p - '0');
            if (ev > 400) {
                exact = false;
                break;
            }
        }
        e10 += eneg ? -ev : ev;
    }
    if (exact && e10 >= -22 && e10 <= 22) {
        double v = (double)m;
        v = e10 < 0 ? v / pow10[-e10] : v * pow10[e10];
        return neg ? -v : v;
    }
    char buf[64];
    memcpy(buf, s, n); /* n <= 63: fast_number */
    buf[n] = '\0';
    char *dot = memchr(buf, '.', n);
    if (dot) /* as cJSON does: strtod reads the locale's decimal point */
        *dot = localeconv()->decimal_point[0];
    return strtod(buf, NULL);
}

/* Fields among cand whose path component at depth d is the key k. */
static uint64_t fast_match(const struct sensor_type *t, uint64_t cand, int d, const char *k,
                           uint32_t kl)
{
    uint64_t m = 0;
    while (cand) {
        int i = __builtin_ctzll(cand);
        cand &= cand - 1;
        const char *name = t->fields[i].path[d];
        uint32_t j = 0;
        while (j < kl && name[j] == k[j]) /* stops at name's NUL: k has none */
            j++;
        if (j == kl && name[kl] == '\0')
            m |= 1ull << i;
    }
    return m;
}

/* The literal lit (true, false, null) at x->p; leaves x->p after it. */
static bool fast_literal(struct fast *x, const char *lit, size_t n)
{
    if ((size_t)(x->end - x->p) < n || memcmp(x->p, lit, n))
        return false;
    x->p += n;
    return true;
}

static bool fast_object(struct fast *x, int depth, int pdepth, uint64_t cand);
static bool fast_array(struct fast *x, int depth);

/* One value at x->p (whitespace skipped); match: the fields whose path
 * component at pdepth named it (0 inside undeclared parts). */
static bool fast_value(struct fast *x, int depth, int pdepth, uint64_t match)
{
    if (x->p >= x->end)
        return false;
    struct fast_val v = {.s = NULL, .len = 0, .kind = 0, .esc = false};
    uint64_t through = 0, terminal = match;
    if (match)
        for (uint64_t b = match; b; b &= b - 1) {
            int i = __builtin_ctzll(b);
            if (x->t->fields[i].path_len > pdepth + 1)
                through |= 1ull << i;
        }
    terminal &= ~through;
    switch (*x->p) {
    case '{':
        if (depth + 1 > JSON_MAX_DEPTH)
            return false;
        x->p++;
        if (!fast_object(x, depth + 1, pdepth + 1, through))
            return false;
        v.kind = FV_OBJ;
        break;
    case '[':
        if (depth + 1 > JSON_MAX_DEPTH)
            return false;
        x->p++;
        if (!fast_array(x, depth + 1))
            return false;
        v.kind = FV_ARR;
        break;
    case '"':
        x->p++;
        if (!fast_string(x, &v.s, &v.len, &v.esc))
            return false;
        v.kind = FV_STR;
        break;
    case 't':
        if (!fast_literal(x, "true", 4))
            return false;
        v.kind = FV_TRUE;
        break;
    case 'f':
        if (!fast_literal(x, "false", 5))
            return false;
        v.kind = FV_FALSE;
        break;
    case 'n':
        if (!fast_literal(x, "null", 4))
            return false;
        v.kind = FV_NULL;
        break;
    default:
        v.s = x->p;
        if (!fast_number(x))
            return false;
        v.len = (uint32_t)(x->p - v.s);
        v.kind = FV_NUM;
    }
    for (; terminal; terminal &= terminal - 1) {
        int i = __builtin_ctzll(terminal);
        x->v[i] = v;
        x->have |= 1ull << i;
    }
    return true;
}

/* x->p just after '{'; cand: the fields whose path continues into it at
 * component pdepth. */
static bool fast_object(struct fast *x, int depth, int pdepth, uint64_t cand)
{
    uint64_t seen = 0;
    fast_ws(x);
    if (x->p < x->end && *x->p == '}') {
        x->p++;
        return true;
    }
    for (;;) {
        if (x->p >= x->end || *x->p != '"')
            return false;
        x->p++;
        const char *k;
        uint32_t kl;
        bool esc;
        if (!fast_string(x, &k, &kl, &esc))
            return false;
        if (esc && cand)
            return false; /* an escaped key could spell a field's name */
        fast_ws(x);
        if (x->p >= x->end || *x->p != ':')
            return false;
        x->p++;
        fast_ws(x);
        uint64_t m = cand ? fast_match(x->t, cand, pdepth, k, kl) : 0;
        x->dup |= m & seen;
        seen |= m;
        if (!fast_value(x, depth, pdepth, m))
            return false;
        int next = fast_next(x, '}');
        if (next <= 0)
            return next == 0;
    }
}

static bool fast_array(struct fast *x, int depth)
{
    fast_ws(x);
    if (x->p < x->end && *x->p == ']') {
        x->p++;
        return true;
    }
    for (;;) {
        if (!fast_value(x, depth, 0, 0))
            return false;
        int next = fast_next(x, ']');
        if (next <= 0)
            return next == 0;
    }
}

/* Stores one declared field's JSON value of the given kind (FV_*): the
 * checks and reasons both paths share. num is read for FV_NUM only. */
static fg_err store_value(struct sensor_record *rec, size_t i, int kind, const char *s, size_t len,
                          double num, char *why, size_t why_len)
{
    const struct sensor_field *f = &rec->type->fields[i];
    fg_err e;
    switch (kind) {
    case FV_NULL:
        return FG_OK;
    case FV_STR:
        return sensor_record_set_string(rec, i, s, len, why, why_len);
    case FV_NUM:
        return sensor_record_set_number(rec, i, num, why, why_len);
    case FV_TRUE:
    case FV_FALSE:
        e = sensor_record_set_bool(rec, i, kind == FV_TRUE);
        if (e)
            snprintf(why, why_len, "field '%s' must be %s, got a boolean", f->name,
                     sensor_ftype_name(f->type));
        return e;
    default:
        snprintf(why, why_len, "field '%s' must be %s, got an object or array", f->name,
                 sensor_ftype_name(f->type));
        return FG_ERR_TYPE;
    }
}

/* True when the fast path decided (*e is the result); false: use cJSON. */
static bool decode_fast(const struct sensor_type *t, const char *text, size_t len,
                        struct sensor_record *rec, char *why, size_t why_len, fg_err *e)
{
    struct fast x;
    x.p = text;
    x.end = text + len;
    x.t = t;
    x.have = x.dup = 0;
    fast_ws(&x);
    if (x.p >= x.end || *x.p != '{')
        return false;
    x.p++;
    uint64_t all = t->nfields >= 64 ? ~0ull : (1ull << t->nfields) - 1;
    if (!fast_object(&x, 1, 0, all))
        return false;
    fast_ws(&x);
    if (x.p != x.end)
        return false;
    /* escaped string values of declared fields: cJSON unescapes them */
    for (uint64_t b = x.have; b; b &= b - 1) {
        int i = __builtin_ctzll(b);
        if (x.v[i].kind == FV_STR && x.v[i].esc)
            return false;
    }
    /* the checks of decode_json's loop, in its order */
    *e = FG_OK;
    for (size_t i = 0; i < t->nfields && !*e; i++) {
        const struct sensor_field *f = &t->fields[i];
        uint64_t bit = 1ull << i;
        if (x.dup & bit) {
            snprintf(why, why_len, "duplicate key for field '%s'", f->name);
            *e = FG_ERR_PARSE;
            break;
        }
        if (!(x.have & bit))
            continue;
        const struct fast_val *v = &x.v[i];
        double num = v->kind == FV_NUM ? fast_number_value(v->s, v->len) : 0;
        *e = store_value(rec, i, v->kind, v->s, v->len, num, why, why_len);
    }
    return true;
}

static fg_err decode_json(const struct sensor_type *t, const unsigned char *payload, size_t len,
                          struct sensor_record *rec, char *why, size_t why_len)
{
    fg_err e;
    size_t flen = len && payload[len - 1] == '\0' ? len - 1 : len; /* as sensor_json_parse */
    if (decode_fast(t, (const char *)payload, flen, rec, why, why_len, &e))
        return e;
    /* The general path: cJSON, one allocation per node. */
    cJSON *root;
    e = sensor_json_parse(payload, len, &root, why, why_len);
    if (e)
        return e;
    if (!cJSON_IsObject(root)) {
        snprintf(why, why_len, "JSON payload is not an object");
        e = FG_ERR_PARSE;
        goto out;
    }
    for (size_t i = 0; i < t->nfields && !e; i++) {
        const struct sensor_field *f = &t->fields[i];
        const cJSON *node = root;
        bool dup = false;
        for (int p = 0; p < f->path_len && node; p++)
            node = cJSON_IsObject(node) ? sensor_json_member(node, f->path[p], &dup) : NULL;
        if (dup) {
            snprintf(why, why_len, "duplicate key for field '%s'", f->name);
            e = FG_ERR_PARSE;
            break;
        }
        if (!node)
            continue;
        int kind = cJSON_IsNull(node)     ? FV_NULL
                   : cJSON_IsString(node) ? FV_STR
                   : cJSON_IsNumber(node) ? FV_NUM
                   : cJSON_IsTrue(node)   ? FV_TRUE
                   : cJSON_IsFalse(node)  ? FV_FALSE
                                          : FV_OBJ;
        const char *s = kind == FV_STR ? node->valuestring : NULL;
        e = store_value(rec, i, kind, s, s ? strlen(s) : 0, node->valuedouble, why, why_len);
    }
out:
    cJSON_Delete(root);
    return e;
}

const struct sensor_decoder sensor_decoder_json = {
    .name = "json",
    .decode = decode_json,
};
