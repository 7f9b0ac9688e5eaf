/* JSON payloads (cJSON): flat or nested fields addressed by path. Keys a
 * descriptor does not declare are never read, so they cannot leak. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

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

static fg_err decode_json(const struct sensor_type *t, const unsigned char *payload, size_t len,
                          struct sensor_record *rec, char *why, size_t why_len)
{
    cJSON *root;
    fg_err e = sensor_json_parse(payload, len, &root, why, why_len);
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
