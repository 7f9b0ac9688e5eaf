/* Sensor type descriptors: YAML files integrators write. Every mistake is an
 * error naming file:line:col, with the nearest valid word where one is close. */
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "common/fg_util.h"
#include "common/fg_yaml.h"
#include "sensors/sensor.h"
#include "sensors/sensor_internal.h"

static const char *const cat_names[SENSOR_CAT__COUNT] = {
    "worker-id",   "device-id", "location",     "zone",        "time",    "health",
    "performance", "behaviour", "safety-event", "environment", "machine", "device-health"};
static const char *const ftype_names[SENSOR_FTYPE__COUNT] = {"string",  "integer",   "number",
                                                             "boolean", "timestamp", "enum"};
static const char *const format_names[] = {"json", "binary", "senml", "c"};
#define N(a) (sizeof(a) / sizeof((a)[0]))

const char *const sensor_type_keys[] = {"type",    "description", "topic", "format",
                                        "decoder", "length",      "fields"};
const size_t sensor_ntype_keys = N(sensor_type_keys);
const char *const sensor_field_keys[] = {
    "type",  "category",   "unit",   "path",   "description", "required", "min",
    "max",   "max_length", "values", "offset", "width",       "signed",   "endian",
    "scale", "senml",      "bit",    "bits",   "person",      "zones"};
const size_t sensor_nfield_keys = N(sensor_field_keys);
#define type_keys sensor_type_keys
#define field_keys sensor_field_keys

const char *sensor_category_name(sensor_category c)
{
    return (unsigned)c < SENSOR_CAT__COUNT ? cat_names[c] : "?";
}

bool sensor_category_parse(const char *s, sensor_category *out)
{
    for (int i = 0; i < SENSOR_CAT__COUNT; i++)
        if (strcmp(s, cat_names[i]) == 0) {
            *out = (sensor_category)i;
            return true;
        }
    return false;
}

const char *sensor_ftype_name(sensor_ftype t)
{
    return (unsigned)t < SENSOR_FTYPE__COUNT ? ftype_names[t] : "?";
}

const char *sensor_format_name(sensor_format f)
{
    return (unsigned)f < N(format_names) ? format_names[f] : "?";
}

fg_err sensor_registry_new(struct sensor_registry **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? FG_OK : FG_ERR_NOMEM;
}

static void type_free(struct sensor_type *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nfields; i++) {
        struct sensor_field *f = &t->fields[i];
        free(f->name);
        for (int j = 0; j < f->path_len; j++)
            free(f->path[j]);
        free(f->unit);
        free(f->description);
        for (size_t j = 0; j < f->nvalues; j++)
            free(f->values[j]);
        free(f->values);
        free(f->codes);
        free(f->senml);
        free(f->person);
        for (size_t j = 0; j < f->nzones; j++)
            free(f->zones[j]);
        free(f->zones);
    }
    sensor_plugin_view_free(t->plugin_view);
    for (int i = 0; i < t->nsegs; i++)
        free(t->segs[i]);
    free(t->name);
    free(t->description);
    free(t->topic);
    free(t->source);
    free(t);
}

void sensor_registry_free(struct sensor_registry *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->ntypes; i++)
        type_free(r->types[i]);
    for (size_t i = 0; i < r->nplugins; i++)
        sensor_plugin_unload(r->plugins[i], r->handles[i]);
    free(r);
}

size_t sensor_registry_count(const struct sensor_registry *r)
{
    return r->ntypes;
}

const struct sensor_type *sensor_registry_at(const struct sensor_registry *r, size_t i)
{
    return i < r->ntypes ? r->types[i] : NULL;
}

const struct sensor_type *sensor_registry_find(const struct sensor_registry *r, const char *name)
{
    for (size_t i = 0; i < r->ntypes; i++)
        if (strcmp(r->types[i]->name, name) == 0)
            return r->types[i];
    return NULL;
}

/* ---- error helpers ------------------------------------------------------- */

