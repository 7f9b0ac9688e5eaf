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
    bool any;
    double newest; /* newest resolved time of any record */
    /* resolved names (no bn, n = "device:name"): the device part */
    const char *prefix;
    size_t prefix_len;
    size_t nrecords, nmatched;
    bool seen[SENSOR_MAX_FIELDS];
    double seen_at[SENSOR_MAX_FIELDS];
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
    if (k[K_BT])
        st->bt = k[K_BT]->valuedouble;
    if (k[K_BU])
        st->bu = k[K_BU]->valuestring;
    if (k[K_BV])
        st->bv = k[K_BV]->valuedouble;
    const cJSON *x = k[K_BVER];
    if (x && (x->valuedouble != floor(x->valuedouble) || x->valuedouble < 1)) {
        snprintf(why, why_len, "SenML version 'bver' must be a positive integer");
        return FG_ERR_RANGE;
    }
    /* RFC 8428 is version 10; higher versions announce features (RFC 9100)
     * a receiver must understand or reject. */
    if (x && x->valuedouble > 10) {
        snprintf(why, why_len, "SenML version (bver %.0f) is above 10, the one fairgate reads",
                 x->valuedouble);
        return FG_ERR_PARSE;
    }
    return FG_OK;
}

/* Times below 2^28 are relative to now (RFC 8428 section 4.5.3): zero or no
 * time at all is "roughly now", negative values are the past. */
static double absolute_time(double t)
{
    return t < 268435456.0 ? (double)fg_now_ms() / 1000.0 + t : t;
}

/* A unit safe to show in a reason: short, from the unit alphabet. */
static const char *shown_unit(const char *u)
{
    size_t n = strlen(u);
    if (n == 0 || n > 16 ||
        strspn(u, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                  "0123456789%/._-") != n)
        return "(not shown: unusual characters)";
    return u;
}

/* The field a record's name reads, or -1. With a base name the record name
 * is n; without one, n may be a resolved name ("urn:dev:ow:10e2:voltage",
 * RFC 8428 section 5.1.4): then the part after the last ':' or '/' is the
 * name and the part before it the device, the same for the whole pack. */
static int find_field(const struct sensor_type *t, struct pack_state *st, const char *name,
                      char *why, size_t why_len, fg_err *e)
{
    for (size_t i = 0; i < t->nfields; i++)
        if (t->fields[i].senml && strcmp(t->fields[i].senml, name) == 0)
            return (int)i;
    if (st->bn)
        return -1;
    const char *sep = NULL;
    for (const char *p = name; *p; p++)
        if (*p == ':' || *p == '/')
            sep = p;
    if (!sep || !sep[1])
        return -1;
    int idx = -1;
    for (size_t i = 0; i < t->nfields && idx < 0; i++)
        if (t->fields[i].senml && strcmp(t->fields[i].senml, sep + 1) == 0)
            idx = (int)i;
    if (idx < 0)
        return -1;
    size_t plen = (size_t)(sep + 1 - name);
    if (st->prefix && (plen != st->prefix_len || memcmp(st->prefix, name, plen) != 0)) {
        snprintf(why, why_len, "SenML pack names more than one device in its record names");
        *e = FG_ERR_PARSE;
        return -1;
    }
    st->prefix = name;
    st->prefix_len = plen;
    return idx;
}

/* Stores one declared record's value into field idx. */
static fg_err store_record(const struct sensor_type *t, struct pack_state *st, int idx,
                           const cJSON *const k[K__N], double when, struct sensor_record *rec,
                           char *why, size_t why_len)
{
    const struct sensor_field *f = &t->fields[idx];
    const cJSON *u = k[K_U], *v = k[K_V], *vs = k[K_VS], *vb = k[K_VB], *vd = k[K_VD];
    if (st->seen[idx]) {
        /* The same name at another time is a time series (RFC 8428 5.1.3). */
        if (st->seen_at[idx] != when)
            snprintf(why, why_len,
                     "SenML pack is a time series: field '%s' has readings at more than one "
                     "time; fairgate decodes one pack into one record, so the device must send "
                     "one pack per time (docs/integrators.md, SenML time series)",
                     f->name);
        else
            snprintf(why, why_len, "field '%s' appears twice in the SenML pack", f->name);
        return FG_ERR_PARSE;
    }
    st->seen[idx] = true;
    st->seen_at[idx] = when;
    st->nmatched++;
    const char *unit = u ? u->valuestring : st->bu;
    /* A sensor reporting another unit than declared (Fahrenheit for
     * Celsius) would pass every range check and still be wrong. */
    if (unit && f->unit && strcmp(unit, f->unit) != 0 && !vs && !vb && !vd) {
        bool safe = shown_unit(unit) == unit;
        snprintf(why, why_len, "field '%s' arrives in unit %s%s%s, declared unit '%s'", f->name,
                 safe ? "'" : "", shown_unit(unit), safe ? "'" : "", f->unit);
        return FG_ERR_TYPE;
    }
    fg_err e;
    if (v)
        return sensor_record_set_number(rec, (size_t)idx, v->valuedouble + st->bv, why, why_len);
    if (vs)
        return sensor_record_set_string(rec, (size_t)idx, vs->valuestring, strlen(vs->valuestring),
                                        why, why_len);
    if (vb) {
        if ((e = sensor_record_set_bool(rec, (size_t)idx, cJSON_IsTrue(vb))))
            snprintf(why, why_len, "field '%s' must be %s, got a boolean", f->name,
                     sensor_ftype_name(f->type));
        return e;
    }
    if (vd) {
        /* Data values are base64url text (RFC 8428 4.3): a string field keeps
         * the text as sent. */
        if (f->type != SENSOR_STRING) {
            snprintf(why, why_len, "field '%s' got data (vd); only a string field holds it",
                     f->name);
            return FG_ERR_TYPE;
        }
        return sensor_record_set_string(rec, (size_t)idx, vd->valuestring, strlen(vd->valuestring),
                                        why, why_len);
    }
    if (f->type == SENSOR_TIMESTAMP)
        return sensor_record_set_number(rec, (size_t)idx, absolute_time(when), why, why_len);
    snprintf(why, why_len, "field '%s' has a SenML record without a value", f->name);
    return FG_ERR_MISSING;
}

