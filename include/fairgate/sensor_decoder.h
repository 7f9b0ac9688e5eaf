/* fairgate/sensor_decoder.h: the public interface of sensor decoders built
 * outside fairgate's source tree (installed with fairgate; C99, no other
 * fairgate header needed).
 *
 * A decoder is a shared object exporting one const struct named
 * `fairgate_decoder`:
 *
 *     #include <fairgate/sensor_decoder.h>
 *     static int decode(const struct fg_decoder_type *t, const unsigned char *p, size_t len,
 *                       const struct fg_decoder_host *host, struct fg_decoder_record *rec,
 *                       char *why, size_t why_len) { ... }
 *     FAIRGATE_DECODER_EXPORT = { FAIRGATE_DECODER_HEADER, .name = "mine", .decode = decode };
 *
 *     cc -shared -fPIC -O2 -o mine.so mine.c
 *
 * fairgate loads every *.so of the directory named by `sensors.decoders` in
 * its configuration (or `--decoders DIR` for `fairgate sensors ...`), and
 * refuses a file when it or its directory is writable by anyone other than
 * root or the user fairgate runs as, or when its ABI version is not this
 * header's FAIRGATE_DECODER_ABI. A descriptor uses it with `format: c` and
 * `decoder: mine`.
 *
 * Rules fairgate relies on (a decoder runs on every message, in the gateway's
 * receive path, on hostile input):
 *  - never read past len: the payload is not NUL-terminated;
 *  - store values only through host->set_* (they apply the descriptor's type,
 *    limit, enum and UTF-8 checks, and copy strings into the record);
 *  - read and store only declared fields; keep no state between calls; do
 *    not allocate per message, block, or call exit();
 *  - on error return one of the FG_DECODER_ERR_* codes and write a short
 *    reason in why naming the *field*, never the value (it is logged). */
#ifndef FAIRGATE_SENSOR_DECODER_H
#define FAIRGATE_SENSOR_DECODER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Raised whenever a struct or function below changes incompatibly; fairgate
 * refuses a decoder built against another version. */
#define FAIRGATE_DECODER_ABI 1

/* The types a descriptor field may declare (`type:`). */
enum fg_decoder_field_type {
    FG_DECODER_STRING = 0,
    FG_DECODER_INTEGER = 1,
    FG_DECODER_NUMBER = 2,
    FG_DECODER_BOOLEAN = 3,
    FG_DECODER_TIMESTAMP = 4, /* stored as milliseconds since the epoch (UTC) */
    FG_DECODER_ENUM = 5       /* a string from the descriptor's `values` */
};

/* Return codes of decode/check and of host->set_*. */
enum fg_decoder_result {
    FG_DECODER_OK = 0,
    FG_DECODER_ERR_CONFIG = 4,  /* check(): a declaration the decoder cannot honour */
    FG_DECODER_ERR_PARSE = 5,   /* malformed payload */
    FG_DECODER_ERR_TYPE = 6,    /* a field has the wrong type */
    FG_DECODER_ERR_RANGE = 7,   /* a value is outside its declared limits */
    FG_DECODER_ERR_TOO_BIG = 8, /* payload or value over its bound */
    FG_DECODER_ERR_MISSING = 10 /* a field the decoder needs is absent */
};

/* One declared field, read-only. Find the field in the payload by `path`
 * (path[0] for flat formats; `path: a.b` in the descriptor gives
 * {"a","b"}; default: the field's name), check nothing else yourself: the
 * host does type and limit checks when you store. */
struct fg_decoder_field {
    const char *name;        /* the field's name in the descriptor and in policies */
    const char *const *path; /* path_len components; path[0] is the key to look for */
    int path_len;
    int type;         /* enum fg_decoder_field_type */
    const char *unit; /* the descriptor's unit, or NULL */
};

/* The sensor type a message belongs to. fields[i] is stored with index i. */
struct fg_decoder_type {
    const char *name;
    size_t nfields;
    const struct fg_decoder_field *fields;
};

/* The record being filled: opaque, only for host->set_*. */
struct fg_decoder_record;

/* What fairgate offers a decoder. Each returns FG_DECODER_OK or an error
 * code with the reason in why; return that code from decode() unchanged. */
struct fg_decoder_host {
    /* string, enum; for a timestamp field also RFC 3339 text */
    int (*set_string)(struct fg_decoder_record *rec, size_t idx, const char *s, size_t len,
                      char *why, size_t why_len);
    /* number, integer (must be whole); timestamp: epoch seconds */
    int (*set_number)(struct fg_decoder_record *rec, size_t idx, double v, char *why,
                      size_t why_len);
    /* integer exactly (64-bit); other numeric types as set_number */
    int (*set_int)(struct fg_decoder_record *rec, size_t idx, int64_t v, char *why, size_t why_len);
    int (*set_bool)(struct fg_decoder_record *rec, size_t idx, int v, char *why, size_t why_len);
    /* timestamp fields: milliseconds since 1970-01-01T00:00:00Z */
    int (*set_time_ms)(struct fg_decoder_record *rec, size_t idx, int64_t ms, char *why,
                       size_t why_len);
};

struct fg_decoder {
    uint32_t abi;     /* FAIRGATE_DECODER_ABI */
    uint32_t size;    /* sizeof(struct fg_decoder) */
    const char *name; /* `decoder: NAME` in descriptors; letters, digits, '-', '_' */
    /* Decodes one payload into rec. */
    int (*decode)(const struct fg_decoder_type *t, const unsigned char *payload, size_t len,
                  const struct fg_decoder_host *host, struct fg_decoder_record *rec, char *why,
                  size_t why_len);
    /* Optional: called once when a descriptor naming this decoder loads;
     * return FG_DECODER_ERR_CONFIG with a reason to refuse it. */
    int (*check)(const struct fg_decoder_type *t, char *why, size_t why_len);
};

#define FAIRGATE_DECODER_HEADER .abi = FAIRGATE_DECODER_ABI, .size = sizeof(struct fg_decoder)
#define FAIRGATE_DECODER_EXPORT                                                                    \
    __attribute__((visibility("default"))) const struct fg_decoder fairgate_decoder

#ifdef __cplusplus
}
#endif

#endif