struct ctx {
    struct fg_yaml *y;
    char *why;
    size_t why_len;
    const struct sensor_registry *reg;
};

static fg_err bad(struct ctx *c, yaml_node_t *n, const char *fmt, const char *a, const char *b)
{
    return fg_yaml_bad(c->y, n, c->why, c->why_len, fmt, a, b);
}

static fg_err bad_word(struct ctx *c, yaml_node_t *n, const char *what, const char *word,
                       const char *const *valid, size_t nvalid)
{
    return fg_yaml_bad_word(c->y, n, c->why, c->why_len, what, word, valid, nvalid);
}

static fg_err want_scalar(struct ctx *c, yaml_node_t *n, const char *key, const char **out)
{
    *out = fg_yaml_scalar(n);
    if (!*out || !**out)
        return bad(c, n, "'%s' must be a non-empty text value", key, NULL);
    return FG_OK;
}

static fg_err dup_str(const char *s, char **out)
{
    *out = strdup(s);
    return *out ? FG_OK : FG_ERR_NOMEM;
}

/* ---- topic patterns -------------------------------------------------------- */

static fg_err compile_topic(struct ctx *c, yaml_node_t *n, struct sensor_type *t)
{
    t->device_seg = -1;
    const char *p = t->topic;
    if (strchr(p, '+') || strchr(p, '#'))
        return bad(c, n, "topic '%s' must not contain MQTT wildcards; use {device}", p, NULL);
    while (*p) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if (t->nsegs == 16)
            return bad(c, n, "topic has too many levels", NULL, NULL);
        if (len == 0)
            return bad(c, n, "topic '%s' has an empty level", t->topic, NULL);
        t->segs[t->nsegs] = strndup(p, len);
        if (!t->segs[t->nsegs])
            return FG_ERR_NOMEM;
        const char *seg = t->segs[t->nsegs];
        if (seg[0] == '{') {
            if (seg[len - 1] != '}')
                return bad(c, n, "topic level '%s' is not a {placeholder}", seg, NULL);
            if (strcmp(seg, "{device}") == 0)
                t->device_seg = t->nsegs;
        }
        t->nsegs++;
        p += len;
        if (*p == '/')
            p++;
    }
    if (t->nsegs == 0)
        return bad(c, n, "topic is empty", NULL, NULL);
    return FG_OK;
}

void sensor_type_topic(const struct sensor_type *t, const char *fill, char *buf, size_t len)
{
    size_t o = 0;
    buf[0] = '\0';
    for (int i = 0; i < t->nsegs && o < len; i++) {
        const char *s = t->segs[i][0] == '{' ? fill : t->segs[i];
        o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? "/" : "", s);
    }
}

const struct sensor_type *sensor_registry_match(const struct sensor_registry *r, const char *topic,
                                                char *device, size_t device_len)
{
    for (size_t k = 0; k < r->ntypes; k++) {
        const struct sensor_type *t = r->types[k];
        const char *p = topic;
        int i = 0;
        bool ok = true;
        if (device_len)
            device[0] = '\0';
        for (; i < t->nsegs && ok; i++) {
            const char *slash = strchr(p, '/');
            size_t len = slash ? (size_t)(slash - p) : strlen(p);
            if (len == 0)
                ok = false;
            else if (t->segs[i][0] == '{') {
                if (i == t->device_seg && device_len) {
                    if (len >= device_len)
                        ok = false;
                    else {
                        memcpy(device, p, len);
                        device[len] = '\0';
                    }
                }
            } else if (strncmp(t->segs[i], p, len) != 0 || t->segs[i][len] != '\0')
                ok = false;
            p += len;
            if (i + 1 < t->nsegs) {
                if (*p != '/')
                    ok = false;
                else
                    p++;
            }
        }
        if (ok && *p == '\0')
            return t;
    }
    return NULL;
}

/* ---- fields ---------------------------------------------------------------- */

/* YAML lets a key appear twice in a mapping and keeps the last: in a
 * descriptor that silently discards what the integrator wrote first. */
