/* Applying a policy to one record: per route, only the fields the route names
 * leave, each transformed by its action. No allocation on this path. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/fg_json.h"
#include "common/fg_log.h"
#include "common/fg_util.h"
#include "policy/policy_internal.h"

/* A field's value after its action, as text for topics and as JSON. */
struct out_value {
    enum { OV_STR, OV_NUM, OV_INT, OV_BOOL } kind;
    const char *s;
    size_t len;
    double num;
    int64_t i;
    bool b;
    char buf[64];
};

#define M_PER_DEG_LAT 111320.0

static double cell_centre(double v, double step)
{
    return floor(v / step) * step + step / 2;
}

static double number_of(const struct sensor_field *f, const struct sensor_value *v)
{
    return f->type == SENSOR_INTEGER ? (double)v->v.i : v->v.num;
}

/* Grid cell of a coordinate: metres for x/y, degrees for lat/lon (a longitude
 * cell is as wide in metres as a latitude cell is high, hence the partner
 * latitude, field index pi). */
static double grid(const struct sensor_record *rec, const struct policy_field_rule *rule, int pi,
                   double v)
{
    double step_deg = rule->step / M_PER_DEG_LAT;
    double out;
    switch (rule->grid_axis) {
    case POLICY_GRID_LAT:
        out = cell_centre(v, step_deg);
        break;
    case POLICY_GRID_LON: {
        /* transform() passes only records that carry their latitude */
        double lat = number_of(&rec->type->fields[pi], &rec->values[pi]);
        double c = cos(cell_centre(lat, step_deg) * M_PI / 180.0);
        if (c < 0.01)
            c = 0.01; /* near the poles cells would be absurdly wide */
        out = cell_centre(v, step_deg / c);
        break;
    }
    default:
        return cell_centre(v, rule->step);
    }
    return round(out * 1e6) / 1e6;
}

/* A field's value after its action. False when the value cannot be formed
 * (a zone without its other coordinate): the field then does not leave. */
static fg_err transform(const struct policy *p, const struct policy_route *r,
                        const struct policy_route_source *src, struct pseudonym_keyring *keys,
                        const struct sensor_record *rec, size_t idx, policy_action_kind action,
                        const struct policy_field_rule *rule, int64_t now_ms, struct out_value *o,
                        bool *ok)
{
    const struct sensor_field *f = &rec->type->fields[idx];
    const struct sensor_value *v = &rec->values[idx];
    *ok = true;
    switch (f->type) {
    case SENSOR_STRING:
    case SENSOR_ENUM:
        o->kind = OV_STR;
        o->s = v->v.str.s;
        o->len = v->v.str.len;
        if (src->zone_check[idx]) /* a zone text leaves as a listed name or `other` */
            policy_zone_value(p, r, f, &o->s, &o->len);
        break;
    case SENSOR_INTEGER:
        o->kind = OV_INT;
        o->i = v->v.i;
        break;
    case SENSOR_NUMBER:
        o->kind = OV_NUM;
        o->num = v->v.num;
        break;
    case SENSOR_BOOLEAN:
        o->kind = OV_BOOL;
        o->b = v->v.b;
        break;
    case SENSOR_TIMESTAMP:
        o->kind = OV_INT; /* formatted below */
        o->i = v->v.i;
        break;
    default:
        return FG_ERR_TYPE;
    }
    if (action == POLICY_PSEUDONYMISE) {
        char tmp[32];
        const char *src = o->s;
        size_t len = o->len;
        if (o->kind == OV_INT) {
            len = (size_t)snprintf(tmp, sizeof tmp, "%lld", (long long)o->i);
            src = tmp;
        }
        int64_t epoch = pseudonym_epoch_of(keys, now_ms);
        fg_err e = pseudonym_make(keys, epoch, r->name, src, len, o->buf);
        if (e)
            return e;
        o->kind = OV_STR;
        o->s = o->buf;
        o->len = PSEUDONYM_HEX_LEN;
        return FG_OK;
    }
    if (action == POLICY_GENERALISE) {
        int pi = src->partner[idx];
        if (rule->gen == POLICY_GEN_ZONE) {
            if (pi < 0 || !rec->values[pi].present) {
                *ok = false;
                return FG_OK;
            }
            const char *z = policy_zone_of(p, number_of(f, v),
                                           number_of(&rec->type->fields[pi], &rec->values[pi]));
            o->kind = OV_STR;
            o->s = z ? z : "outside";
            o->len = strlen(o->s);
            return FG_OK;
        }
        if (rule->gen == POLICY_GEN_GRID) {
            /* A longitude cell's width depends on the latitude: without one it would
             * be the equator's, narrower than the policy allows. Fail closed. */
            if (rule->grid_axis == POLICY_GRID_LON && (pi < 0 || !rec->values[pi].present)) {
                *ok = false;
                return FG_OK;
            }
            o->num = grid(rec, rule, pi, number_of(f, v));
            o->kind = OV_NUM;
            return FG_OK;
        }
        if (f->type == SENSOR_TIMESTAMP) {
            int64_t step = (int64_t)rule->step;
            /* floor, not truncation: times before 1970 still fall in their bucket */
            o->i =
                step > 0 ? (o->i >= 0 ? o->i / step : -((-o->i + step - 1) / step)) * step : o->i;
        } else if (o->kind == OV_NUM) {
            o->num = round(o->num / rule->step) * rule->step;
        } else if (o->kind == OV_INT) {
            o->kind = OV_NUM;
            o->num = round((double)o->i / rule->step) * rule->step;
        }
        if (o->kind == OV_NUM && rule->round_scale) /* print what the policy means */
            o->num = round(o->num * rule->round_scale) / rule->round_scale;
    }
    if (f->type == SENSOR_TIMESTAMP) {
        fg_format_time(o->i, o->buf, sizeof o->buf);
        o->kind = OV_STR;
        o->s = o->buf;
        o->len = strlen(o->buf);
    }
    return FG_OK;
}

