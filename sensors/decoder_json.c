/* JSON payloads (cJSON): flat or nested fields addressed by path. Keys a
 * descriptor does not declare are never read, so they cannot leak. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "sensors/sensor.h"

/* The member named key, or NULL; a key present twice is an error because a
 * later reader might pick the other one. */
static const cJSON *member(const cJSON *obj, const char *key, bool *dup)
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

static fg_err decode_json(const struct sensor_type *t, const unsigned char *payload, size_t len,
                          struct sensor_record *rec, char *why, size_t why_len)
{
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts((const char *)payload, len, &end, 0);
    if (!root) {
        snprintf(why, why_len, "malformed JSON");
        return FG_ERR_PARSE;
    }
    fg_err e = FG_OK;
    while (end && end < (const char *)payload + len && (*end == ' ' || *end == '\n' ||
                                                        *end == '\r' || *end == '\t'))
        end++;
    if (end && end < (const char *)payload + len && *end) {
        snprintf(why, why_len, "trailing data after JSON");
        e = FG_ERR_PARSE;
        goto out;
    }
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
            node = cJSON_IsObject(node) ? member(node, f->path[p], &dup) : NULL;
        if (dup) {
            snprintf(why, why_len, "duplicate key for field '%s'", f->name);
            e = FG_ERR_PARSE;
            break;
        }
        if (!node || cJSON_IsNull(node))
            continue;
        if (cJSON_IsString(node))
            e = sensor_record_set_string(rec, i, node->valuestring, strlen(node->valuestring), why,
                                         why_len);
        else if (cJSON_IsNumber(node))
            e = sensor_record_set_number(rec, i, node->valuedouble, why, why_len);
        else if (cJSON_IsBool(node)) {
            e = sensor_record_set_bool(rec, i, cJSON_IsTrue(node));
            if (e)
                snprintf(why, why_len, "field '%s' must be %s, got a boolean", f->name,
                         sensor_ftype_name(f->type));
        } else {
            snprintf(why, why_len, "field '%s' must be %s, got an object or array", f->name,
                     sensor_ftype_name(f->type));
            e = FG_ERR_TYPE;
        }
    }
out:
    cJSON_Delete(root);
    return e;
}

const struct sensor_decoder sensor_decoder_json = {
    .name = "json",
    .decode = decode_json,
};
