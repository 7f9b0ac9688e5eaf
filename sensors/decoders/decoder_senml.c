/* SenML JSON (RFC 8428): a pack is an array of records; base fields (bn, bt,
 * bu, bv) apply to the record they sit in and every later one. A descriptor
 * field reads the record whose name `n` equals its `senml:` key (default: the
 * field name); the base name is the device. Records nobody declared are never
 * read. One pack is one typed record, so a name twice or two devices in one
 * pack are errors rather than a guess. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/fg_util.h"
#include "sensors/sensor.h"
#include "sensors/sensor_json.h"

/* RFC 8428 section 4.5.1: names start with a letter or digit and use only
 * these characters. */
static bool name_ok(const char *s, bool may_be_empty)
{
    if (!*s)
        return may_be_empty;
    for (const char *p = s; *p; p++) {
        char c = *p;
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && (p == s || !strchr("-:./_", c)))
            return false;
    }
    return true;
}

struct pack_state {
    const char *bn, *bu;
    double bt, bv;
    bool have_time, any;
    double newest; /* newest resolved time of any record */
};

/* The RFC 8428 keys a record may carry, with the JSON type each needs. */
enum {
    K_BN,
    K_BU,
    K_N,
    K_U,
    K_VS,
    K_VD,
    K_BT,
    K_BV,
    K_BS,
    K_BVER,
    K_V,
    K_S,
    K_T,
    K_UT,
    K_VB,
    K__N
};
static const struct {
    const char *name;
    char want; /* 's'tring, 'n'umber, 'b'oolean */
} senml_keys[K__N] = {
    [K_BN] = {"bn", 's'}, [K_BU] = {"bu", 's'},     [K_N] = {"n", 's'},   [K_U] = {"u", 's'},
    [K_VS] = {"vs", 's'}, [K_VD] = {"vd", 's'},     [K_BT] = {"bt", 'n'}, [K_BV] = {"bv", 'n'},
    [K_BS] = {"bs", 'n'}, [K_BVER] = {"bver", 'n'}, [K_V] = {"v", 'n'},   [K_S] = {"s", 'n'},
    [K_T] = {"t", 'n'},   [K_UT] = {"ut", 'n'},     [K_VB] = {"vb", 'b'},
};

/* Checks one record's keys (types of base and value fields, duplicates,
 * must-understand "_"-suffixed keys) and collects the known ones in k, in
 * one pass over the record. */
static fg_err check_record(const cJSON *r, struct pack_state *st, const cJSON *k[K__N], char *why,
                           size_t why_len)
{
    for (int i = 0; i < K__N; i++)
        k[i] = NULL;
    for (const cJSON *c = r->child; c; c = c->next) {
        const char *key = c->string;
        for (const cJSON *d = c->next; d; d = d->next)
            if (strcmp(d->string, key) == 0) {
                snprintf(why, why_len, "SenML record has key '%s' twice", key);
                return FG_ERR_PARSE;
            }
        size_t kl = strlen(key);
        if (kl && key[kl - 1] == '_') {
            snprintf(why, why_len, "SenML must-understand key is not supported");
            return FG_ERR_PARSE;
        }
        int i = 0;
        while (i < K__N && strcmp(key, senml_keys[i].name) != 0)
            i++;
        if (i == K__N)
            continue; /* not RFC 8428's: never read */
        char want = senml_keys[i].want;
        if ((want == 's' && !cJSON_IsString(c)) || (want == 'n' && !cJSON_IsNumber(c)) ||
            (want == 'b' && !cJSON_IsBool(c))) {
            snprintf(why, why_len, "SenML key '%s' must be %s", key,
                     want == 's'   ? "a string"
                     : want == 'n' ? "a number"
                                   : "true or false");
            return FG_ERR_TYPE;
        }
        if (want == 'n' && !isfinite(c->valuedouble)) {
            snprintf(why, why_len, "SenML key '%s' is not a finite number", key);
            return FG_ERR_RANGE;
        }
        k[i] = c;
    }
    const cJSON *bn = k[K_BN];
    if (bn) {
        if (!name_ok(bn->valuestring, false)) {
            snprintf(why, why_len, "SenML base name has characters RFC 8428 forbids");
            return FG_ERR_PARSE;
        }
        /* Two base names are two devices: this pack is not one record. */
        if (st->bn && strcmp(st->bn, bn->valuestring) != 0) {
            snprintf(why, why_len, "SenML pack names more than one base name");
            return FG_ERR_PARSE;
        }
        st->bn = bn->valuestring;
    }
    if (k[K_BT]) {
        st->bt = k[K_BT]->valuedouble;
        st->have_time = true;
    }
    if (k[K_BU])
        st->bu = k[K_BU]->valuestring;
    if (k[K_BV])
        st->bv = k[K_BV]->valuedouble;
    const cJSON *x = k[K_BVER];
    if (x && (x->valuedouble != floor(x->valuedouble) || x->valuedouble < 1)) {
        snprintf(why, why_len, "SenML version 'bver' must be a positive integer");
        return FG_ERR_RANGE;
    }
    return FG_OK;
}

