/* Applying a policy to one record: per route, only the fields the route names
 * leave, each transformed by its action. No allocation on this path. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/fg_json.h"
#include "common/fg_log.h"
#include "common/fg_util.h"
#include "policy/policy_internal.h"

#define OUT_PAYLOAD 4096
#define OUT_TOPIC 512

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

static fg_err transform(const struct policy *p, const struct policy_route *r,
                        struct pseudonym_keyring *keys, const struct sensor_field *f,
                        const struct sensor_value *v, policy_action_kind action,
                        const struct policy_field_rule *rule, int64_t now_ms,
                        struct out_value *o)
{
    (void)p;
    switch (f->type) {
    case SENSOR_STRING:
    case SENSOR_ENUM:
        o->kind = OV_STR;
        o->s = v->v.str.s;
        o->len = v->v.str.len;
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
        if (f->type == SENSOR_TIMESTAMP) {
            int64_t step = (int64_t)rule->step;
            o->i = step > 0 ? (o->i / step) * step : o->i;
        } else if (o->kind == OV_NUM) {
            o->num = round(o->num / rule->step) * rule->step;
        } else if (o->kind == OV_INT) {
            double d = round((double)o->i / rule->step) * rule->step;
            o->kind = OV_NUM;
            o->num = d;
        }
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

/* Appends text to a topic, replacing characters that would change its
 * meaning: a field value must never become a wildcard or a new level. */
static bool topic_put(char *t, size_t *len, const char *s, size_t n, bool sanitise)
{
    if (*len + n + 1 > OUT_TOPIC)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (sanitise && (ch == '/' || ch == '+' || ch == '#' || (unsigned char)ch < 0x20))
            ch = '_';
        t[(*len)++] = ch;
    }
    t[*len] = '\0';
    return true;
}

static bool expand_topic(const struct policy *p, const struct policy_route *r,
                         const struct policy_route_source *src, const struct out_value *vals,
                         const bool *have, char *topic)
{
    size_t len = 0;
    topic[0] = '\0';
    const char *s = r->to;
    while (*s) {
        const char *open = strchr(s, '{');
        if (!open)
            return topic_put(topic, &len, s, strlen(s), false);
        if (!topic_put(topic, &len, s, (size_t)(open - s), false))
            return false;
        const char *close = strchr(open, '}');
        char ph[64];
        size_t l = (size_t)(close - open - 1);
        memcpy(ph, open + 1, l);
        ph[l] = '\0';
        bool ok;
        if (!strcmp(ph, "site"))
            ok = topic_put(topic, &len, p->site, strlen(p->site), true);
        else if (!strcmp(ph, "route"))
            ok = topic_put(topic, &len, r->name, strlen(r->name), true);
        else if (!strcmp(ph, "type"))
            ok = topic_put(topic, &len, src->type->name, strlen(src->type->name), true);
        else {
            int idx = sensor_field_index(src->type, ph);
            if (idx < 0 || !have[idx])
                ok = topic_put(topic, &len, "unknown", 7, false);
            else if (vals[idx].kind == OV_STR)
                ok = topic_put(topic, &len, vals[idx].s, vals[idx].len, true);
            else {
                char num[40];
                int n = vals[idx].kind == OV_NUM
                            ? snprintf(num, sizeof num, "%g", vals[idx].num)
                            : vals[idx].kind == OV_INT
                                  ? snprintf(num, sizeof num, "%lld", (long long)vals[idx].i)
                                  : snprintf(num, sizeof num, "%s",
                                             vals[idx].b ? "true" : "false");
                ok = topic_put(topic, &len, num, (size_t)n, true);
            }
        }
        if (!ok)
            return false;
        s = close + 1;
    }
    return true;
}

fg_err policy_apply(struct policy *p, struct pseudonym_keyring *keys,
                    const struct sensor_record *rec, int64_t now_ms, policy_emit_fn emit,
                    void *ctx, int *emitted)
{
    if (emitted)
        *emitted = 0;
    if (policy_expired(p, now_ms))
        return FG_OK; /* an expired policy forwards nothing */
    const struct sensor_type *t = rec->type;
    for (size_t ri = 0; ri < p->nroutes; ri++) {
        const struct policy_route *r = &p->routes[ri];
        const struct policy_route_source *src = NULL;
        for (size_t k = 0; k < r->nfrom; k++)
            if (r->sources[k].type == t)
                src = &r->sources[k];
        if (!src)
            continue;
        struct out_value vals[SENSOR_MAX_FIELDS];
        bool have[SENSOR_MAX_FIELDS] = {0};
        char payload[OUT_PAYLOAD], topic[OUT_TOPIC];
        struct fg_jw w;
        uint32_t cats = 0;
        fg_jw_init(&w, payload, sizeof payload);
        fg_jw_obj_open(&w);
        for (size_t i = 0; i < t->nfields; i++) {
            int a = src->action[i];
            if (a < 0 || a == POLICY_DROP || !rec->values[i].present)
                continue; /* fail closed: unnamed fields never leave */
            const struct policy_field_rule *rule = &r->rules[src->rule[i]];
            fg_err e = transform(p, r, keys, &t->fields[i], &rec->values[i],
                                 (policy_action_kind)a, rule, now_ms, &vals[i]);
            if (e)
                return e;
            have[i] = true;
            cats |= 1u << t->fields[i].category;
            fg_jw_key(&w, t->fields[i].name);
            write_value(&w, &vals[i]);
        }
        fg_jw_obj_close(&w);
        if (!fg_jw_finish(&w))
            return FG_ERR_TOO_BIG;
        if (!expand_topic(p, r, src, vals, have, topic))
            return FG_ERR_TOO_BIG;
        struct policy_output out = {
            .route = r->name,
            .purpose = r->purpose,
            .topic = topic,
            .payload = payload,
            .len = w.len,
            .retention_ms = r->retention_ms,
            .categories = cats,
            .policy_name = p->name,
            .policy_version = p->version,
        };
        fg_err e = emit(ctx, &out);
        if (e)
            return e;
        if (emitted)
            (*emitted)++;
    }
    return FG_OK;
}

fg_err policy_tick(struct policy *p, int64_t now_ms, bool flush, policy_emit_fn emit, void *ctx)
{
    (void)p;
    (void)now_ms;
    (void)flush;
    (void)emit;
    (void)ctx;
    return FG_OK; /* no aggregating routes in this model yet */
}