static void write_value(struct fg_jw *w, const struct out_value *o)
{
    switch (o->kind) {
    case OV_STR:
        fg_jw_str(w, o->s, o->len);
        break;
    case OV_NUM:
        fg_jw_num(w, o->num);
        break;
    case OV_INT:
        fg_jw_int(w, o->i);
        break;
    case OV_BOOL:
        fg_jw_bool(w, o->b);
        break;
    }
}

/* Length of the UTF-8 sequence at s (at most n bytes) and its code point in
 * *cp; 0 if it is not valid UTF-8 (bad lead, truncated, overlong, surrogate,
 * past U+10FFFF). */
static size_t utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char c = s[0];
    size_t len = c < 0x80             ? 1
                 : (c & 0xE0) == 0xC0 ? 2
                 : (c & 0xF0) == 0xE0 ? 3
                 : (c & 0xF8) == 0xF0 ? 4
                                      : 0;
    if (!len || len > n)
        return 0;
    uint32_t v = len == 1 ? c : c & (0x7F >> len);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = v << 6 | (s[i] & 0x3F);
    }
    static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (v < min[len] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return len;
}

/* What may not appear in a topic or property (MQTT 5 section 1.5.4 and
 * brokers that refuse them): controls U+0000-U+001F, U+007F-U+009F, the
 * non-characters U+FDD0-U+FDEF and U+xFFFE/U+xFFFF. */
static bool unwanted_cp(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || (cp >= 0xFDD0 && cp <= 0xFDEF) ||
           (cp & 0xFFFE) == 0xFFFE;
}

bool policy_text_valid(const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t l = utf8_next((const unsigned char *)s + i, n - i, &cp);
        if (!l || unwanted_cp(cp))
            return false;
        i += l;
    }
    return true;
}

/* Appends text to a topic. With sanitise (values from records), characters
 * that would change its meaning or that a broker refuses become '_': a field
 * value never becomes a wildcard, a new level or a malformed packet. Text that
 * is not UTF-8 cannot be made valid: FG_ERR_PARSE. FG_ERR_TOO_BIG past the
 * buffer. */
static fg_err topic_append(char *t, size_t *len, const char *s, size_t n, bool sanitise)
{
    if (*len + n + 1 > POLICY_OUT_TOPIC)
        return FG_ERR_TOO_BIG;
    if (!sanitise) { /* the policy's own text: checked when it was loaded */
        memcpy(t + *len, s, n);
        *len += n;
        t[*len] = '\0';
        return FG_OK;
    }
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) { /* ASCII: the common case, no decoding */
            t[(*len)++] = c < 0x20 || c == 0x7F || c == '/' || c == '+' || c == '#' ? '_' : (char)c;
            i++;
            continue;
        }
        uint32_t cp = 0;
        size_t l = utf8_next((const unsigned char *)s + i, n - i, &cp);
        if (!l)
            return FG_ERR_PARSE;
        if (unwanted_cp(cp)) {
            t[(*len)++] = '_';
        } else {
            memcpy(t + *len, s + i, l);
            *len += l;
        }
        i += l;
    }
    t[*len] = '\0';
    return FG_OK;
}