/* After the records: the pack's time, the device, and at least one field. */
static fg_err finish_pack(const struct sensor_type *t, struct pack_state *st,
                          struct sensor_record *rec, char *why, size_t why_len)
{
    if (st->nmatched == 0) {
        char names[512];
        size_t o = 0;
        names[0] = '\0';
        for (size_t i = 0; i < t->nfields && o < sizeof names; i++)
            o += (size_t)snprintf(names + o, sizeof names - o, "%s%s", i ? ", " : "",
                                  t->fields[i].senml);
        snprintf(why, why_len,
                 "SenML pack has %zu record(s) and none is named as a field of type %s "
                 "(it reads: %s)",
                 st->nrecords, t->name, names);
        return FG_ERR_MISSING;
    }
    /* resolved names of one device, then a base name of another */
    if (st->bn && st->prefix &&
        (strlen(st->bn) != st->prefix_len || memcmp(st->bn, st->prefix, st->prefix_len) != 0)) {
        snprintf(why, why_len, "SenML pack names more than one device in its record names");
        return FG_ERR_PARSE;
    }
    /* A timestamp field without its own record takes the pack's time; a
     * pack without any time was measured "now" (RFC 8428 4.5.3). */
    for (size_t i = 0; i < t->nfields; i++)
        if (t->fields[i].type == SENSOR_TIMESTAMP && !st->seen[i]) {
            fg_err e = sensor_record_set_number(rec, i, absolute_time(st->newest), why, why_len);
            if (e)
                return e;
        }
    /* The device comes from the topic when it has a {device}; otherwise from
     * the base name (or a resolved name's device part), without its trailing
     * separator. */
    const char *dev = st->bn ? st->bn : st->prefix;
    if (!rec->device[0] && dev) {
        size_t l = st->bn ? strlen(st->bn) : st->prefix_len;
        while (l && strchr(":/.", dev[l - 1]))
            l--;
        if (l >= sizeof rec->device) {
            snprintf(why, why_len, "SenML base name too long for a device id");
            return FG_ERR_TOO_BIG;
        }
        memcpy(rec->device, dev, l);
        rec->device[l] = '\0';
    }
    return FG_OK;
}

static fg_err decode_senml(const struct sensor_type *t, const unsigned char *payload, size_t len,
                           struct sensor_record *rec, char *why, size_t why_len)
{
    cJSON *root;
    fg_err e = sensor_json_parse(payload, len, &root, why, why_len);
    if (e)
        return e;
    struct pack_state st;
    memset(&st, 0, sizeof st);
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
        st.nrecords++;
        const cJSON *n = k[K_N], *tt = k[K_T];
        const char *name = n ? n->valuestring : "";
        if (!name_ok(name, st.bn != NULL) || (!*name && !st.bn)) {
            snprintf(why, why_len, "SenML record name is empty or has forbidden characters");
            e = FG_ERR_PARSE;
            break;
        }
        if ((k[K_V] != NULL) + (k[K_VS] != NULL) + (k[K_VB] != NULL) + (k[K_VD] != NULL) > 1) {
            snprintf(why, why_len, "SenML record carries more than one value");
            e = FG_ERR_PARSE;
            break;
        }
        double when = st.bt + (tt ? tt->valuedouble : 0);
        if (!isfinite(when)) {
            snprintf(why, why_len, "SenML time is not a finite number");
            e = FG_ERR_RANGE;
            break;
        }
        if (!st.any || when > st.newest)
            st.newest = when;
        st.any = true;
        int idx = find_field(t, &st, name, why, why_len, &e);
        if (idx >= 0) /* else undeclared: never read */
            e = store_record(t, &st, idx, k, when, rec, why, why_len);
    }
    if (!e)
        e = finish_pack(t, &st, rec, why, why_len);
out:
    cJSON_Delete(root);
    return e;
}

const struct sensor_decoder sensor_decoder_senml = {
    .name = "senml",
    .decode = decode_senml,
};
