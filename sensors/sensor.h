/* Sensor types: descriptors (YAML) that say which fields a sensor sends, of
 * which type and data category; decoders that turn a payload into a typed
 * record. Anything a descriptor does not declare is dropped at decode. */
#ifndef SENSOR_H
#define SENSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/fg_error.h"

/* The shared vocabulary of sensors and policies (design brief section 2). */
typedef enum {
    SENSOR_CAT_WORKER_ID = 0,
    SENSOR_CAT_DEVICE_ID,
    SENSOR_CAT_LOCATION,
    SENSOR_CAT_ZONE,
    SENSOR_CAT_TIME,
    SENSOR_CAT_HEALTH,
    SENSOR_CAT_PERFORMANCE,
    SENSOR_CAT_BEHAVIOUR,
    SENSOR_CAT_SAFETY_EVENT,
    SENSOR_CAT_ENVIRONMENT,
    SENSOR_CAT_MACHINE,
    SENSOR_CAT_DEVICE_HEALTH,
    SENSOR_CAT__COUNT
} sensor_category;

typedef enum {
    SENSOR_STRING = 0,
    SENSOR_INTEGER,
    SENSOR_NUMBER,
    SENSOR_BOOLEAN,
    SENSOR_TIMESTAMP, /* RFC 3339 string or epoch seconds; held as ms since epoch */
    SENSOR_ENUM,      /* a string from a fixed list */
    SENSOR_FTYPE__COUNT
} sensor_ftype;

typedef enum {
    SENSOR_FMT_JSON = 0,
    SENSOR_FMT_BINARY,
    SENSOR_FMT_SENML,
    SENSOR_FMT_C
} sensor_format;

#define SENSOR_MAX_FIELDS 64
#define SENSOR_MAX_PATH 4

struct sensor_field {
    char *name;
    char *path[SENSOR_MAX_PATH]; /* JSON path ("pos.x" -> {"pos","x"}) */
    int path_len;
    sensor_ftype type;
    sensor_category category;
    char *unit;
    char *description;
    bool required;
    bool has_min, has_max;
    double min, max;
    size_t max_length; /* strings; 0 = default bound */
    char **values;     /* enum: allowed values */
    size_t nvalues;
    /* fixed binary layouts */
    int offset, width; /* bytes */
    bool is_signed, little_endian;
    double scale;
    /* SenML: the record name (after the base name) this field reads; defaults
     * to the field name. */
    char *senml;
    /* Persons behind things (`person: FIELD`): a machine stands for the
     * operator logged in at it, a truck for its driver. person_idx is the
     * worker-id field of the same record that names that person; -1 when the
     * field is not linked to a person. */
    char *person;
    int person_idx;
    /* Zone-category text fields (`zones: [..]`): the zone names the site
     * uses; a policy sends any other value as `other`. */
    char **zones;
    size_t nzones;
};

struct sensor_decoder;

struct sensor_type {
    char *name;
    char *description;
    char *topic;  /* pattern: raw/uwb-badge/{device} */
    char *source; /* descriptor file, for messages */
    sensor_format format;
    const struct sensor_decoder *decoder;
    struct sensor_field fields[SENSOR_MAX_FIELDS];
    size_t nfields;
    /* compiled topic pattern */
    char *segs[16];
    int nsegs;
    int device_seg; /* index of {device}, -1 if none */
    /* fixed binary layouts: the declared payload length (0 = not declared) and
     * the end of the last field; a shorter payload is an error. */
    size_t length, min_length;
};

struct sensor_value {
    bool present;
    union {
        double num;
        int64_t i; /* integer; timestamp in ms */
        bool b;
        struct {
            const char *s; /* points into the record's arena, NUL-terminated */
            uint32_t len;
        } str;
    } v;
};

#define SENSOR_ARENA 8192

/* One decoded message. Lives on the caller's stack or in a reused buffer:
 * no allocation per message on the hot path. */
struct sensor_record {
    const struct sensor_type *type;
    char device[128];
    int64_t received_ms;
    struct sensor_value values[SENSOR_MAX_FIELDS];
    size_t arena_used;
    char arena[SENSOR_ARENA];
};

/* A decoder: one file, one const struct (sensors/decoders/decoder_NAME.c exporting
 * sensor_decoder_NAME); CMake generates the registry. */