bool policy_topic_put(char *t, size_t *len, const char *s, size_t n, bool sanitise)
{
    return topic_append(t, len, s, n, sanitise) == FG_OK;
}

/* A field's value in a topic; "unknown" when it did not leave. */
static fg_err topic_value(char *topic, size_t *len, int idx, const struct out_value *vals,
                          const bool *have)
{
    if (idx < 0 || !have[idx])
        return topic_append(topic, len, "unknown", 7, false);
    if (vals[idx].kind == OV_STR)
        return topic_append(topic, len, vals[idx].s, vals[idx].len, true);
    char num[40];
    int n = vals[idx].kind == OV_NUM ? snprintf(num, sizeof num, "%g", vals[idx].num)
            : vals[idx].kind == OV_INT
                ? snprintf(num, sizeof num, "%lld", (long long)vals[idx].i)
                : snprintf(num, sizeof num, "%s", vals[idx].b ? "true" : "false");
    return topic_append(topic, len, num, (size_t)n, true);
}

static fg_err expand_topic(const struct policy *p, const struct policy_route *r, size_t si,
                           const struct out_value *vals, const bool *have, char *topic)
{
    const struct sensor_type *t = r->sources[si].type;
    size_t len = 0;
    topic[0] = '\0';
    for (int i = 0; i < r->nto_seg; i++) {
        const struct policy_topic_seg *g = &r->to_seg[i];
        fg_err e;
        switch (g->kind) {
        case POLICY_TOPIC_LIT:
            e = topic_append(topic, &len, r->to + g->off, g->len, false);
            break;
        case POLICY_TOPIC_SITE:
            e = topic_append(topic, &len, p->site, strlen(p->site), true);
            break;
        case POLICY_TOPIC_ROUTE:
            e = topic_append(topic, &len, r->name, strlen(r->name), true);
            break;
        case POLICY_TOPIC_TYPE:
            e = topic_append(topic, &len, t->name, strlen(t->name), true);
            break;
        default:
            e = topic_value(topic, &len, g->field[si], vals, have);
        }
        if (e)
            return e;
    }
    return FG_OK;
}

/* A `by` key of an aggregate route as text: the group it falls in. */
static fg_err group_key(const struct policy *p, const struct policy_route *r,
                        const struct policy_route_source *src, struct pseudonym_keyring *keys,
                        const struct sensor_record *rec, int64_t now_ms, struct out_value *vals,
                        const char **keys_out, size_t *lens, bool *numeric)
{
    for (size_t i = 0; i < r->agg.nby; i++) {
        int idx = src->by_field[i];
        struct out_value *o = &vals[i];
        bool ok = rec->values[idx].present;
        if (ok) {
            int a = src->action[idx];
            const struct policy_field_rule *rule =
                a == POLICY_GENERALISE ? &r->rules[src->rule[idx]] : NULL;
            fg_err e = transform(p, r, src, keys, rec, (size_t)idx, (policy_action_kind)a, rule,
                                 now_ms, o, &ok);
            if (e)
                return e;
        }
        numeric[i] = false;
        if (!ok) {
            keys_out[i] = "unknown";
            lens[i] = 7;
            continue;
        }
        switch (o->kind) {
        case OV_STR:
            keys_out[i] = o->s;
            lens[i] = o->len;
            break;
        case OV_NUM:
            lens[i] = (size_t)snprintf(o->buf, sizeof o->buf, "%.10g", o->num);
            keys_out[i] = o->buf;
            numeric[i] = true;
            break;
        case OV_INT:
            lens[i] = (size_t)snprintf(o->buf, sizeof o->buf, "%lld", (long long)o->i);
            keys_out[i] = o->buf;
            numeric[i] = true;
            break;
        case OV_BOOL:
            keys_out[i] = o->b ? "true" : "false";
            lens[i] = strlen(keys_out[i]);
            break;
        }
    }
    return FG_OK;
}