static fg_err check_unique_keys(struct ctx *c, yaml_node_t *map)
{
    struct fg_yaml *y = c->y;
    FG_YAML_MAP_FOREACH(y, map, a)
    {
        const char *ka = fg_yaml_scalar(fg_yaml_node(y, a->key));
        for (yaml_node_pair_t *b = a + 1; ka && b < map->data.mapping.pairs.top; b++) {
            yaml_node_t *kb = fg_yaml_node(y, b->key);
            const char *s = fg_yaml_scalar(kb);
            if (s && strcmp(s, ka) == 0)
                return bad(c, kb, "key '%s' appears twice", s, NULL);
        }
    }
    return FG_OK;
}

static bool is_binary_key(const char *k)
{
    static const char *const keys[] = {"offset", "width", "signed", "endian",
                                       "scale",  "bit",   "bits"};
    for (size_t i = 0; i < N(keys); i++)
        if (strcmp(k, keys[i]) == 0)
            return true;
    return false;
}

/* `values: {0: closed, 1: open}`: a binary field's codes and their words
 * (descriptor_binary.c). */
static fg_err value_map(struct ctx *c, yaml_node_t *vn, struct sensor_type *t,
                        struct sensor_field *f)
{
    if (t->format != SENSOR_FMT_BINARY)
        return bad(c, vn,
                   "a value map (values: {0: closed}) applies to format: binary; field '%s' "
                   "lists its words: values: [closed, open]",
                   f->name, NULL);
    yaml_node_t *at = vn;
    char msg[256] = "";
    fg_err e = sensor_binary_value_map(c->y, vn, f, &at, msg, sizeof msg);
    return e == FG_ERR_CONFIG ? bad(c, at, "%s", msg, NULL) : e;
}

/* `path: a.b`: where a JSON or C decoder finds the field. */
static fg_err parse_path(struct ctx *c, yaml_node_t *vn, const char *v, struct sensor_field *f)
{
    char *copy = strdup(v), *save = NULL;
    if (!copy)
        return FG_ERR_NOMEM;
    for (char *tok = strtok_r(copy, ".", &save); tok; tok = strtok_r(NULL, ".", &save)) {
        if (f->path_len == SENSOR_MAX_PATH) {
            free(copy);
            return bad(c, vn, "path of field '%s' is deeper than 4 levels", f->name, NULL);
        }
        if (!(f->path[f->path_len++] = strdup(tok))) {
            free(copy);
            return FG_ERR_NOMEM;
        }
    }
    free(copy);
    if (f->path_len == 0)
        return bad(c, vn, "path of field '%s' is empty", f->name, NULL);
    return FG_OK;
}

/* `zones: [..]`: the zone names a site uses, into a fresh array. */
static fg_err parse_zones(struct ctx *c, yaml_node_t *vn, struct sensor_field *f)
{
    if (vn->type != YAML_SEQUENCE_NODE)
        return bad(c, vn, "'zones' of field '%s' must be a list", f->name, NULL);
    size_t cnt = (size_t)(vn->data.sequence.items.top - vn->data.sequence.items.start);
    f->zones = calloc(cnt ? cnt : 1, sizeof(char *));
    if (!f->zones)
        return FG_ERR_NOMEM;
    FG_YAML_SEQ_FOREACH(c->y, vn, it)
    {
        const char *s = fg_yaml_scalar(fg_yaml_node(c->y, *it));
        if (!s || !*s)
            return bad(c, vn, "'zones' of field '%s' must be text", f->name, NULL);
        fg_err e = dup_str(s, &f->zones[f->nzones++]);
        if (e)
            return e;
    }
    return FG_OK;
}

/* `person: FIELD` names a worker-id field of the same type; resolved once all
 * fields are known. */