struct sensor_decoder {
    const char *name; /* "json", "binary", "senml", or a custom name for format: c:NAME */
    fg_err (*decode)(const struct sensor_type *t, const unsigned char *payload, size_t len,
                     struct sensor_record *rec, char *why, size_t why_len);
    /* Optional: called once when a descriptor using this decoder loads, to
     * reject field declarations the decoder cannot honour. */
    fg_err (*check)(const struct sensor_type *t, char *why, size_t why_len);
};
extern const struct sensor_decoder *const sensor_decoders[];

/* Registry of loaded types. */
struct sensor_registry;

FG_MUST_CHECK fg_err sensor_registry_new(struct sensor_registry **out);
void sensor_registry_free(struct sensor_registry *r);
/* Loads one descriptor file; errors name file:line:col and suggest a fix. */
FG_MUST_CHECK fg_err sensor_registry_load_file(struct sensor_registry *r, const char *path,
                                               char *why, size_t why_len);
/* Loads a descriptor from memory; name stands for the file in messages. */
FG_MUST_CHECK fg_err sensor_registry_load_string(struct sensor_registry *r, const char *name,
                                                 const char *text, size_t len, char *why,
                                                 size_t why_len);
/* Loads every *.yaml in dir (sorted). */
FG_MUST_CHECK fg_err sensor_registry_load_dir(struct sensor_registry *r, const char *dir, char *why,
                                              size_t why_len);
/* Loads the built-in types: $FAIRGATE_SENSOR_TYPES, else the source tree's
 * sensors/types, else the installed share/fairgate/sensors. */
FG_MUST_CHECK fg_err sensor_registry_load_builtin(struct sensor_registry *r, char *why,
                                                  size_t why_len);
/* The directory sensor_registry_load_builtin reads (static or in buf). */
const char *sensor_builtin_dir(char *buf, size_t len);
size_t sensor_registry_count(const struct sensor_registry *r);
const struct sensor_type *sensor_registry_at(const struct sensor_registry *r, size_t i);
const struct sensor_type *sensor_registry_find(const struct sensor_registry *r, const char *name);
/* The type whose topic pattern matches; captures {device}. NULL if none. */
const struct sensor_type *sensor_registry_match(const struct sensor_registry *r, const char *topic,
                                                char *device, size_t device_len);
/* The type's topic pattern with each {placeholder} replaced by fill: "+"
 * gives its MQTT subscription filter, a device name a topic it matches. */
void sensor_type_topic(const struct sensor_type *t, const char *fill, char *buf, size_t len);

/* Topic -> type -> typed record. Fields not declared are ignored; declared
 * fields are type-checked and range-checked. */
FG_MUST_CHECK fg_err sensor_decode(const struct sensor_registry *r, const char *topic,
                                   const unsigned char *payload, size_t len,
                                   struct sensor_record *rec, char *why, size_t why_len);

int sensor_field_index(const struct sensor_type *t, const char *name);

/* Helpers for decoders: store a value with type and limit checks. */
FG_MUST_CHECK fg_err sensor_record_set_string(struct sensor_record *rec, size_t idx, const char *s,
                                              size_t len, char *why, size_t why_len);
FG_MUST_CHECK fg_err sensor_record_set_number(struct sensor_record *rec, size_t idx, double v,
                                              char *why, size_t why_len);
/* Exact integers (binary layouts): no detour through double for 64-bit values. */
FG_MUST_CHECK fg_err sensor_record_set_int(struct sensor_record *rec, size_t idx, int64_t v,
                                           char *why, size_t why_len);
FG_MUST_CHECK fg_err sensor_record_set_bool(struct sensor_record *rec, size_t idx, bool v);
/* Checks required fields after a decoder ran. */
FG_MUST_CHECK fg_err sensor_record_finish(struct sensor_record *rec, char *why, size_t why_len);

/* The typed record as one JSON line: {"type":..,"device":..,"fields":{..}},
 * fields in descriptor order, timestamps in RFC 3339. For `sensors check` and
 * golden tests only: it prints raw values, so never log it. False when buf is
 * too small. */
bool sensor_record_to_json(const struct sensor_record *rec, char *buf, size_t len);

/* Words the descriptor parser accepts, for suggestions and docs. */
extern const char *const sensor_type_keys[];
extern const size_t sensor_ntype_keys;
extern const char *const sensor_field_keys[];
extern const size_t sensor_nfield_keys;

const char *sensor_category_name(sensor_category c);
bool sensor_category_parse(const char *s, sensor_category *out);
const char *sensor_ftype_name(sensor_ftype t);
const char *sensor_format_name(sensor_format f);

#endif