fg_err policy_apply(struct policy *p, struct pseudonym_keyring *keys,
                    const struct sensor_record *rec, int64_t now_ms, policy_emit_fn emit, void *ctx,
                    int *emitted)
{
    if (emitted)
        *emitted = 0;
    p->records++;
    if (policy_expired(p, now_ms)) {
        p->expired_drops++;
        return FG_OK; /* an expired policy forwards nothing */
    }
    const struct sensor_type *t = rec->type;
    for (size_t ri = 0; ri < p->nroutes; ri++) {
        struct policy_route *r = &p->routes[ri];
        size_t si = 0;
        while (si < r->nfrom && r->sources[si].type != t)
            si++;
        if (si == r->nfrom)
            continue;
        const struct policy_route_source *src = &r->sources[si];
        r->c.matched++;
        if (!policy_cond_eval(r, src, rec)) {
            r->c.filtered++;
            continue;
        }
        if (r->agg.on) {
            struct out_value kv[POLICY_MAX_BY];
            const char *kp[POLICY_MAX_BY];
            size_t kl[POLICY_MAX_BY];
            bool num[POLICY_MAX_BY];
            fg_err e = group_key(p, r, src, keys, rec, now_ms, kv, kp, kl, num);
            if (!e)
                e = policy_agg_add(p, r, src, rec, kp, kl, num, now_ms, emit, ctx);
            if (e)
                return e;
            continue;
        }
        struct out_value vals[SENSOR_MAX_FIELDS];
        bool have[SENSOR_MAX_FIELDS] = {0};
        char payload[POLICY_OUT_PAYLOAD], topic[POLICY_OUT_TOPIC];
        struct fg_jw w;
        uint32_t cats = 0;
        fg_jw_init(&w, payload, sizeof payload);
        fg_jw_obj_open(&w);
        for (size_t i = 0; i < t->nfields; i++) {
            int a = src->action[i];
            if (a < 0 || a == POLICY_DROP || !rec->values[i].present)
                continue; /* fail closed: unnamed fields never leave */
            const struct policy_field_rule *rule = &r->rules[src->rule[i]];
            bool ok;
            fg_err e = transform(p, r, src, keys, rec, i, (policy_action_kind)a, rule, now_ms,
                                 &vals[i], &ok);
            if (e)
                return e;
            if (!ok)
                continue;
            have[i] = true;
            /* a coordinate mapped to a zone leaves as a zone, no longer a location;
             * other location fields of the record still flag the location */
            cats |= 1u << (a == POLICY_GENERALISE && rule->gen == POLICY_GEN_ZONE
                               ? SENSOR_CAT_ZONE
                               : t->fields[i].category);
            fg_jw_key(&w, t->fields[i].name);
            write_value(&w, &vals[i]);
        }
        if (!cats)
            continue; /* none of the route's fields is in this record: "{}" never leaves */
        fg_jw_obj_close(&w);
        if (!fg_jw_finish(&w))
            return FG_ERR_TOO_BIG;
        fg_err te = expand_topic(p, r, si, vals, have, topic);
        if (te)
            return te; /* FG_ERR_PARSE: a value cannot become a valid topic */
        struct policy_output out = {
            .route = r->name,
            .purpose = r->purpose,
            .topic = topic,
            .payload = payload,
            .len = w.len,
            .retention_ms = r->retention_ms,
            .categories = cats,
            .batch_max = r->batch_max,
            .batch_delay_ms = r->batch_delay_ms,
            .policy_name = p->name,
            .policy_version = p->version,
        };
        fg_err e = emit(ctx, &out);
        if (e)
            return e;
        r->c.emitted++;
        if (emitted)
            (*emitted)++;
    }
    return FG_OK;
}

fg_err policy_tick(struct policy *p, int64_t now_ms, bool flush, policy_emit_fn emit, void *ctx)
{
    return policy_agg_tick(p, now_ms, flush, emit, ctx);
}

const struct sensor_field *policy_route_field(const struct policy_route *r, const char *name)
{
    for (size_t s = 0; s < r->nfrom; s++) {
        int idx = sensor_field_index(r->sources[s].type, name);
        if (idx >= 0)
            return &r->sources[s].type->fields[idx];
    }
    return NULL;
}