static fg_err link_persons(struct ctx *c, yaml_node_t *fields, struct sensor_type *t)
{
    for (size_t i = 0; i < t->nfields; i++) {
        struct sensor_field *f = &t->fields[i];
        f->person_idx = -1;
        if (!f->person)
            continue;
        int k = sensor_field_index(t, f->person);
        if (k < 0 || t->fields[k].category != SENSOR_CAT_WORKER_ID)
            return bad(c, fields, "'person' of field '%s' must name a worker-id field of %s",
                       f->name, t->name);
        if (f->category == SENSOR_CAT_WORKER_ID)
            return bad(c, fields, "field '%s' is a worker id itself: it needs no 'person'", f->name,
                       NULL);
        f->person_idx = k;
    }
    return FG_OK;
}

/* `values`: the words of an enum, or a binary value map. */
static fg_err parse_values(struct ctx *c, yaml_node_t *vn, struct sensor_type *t,
                           struct sensor_field *f)
{
    if (vn->type == YAML_MAPPING_NODE)
        return value_map(c, vn, t, f);
    if (vn->type != YAML_SEQUENCE_NODE)
        return bad(c, vn, "'values' of field '%s' must be a list", f->name, NULL);
    size_t cnt = (size_t)(vn->data.sequence.items.top - vn->data.sequence.items.start);
    f->values = calloc(cnt ? cnt : 1, sizeof(char *));
    if (!f->values)
        return FG_ERR_NOMEM;
    FG_YAML_SEQ_FOREACH(c->y, vn, it)
    {
        const char *s = fg_yaml_scalar(fg_yaml_node(c->y, *it));
        if (!s)
            return bad(c, vn, "'values' of field '%s' must be text", f->name, NULL);
        fg_err e = dup_str(s, &f->values[f->nvalues++]);
        if (e)
            return e;
    }
    return FG_OK;
}

/* The whole-number layout keys of a binary field (offset, width, bit, bits). */
static fg_err layout_number(struct ctx *c, const char *k, yaml_node_t *vn, int64_t i,
                            struct sensor_field *f, bool *have_width)
{
    if (strcmp(k, "offset") == 0)
        f->offset = (int)i;
    else if (strcmp(k, "bit") == 0) {
        f->bit = (int)i;
        if (!f->bits)
            f->bits = 1; /* bit: N alone is one bit */
    } else if (strcmp(k, "bits") == 0) {
        if (i == 0 || i > 63)
            return bad(c, vn, "'bits' of field '%s' must be 1..63", f->name, NULL);
        f->bits = (int)i;
    } else {
        f->width = (int)i;
        *have_width = true;
    }
    return FG_OK;
}

/* Width, scale and the layout's end, once a binary field's keys are read. */
static fg_err finish_binary(struct ctx *c, yaml_node_t *n, struct sensor_type *t,
                            const struct sensor_field *f, bool have_width)
{
    static const int ok_widths[] = {1, 2, 4, 8};
    bool ok = false;
    for (int i = 0; i < 4; i++)
        ok = ok || f->width == ok_widths[i];
    if (!ok)
        return bad(c, n,
                   have_width ? "binary field '%s' needs width 1, 2, 4 or 8"
                              : "binary field '%s' needs 'offset' and 'width' (1, 2, 4 or 8)",
                   f->name, NULL);
    if (f->scale == 0)
        return bad(c, n, "binary field '%s' has scale 0", f->name, NULL);
    if ((size_t)f->offset + (size_t)f->width > t->min_length)
        t->min_length = (size_t)f->offset + (size_t)f->width;
    return FG_OK;
}

