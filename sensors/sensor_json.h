/* Internal to sensors/: the one way decoders parse JSON text, so every JSON
 * based format gets the same limits (depth, NUL, trailing data). */
#ifndef SENSOR_JSON_H
#define SENSOR_JSON_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/fg_error.h"

/* Parses payload into *root (caller frees with cJSON_Delete). On error, why
 * names the problem, never the content. */
FG_MUST_CHECK fg_err sensor_json_parse(const unsigned char *payload, size_t len, cJSON **root,
                                       char *why, size_t why_len);

/* The member named key, or NULL; sets *dup when the key appears twice. */
const cJSON *sensor_json_member(const cJSON *obj, const char *key, bool *dup);

#endif