/* Times below 2^28 are relative to now (RFC 8428 section 4.5.3). */
static double absolute_time(double t)
{
    return t < 268435456.0 ? (double)fg_now_ms() / 1000.0 + t : t;
}

static fg_err decode_senml(const struct sensor_type *t, const unsigned char *payload, size_t len,
                           struct sensor_record *rec, char *why, size_t why_len)
{
    cJSON *root;
    fg_err e = sensor_json_parse(payload, len, &root, why, why_len);
    if (e)
        return e;
    struct pack_state st = {0};
    bool from_record[SENSOR_MAX_FIELDS] = {false};
    if (!cJSON_IsArray(root) || !root->child) {
        snprintf(why, why_len, "SenML payload is not a non-empty array of records");
        e = FG_ERR_PARSE;
        goto out;
    }
    for (const cJSON *r = root->child; r && !e; r = r->next) {
        if (!cJSON_IsObject(r)) {
            snprintf(why, why_len, "SenML record is not an object");
            e = FG_ERR_PARSE;
            break;
        }
        const cJSON *k[K__N];
        if ((e = check_record(r, &st, k, why, why_len)))
            break;
        const cJSON *n = k[K_N], *u = k[K_U], *tt = k[K_T], *v = k[K_V], *vs = k[K_VS],
                    *vb = k[K_VB], *vd = k[K_VD];
        const char *name = n ? n->valuestring : "";
        if (!name_ok(name, st.bn != NULL) || (!*name && !st.bn)) {
            snprintf(why, why_len, "SenML record name is empty or has forbidden characters");
            e = FG_ERR_PARSE;
            break;
        }
        if ((v != NULL) + (vs != NULL) + (vb != NULL) + (vd != NULL) > 1) {
            snprintf(why, why_len, "SenML record carries more than one value");
            e = FG_ERR_PARSE;
            break;
        }
        double when = st.bt + (tt ? tt->valuedouble : 0);
        if (tt)
            st.have_time = true;
        if (!isfinite(when)) {
            snprintf(why, why_len, "SenML time is not a finite number");
            e = FG_ERR_RANGE;
            break;
        }
        if (!st.any || when > st.newest)
            st.newest = when;
        st.any = true;
        int idx = -1;
        for (size_t i = 0; i < t->nfields && idx < 0; i++)
            if (t->fields[i].senml && strcmp(t->fields[i].senml, name) == 0)
                idx = (int)i;
        if (idx < 0)
            continue; /* undeclared: never read */
        const struct sensor_field *f = &t->fields[idx];
        if (from_record[idx]) {
            snprintf(why, why_len, "field '%s' appears twice in the SenML pack", f->name);
            e = FG_ERR_PARSE;
            break;
        }
        from_record[idx] = true;
        const char *unit = u ? u->valuestring : st.bu;
        /* A sensor reporting another unit than declared (Fahrenheit for
         * Celsius) would pass every range check and still be wrong. */
        if (unit && f->unit && strcmp(unit, f->unit) != 0 && !vs && !vb) {
            snprintf(why, why_len, "field '%s' arrives in another unit than declared", f->name);
            e = FG_ERR_TYPE;
            break;
        }
        if (v)
            e = sensor_record_set_number(rec, (size_t)idx, v->valuedouble + st.bv, why, why_len);
        else if (vs)
            e = sensor_record_set_string(rec, (size_t)idx, vs->valuestring, strlen(vs->valuestring),
                                         why, why_len);
        else if (vb) {
            if ((e = sensor_record_set_bool(rec, (size_t)idx, cJSON_IsTrue(vb))))
                snprintf(why, why_len, "field '%s' must be %s, got a boolean", f->name,
                         sensor_ftype_name(f->type));
        } else if (vd) {
            snprintf(why, why_len, "field '%s' got opaque data (vd)", f->name);
            e = FG_ERR_TYPE;
        } else if (f->type == SENSOR_TIMESTAMP)
            e = sensor_record_set_number(rec, (size_t)idx, absolute_time(when), why, why_len);
        else {
            snprintf(why, why_len, "field '%s' has a SenML record without a value", f->name);
            e = FG_ERR_MISSING;
        }
    }
    if (e)
        goto out;
    /* A timestamp field without its own record takes the pack's time. */
    for (size_t i = 0; i < t->nfields && !e && st.have_time; i++)
        if (t->fields[i].type == SENSOR_TIMESTAMP && !from_record[i])
            e = sensor_record_set_number(rec, i, absolute_time(st.newest), why, why_len);
    if (e)
        goto out;
    /* The device comes from the topic when it has a {device}; otherwise from
     * the base name, without its trailing separator. */
    if (!rec->device[0] && st.bn) {
        size_t l = strlen(st.bn);
        while (l && strchr(":/.", st.bn[l - 1]))
            l--;
        if (l >= sizeof rec->device) {
            snprintf(why, why_len, "SenML base name too long for a device id");
            e = FG_ERR_TOO_BIG;
            goto out;
        }
        memcpy(rec->device, st.bn, l);
        rec->device[l] = '\0';
    }
out:
    cJSON_Delete(root);
    return e;
}

const struct sensor_decoder sensor_decoder_senml = {
    .name = "senml",
    .decode = decode_senml,
};