/* What every field needs once its keys are read. */
static fg_err finish_field(struct ctx *c, yaml_node_t *n, const struct sensor_type *t,
                           struct sensor_field *f, bool have_type, bool have_cat)
{
    const char *name = f->name;
    fg_err e;
    if (!have_type && f->codes) { /* a value map names codes: an enum */
        f->type = SENSOR_ENUM;
        have_type = true;
    }
    if (!have_type)
        return bad(c, n, "field '%s' has no type", name, NULL);
    if (!have_cat)
        return bad(c, n, "field '%s' has no data category: every field must declare one", name,
                   NULL);
    if (f->type == SENSOR_ENUM && f->nvalues == 0)
        return bad(c, n,
                   t->format == SENSOR_FMT_BINARY
                       ? "enum field '%s' needs a value map, e.g. values: {0: closed, 1: open}"
                       : "enum field '%s' needs a 'values' list",
                   name, NULL);
    if (f->path_len == 0) {
        f->path_len = 1;
        if ((e = dup_str(name, &f->path[0])))
            return e;
    }
    if (f->type != SENSOR_ENUM && f->nvalues && !f->codes)
        return bad(c, n, "'values' applies to enum fields only (field '%s')", name, NULL);
    if (f->nzones && (f->category != SENSOR_CAT_ZONE || f->type != SENSOR_STRING))
        return bad(c, n, "'zones' applies to text fields of category zone only (field '%s')", name,
                   NULL);
    if (f->has_min && f->has_max && f->min > f->max)
        return bad(c, n, "field '%s' has min above max", name, NULL);
    return FG_OK;
}

static fg_err parse_field(struct ctx *c, const char *name, yaml_node_t *n, struct sensor_type *t,
                          struct sensor_field *f)
{
    struct fg_yaml *y = c->y;
    fg_err e = dup_str(name, &f->name);
    if (e)
        return e;
    f->scale = 1.0;
    f->little_endian = false;
    if (n->type != YAML_MAPPING_NODE)
        return bad(c, n, "field '%s' must be a mapping like { type: number, category: location }",
                   name, NULL);
    bool have_type = false, have_cat = false, have_width = false;
    if ((e = check_unique_keys(c, n)))
        return e;
    FG_YAML_MAP_FOREACH(y, n, pair)
    {
        yaml_node_t *kn = fg_yaml_node(y, pair->key), *vn = fg_yaml_node(y, pair->value);
        const char *k = fg_yaml_scalar(kn), *v = fg_yaml_scalar(vn);
        if (!k)
            return bad(c, kn, "field keys must be text", NULL, NULL);
        /* A layout key on a JSON field is a mistake that would otherwise pass
         * unnoticed until someone wonders why it has no effect. */
        if (is_binary_key(k) && t->format != SENSOR_FMT_BINARY)
            return bad(c, kn, "'%s' only applies to format: binary (field '%s')", k, name);
        if (strcmp(k, "senml") == 0 && t->format != SENSOR_FMT_SENML)
            return bad(c, kn, "'senml' only applies to format: senml (field '%s')", name, NULL);
        if (strcmp(k, "path") == 0 && t->format != SENSOR_FMT_JSON && t->format != SENSOR_FMT_C)
            return bad(c, kn, "'path' only applies to format: json or c (field '%s')", name, NULL);
        if (strcmp(k, "values") == 0) {
            if ((e = parse_values(c, vn, t, f)))
                return e;
            continue;
        }
        if (strcmp(k, "zones") == 0) {
            if ((e = parse_zones(c, vn, f)))
                return e;
            continue;
        }
        if (!v)
            return bad(c, vn, "'%s' of field '%s' must be a single value", k, name);
        if (strcmp(k, "type") == 0) {
            int found = -1;
            for (int i = 0; i < SENSOR_FTYPE__COUNT; i++)
                if (strcmp(v, ftype_names[i]) == 0)
                    found = i;
            if (found < 0)
                return bad_word(c, vn, "field type", v, ftype_names, N(ftype_names));
            f->type = (sensor_ftype)found;
            have_type = true;
        } else if (strcmp(k, "category") == 0) {
            if (!sensor_category_parse(v, &f->category))
                return bad_word(c, vn, "data category", v, cat_names, N(cat_names));
            have_cat = true;
        } else if (strcmp(k, "person") == 0) {
            if ((e = dup_str(v, &f->person)))
                return e;
        } else if (strcmp(k, "unit") == 0) {
            if ((e = dup_str(v, &f->unit)))
                return e;
        } else if (strcmp(k, "description") == 0) {
            if ((e = dup_str(v, &f->description)))
                return e;
        } else if (strcmp(k, "path") == 0) {
            if ((e = parse_path(c, vn, v, f)))
                return e;
        } else if (strcmp(k, "required") == 0) {
            if (!fg_yaml_to_bool(v, &f->required))
                return bad(c, vn, "'required' must be true or false", NULL, NULL);
        } else if (strcmp(k, "min") == 0 || strcmp(k, "max") == 0 || strcmp(k, "scale") == 0) {
            double d;
            if (!fg_yaml_to_double(v, &d))
                return bad(c, vn, "'%s' of field '%s' must be a number", k, name);
            if (k[1] == 'i') {
                f->min = d;
                f->has_min = true;
            } else if (k[1] == 'a') {
                f->max = d;
                f->has_max = true;
            } else
                f->scale = d;
        } else if (strcmp(k, "max_length") == 0 || strcmp(k, "offset") == 0 ||
                   strcmp(k, "width") == 0 || strcmp(k, "bit") == 0 || strcmp(k, "bits") == 0) {
            int64_t i;
            if (!fg_yaml_to_int(v, &i) || i < 0 || i > 65535)
                return bad(c, vn, "'%s' of field '%s' must be a whole number", k, name);
            if (k[0] == 'm')
                f->max_length = (size_t)i;
            else if ((e = layout_number(c, k, vn, i, f, &have_width)))
                return e;
        } else if (strcmp(k, "senml") == 0) {
            if (!*v)
                return bad(c, vn, "'senml' of field '%s' must be a record name", name, NULL);
            if ((e = dup_str(v, &f->senml)))
                return e;
        } else if (strcmp(k, "signed") == 0) {
            if (!fg_yaml_to_bool(v, &f->is_signed))
                return bad(c, vn, "'signed' must be true or false", NULL, NULL);
        } else if (strcmp(k, "endian") == 0) {
            if (strcmp(v, "little") && strcmp(v, "big"))
                return bad(c, vn, "'endian' must be little or big", NULL, NULL);
            f->little_endian = v[0] == 'l';
        } else
            return bad_word(c, kn, "field key", k, field_keys, sensor_nfield_keys);
    }
    if ((e = finish_field(c, n, t, f, have_type, have_cat)))
        return e;
    if (t->format == SENSOR_FMT_BINARY && (e = finish_binary(c, n, t, f, have_width)))
        return e;
    if (t->format == SENSOR_FMT_SENML && !f->senml && (e = dup_str(name, &f->senml)))
        return e;
    return FG_OK;
}

/* A misspelt decoder: the nearest name and the list (plugin_loader.c). */
static fg_err bad_decoder(struct ctx *c, yaml_node_t *n, const char *want)
{
    char msg[768];
    sensor_decoder_suggest(c->reg, want, msg, sizeof msg);
    return bad(c, n, "%s", msg, NULL);
}

static fg_err parse_type(struct ctx *c, const char *path, struct sensor_type *t)
{
    struct fg_yaml *y = c->y;
    yaml_node_t *root = fg_yaml_root(y);
    fg_err e;
    if (!root || root->type != YAML_MAPPING_NODE)
        return bad(c, root, "a sensor type descriptor must be a mapping", NULL, NULL);
    if ((e = dup_str(path, &t->source)))
        return e;
    yaml_node_t *fields = NULL, *format_node = NULL, *decoder_node = NULL, *length_node = NULL;
    const char *decoder = NULL;
    if ((e = check_unique_keys(c, root)))
        return e;
    FG_YAML_MAP_FOREACH(y, root, pair)
    {
        yaml_node_t *kn = fg_yaml_node(y, pair->key), *vn = fg_yaml_node(y, pair->value);
        const char *k = fg_yaml_scalar(kn), *v;
        if (!k)
            return bad(c, kn, "keys must be text", NULL, NULL);
        if (strcmp(k, "fields") == 0) {
            fields = vn;
            continue;
        }
        if (strcmp(k, "type") == 0) {
            if ((e = want_scalar(c, vn, k, &v)) || (e = dup_str(v, &t->name)))
                return e;
        } else if (strcmp(k, "description") == 0) {
            if ((e = want_scalar(c, vn, k, &v)) || (e = dup_str(v, &t->description)))
                return e;
        } else if (strcmp(k, "topic") == 0) {
            if ((e = want_scalar(c, vn, k, &v)) || (e = dup_str(v, &t->topic)) ||
                (e = compile_topic(c, vn, t)))
                return e;
        } else if (strcmp(k, "format") == 0) {
            if ((e = want_scalar(c, vn, k, &v)))
                return e;
            int found = -1;
            for (size_t i = 0; i < N(format_names); i++)
                if (strcmp(v, format_names[i]) == 0)
                    found = (int)i;
            if (found < 0)
                return bad_word(c, vn, "format", v, format_names, N(format_names));
            t->format = (sensor_format)found;
            format_node = vn;
        } else if (strcmp(k, "decoder") == 0) {
            if ((e = want_scalar(c, vn, k, &decoder)))
                return e;
            decoder_node = vn;
        } else if (strcmp(k, "length") == 0) {
            int64_t l;
            if (!fg_yaml_to_int(fg_yaml_scalar(vn), &l) || l <= 0 || l > 65535)
                return bad(c, vn, "'length' must be a whole number of bytes (1..65535)", NULL,
                           NULL);
            t->length = (size_t)l;
            length_node = vn;
        } else
            return bad_word(c, kn, "key", k, type_keys, sensor_ntype_keys);
    }
    if (!t->name)
        return bad(c, root, "descriptor has no 'type' name", NULL, NULL);
    if (!t->topic)
        return bad(c, root, "sensor type '%s' has no 'topic'", t->name, NULL);
    if (!fields || fields->type != YAML_MAPPING_NODE)
        return bad(c, fields ? fields : root, "sensor type '%s' needs a 'fields' mapping", t->name,
                   NULL);
    /* The decoder: by format, or a C decoder named in 'decoder' (format: c). */
    const char *want = t->format == SENSOR_FMT_C ? decoder : format_names[t->format];
    if (!want)
        return bad(c, format_node, "format c needs 'decoder: NAME'", NULL, NULL);
    if (decoder && t->format != SENSOR_FMT_C)
        return bad(c, decoder_node, "'decoder' applies to format: c only", NULL, NULL);
    if (length_node && t->format != SENSOR_FMT_BINARY)
        return bad(c, length_node, "'length' applies to format: binary only", NULL, NULL);
    t->decoder = sensor_registry_decoder(c->reg, want);
    if (!t->decoder && t->format == SENSOR_FMT_C)
        return bad_decoder(c, decoder_node, want);
    if (!t->decoder)
        return bad(c, format_node, "no decoder named '%s' is built in", want, NULL);
    FG_YAML_MAP_FOREACH(y, fields, pair)
    {
        yaml_node_t *kn = fg_yaml_node(y, pair->key);
        const char *name = fg_yaml_scalar(kn);
        if (!name || !*name)
            return bad(c, kn, "field names must be text", NULL, NULL);
        if (sensor_field_index(t, name) >= 0)
            return bad(c, kn, "field '%s' declared twice", name, NULL);
        if (t->nfields == SENSOR_MAX_FIELDS)
            return bad(c, kn, "more than 64 fields", NULL, NULL);
        struct sensor_field *f = &t->fields[t->nfields++];
        yaml_node_t *fn = fg_yaml_node(y, pair->value);
        if ((e = parse_field(c, name, fn, t, f)))
            return e;
        char msg[512];
        if (t->format == SENSOR_FMT_BINARY &&
            (e = sensor_binary_check_field(t, t->nfields - 1, msg, sizeof msg)))
            return e == FG_ERR_CONFIG ? bad(c, fn, "%s", msg, NULL) : e;
    }
    if (t->nfields == 0)
        return bad(c, fields, "sensor type '%s' declares no fields", t->name, NULL);
    if ((e = link_persons(c, fields, t)))
        return e;
    if (t->decoder->plugin) {
        char msg[256] = "";
        if ((e = sensor_plugin_bind(t, msg, sizeof msg)))
            return e == FG_ERR_NOMEM ? e : bad(c, fields, "%s", msg, NULL);
    } else if (t->decoder->check) {
        char msg[256] = "";
        if ((e = t->decoder->check(t, msg, sizeof msg)))
            return bad(c, fields, "%s", msg, NULL);
    }
    if (t->format == SENSOR_FMT_BINARY && t->length && t->length < t->min_length) {
        char num[32];
        snprintf(num, sizeof num, "%zu", t->min_length);
        return bad(c, length_node, "'length' is shorter than the fields' layout (%s bytes)", num,
                   NULL);
    }
    return FG_OK;
}

/* Takes ownership of a loaded YAML document. */
static fg_err load_parsed(struct sensor_registry *r, struct fg_yaml *y, const char *path, char *why,
                          size_t why_len)
{
    struct sensor_type *t = calloc(1, sizeof *t);
    if (!t) {
        fg_yaml_free(y);
        return FG_ERR_NOMEM;
    }
    struct ctx c = {.y = y, .why = why, .why_len = why_len, .reg = r};
    fg_err e = parse_type(&c, path, t);
    if (!e && sensor_registry_find(r, t->name))
        e = bad(&c, fg_yaml_get(y, fg_yaml_root(y), "type"), "sensor type '%s' is defined twice",
                t->name, NULL);
    if (!e && r->ntypes == MAX_TYPES)
        e = bad(&c, NULL, "too many sensor types", NULL, NULL);
    fg_yaml_free(y);
    if (e) {
        type_free(t);
        return e;
    }
    r->types[r->ntypes++] = t;
    return FG_OK;
}

fg_err sensor_registry_load_file(struct sensor_registry *r, const char *path, char *why,
                                 size_t why_len)
{
    struct fg_yaml y;
    fg_err e = fg_yaml_load_file(&y, path, why, why_len);
    if (e) {
        fg_yaml_free(&y);
        return e == FG_ERR_PARSE ? FG_ERR_CONFIG : e;
    }
    return load_parsed(r, &y, path, why, why_len);
}

fg_err sensor_registry_load_string(struct sensor_registry *r, const char *name, const char *text,
                                   size_t len, char *why, size_t why_len)
{
    struct fg_yaml y;
    fg_err e = fg_yaml_load_string(&y, name, text, len, why, why_len);
    if (e) {
        fg_yaml_free(&y);
        return e == FG_ERR_PARSE ? FG_ERR_CONFIG : e;
    }
    return load_parsed(r, &y, name, why, why_len);
}

fg_err sensor_decode(const struct sensor_registry *r, const char *topic,
                     const unsigned char *payload, size_t len, struct sensor_record *rec, char *why,
                     size_t why_len)
{
    const struct sensor_type *t = sensor_registry_match(r, topic, rec->device, sizeof rec->device);
    if (!t) {
        /* The topic itself may carry an identifier: show what was expected. */
        if (r->ntypes == 1)
            snprintf(why, why_len, "topic does not match type %s's pattern %s", r->types[0]->name,
                     r->types[0]->topic);
        else
            snprintf(why, why_len, "no sensor type for this topic (none of %zu patterns matches)",
                     r->ntypes);
        return FG_ERR_UNKNOWN_TOPIC;
    }
    rec->type = t;
    rec->arena_used = 0;
    for (size_t i = 0; i < t->nfields; i++)
        rec->values[i].present = false;
    fg_err e = t->decoder->decode(t, payload, len, rec, why, why_len);
    if (e)
        return e;
    if ((e = sensor_record_finish(rec, why, why_len)))
        return e;
    /* A message with none of the declared fields would leave as "{}". */
    for (size_t i = 0; i < t->nfields; i++)
        if (rec->values[i].present)
            return FG_OK;
    snprintf(why, why_len, "message has none of the fields type %s declares", t->name);
    return FG_ERR_MISSING;
}
