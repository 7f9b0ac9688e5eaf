/* fairgate sensors new / test: a descriptor skeleton with samples and a route
 * to try, and a line-by-line decode of recorded samples (replay's JSON lines)
 * that shows each record or its precise error. Both print raw sample values:
 * they are for test data at the integrator's desk, never for the gateway. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/sensors_try.h"
#include "common/fg_util.h"

#define MAX_LINE (1 << 20)

/* ---- new ------------------------------------------------------------------------ */

static const char json_fields[] =
    "  worker:  { type: string,    category: worker-id, max_length: 64,\n"
    "             description: TODO who carries the device; drop this field if nobody does }\n"
    "  reading: { type: number,    category: environment, unit: Cel, min: -40, max: 125 }\n"
    "  alarm:   { type: boolean,   category: safety-event }\n"
    "  ts:      { type: timestamp, category: time }\n";

static const char senml_fields[] =
    "  # each field reads the SenML record whose name (after bn) is the field's\n"
    "  # name, or the one given by `senml: NAME`; units must match `unit`\n"
    "  worker:  { type: string,    category: worker-id, max_length: 64 }\n"
    "  reading: { type: number,    category: environment, unit: Cel, min: -40, max: 125 }\n"
    "  alarm:   { type: boolean,   category: safety-event }\n"
    "  ts:      { type: timestamp, category: time }   # the pack's time (bt + t)\n";

static const char binary_fields[] =
    "  # offset and width in bytes (1, 2, 4, 8); big-endian unless endian: little\n"
    "  device_id: { type: integer, category: device-id, offset: 0, width: 2 }\n"
    "  state:     { type: enum, category: machine, offset: 2, width: 1,\n"
    "               values: {0: closed, 1: open, 2: ajar} }\n"
    "  alarm:     { type: boolean, category: safety-event, offset: 3, width: 1, bit: 0 }\n"
    "  temp:      { type: number, category: environment, unit: Cel, offset: 4, width: 2,\n"
    "               signed: true, scale: 0.1, min: -40, max: 60 }\n"
    "  battery:   { type: integer, category: device-health, unit: \"%\", offset: 6, width: 1,\n"
    "               max: 100 }\n";

/* Writes path with text; refuses to overwrite (O_EXCL). */
static int write_new(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        fprintf(stderr, "sensors new: %s: %s\n", path,
                errno == EEXIST ? "exists; not overwritten" : strerror(errno));
        return 1;
    }
    size_t n = strlen(text);
    bool ok = write(fd, text, n) == (ssize_t)n;
    ok = close(fd) == 0 && ok;
    if (!ok)
        fprintf(stderr, "sensors new: %s: cannot write\n", path);
    return ok ? 0 : 1;
}

static bool name_ok(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= '0' && s[n] <= '9') ||
              (s[n] == '-' && n > 0)) ||
            n >= 48)
            return false;
    return n > 0;
}

/* Two sample lines in replay's format for each format. */
static void samples(const char *name, const char *format, char *buf, size_t len)
{
    if (!strcmp(format, "json"))
        snprintf(
            buf, len,
            "{\"topic\":\"raw/%s/dev-1\",\"payload\":\"{\\\"worker\\\":\\\"W-1001\\\","
            "\\\"reading\\\":21.5,\\\"alarm\\\":false,\\\"ts\\\":\\\"2026-11-27T08:00:00Z\\\","
            "\\\"firmware\\\":\\\"1.2\\\"}\"}\n"
            "{\"topic\":\"raw/%s/dev-2\",\"payload\":\"{\\\"worker\\\":\\\"W-1002\\\","
            "\\\"reading\\\":23.0,\\\"alarm\\\":true,\\\"ts\\\":\\\"2026-11-27T08:00:30Z\\\"}\"}\n",
            name, name);
    else if (!strcmp(format, "senml"))
        snprintf(buf, len,
                 "{\"topic\":\"raw/%s/dev-1\",\"payload\":\"[{\\\"bn\\\":\\\"dev-1:\\\","
                 "\\\"bt\\\":1795766400,\\\"n\\\":\\\"worker\\\",\\\"vs\\\":\\\"W-1001\\\"},"
                 "{\\\"n\\\":\\\"reading\\\",\\\"u\\\":\\\"Cel\\\",\\\"v\\\":21.5},"
                 "{\\\"n\\\":\\\"alarm\\\",\\\"vb\\\":false}]\"}\n"
                 "{\"topic\":\"raw/%s/dev-2\",\"payload\":\"[{\\\"bn\\\":\\\"dev-2:\\\","
                 "\\\"bt\\\":1795766430,\\\"n\\\":\\\"worker\\\",\\\"vs\\\":\\\"W-1002\\\"},"
                 "{\\\"n\\\":\\\"reading\\\",\\\"u\\\":\\\"Cel\\\",\\\"v\\\":23.0},"
                 "{\\\"n\\\":\\\"alarm\\\",\\\"vb\\\":true}]\"}\n",
                 name, name);
    else /* 00 11 | 01 | 01 | ff 47 (-18.5) | 57 (87 %) | 00; then id 12, closed, 5.0 */
        snprintf(buf, len,
                 "{\"topic\":\"raw/%s/dev-1\",\"time\":\"2026-11-27T08:00:00Z\","
                 "\"payload_b64\":\"ABEBAf9HVwA=\"}\n"
                 "{\"topic\":\"raw/%s/dev-2\",\"time\":\"2026-11-27T08:00:30Z\","
                 "\"payload_b64\":\"AAwAAAAyMgA=\"}\n",
                 name, name);
}

int sensors_new(const char *name, const char *format, const char *out)
{
    const char *fields = !strcmp(format, "json")     ? json_fields
                         : !strcmp(format, "senml")  ? senml_fields
                         : !strcmp(format, "binary") ? binary_fields
                                                     : NULL;
    if (!fields) {
        fprintf(stderr, "sensors new: --format must be json, senml or binary\n");
        return 2;
    }
    if (!name_ok(name)) {
        fprintf(stderr, "sensors new: a type name is lower-case letters, digits and '-'\n");
        return 2;
    }
    char dir[2048], types[2300], path[2600], text[4096];
    snprintf(dir, sizeof dir, "%s/%s", out, name);
    snprintf(types, sizeof types, "%s/types", dir);
    if (mkdir(dir, 0755) != 0 || mkdir(types, 0755) != 0) {
        fprintf(stderr, "sensors new: %s: %s\n", errno == EEXIST ? dir : types,
                errno == EEXIST ? "exists; not overwritten" : strerror(errno));
        return 1;
    }
    bool bin = !strcmp(format, "binary");
    snprintf(text, sizeof text,
             "# Sensor type skeleton from `fairgate sensors new`: replace the fields with\n"
             "# what the device sends (docs/integrators.md). Undeclared content is dropped.\n"
             "type: %s\n"
             "description: TODO one line; say whether a person wears or operates it\n"
             "topic: raw/%s/{device}\n"
             "format: %s\n%s"
             "fields:\n%s",
             name, name, format, bin ? "length: 8\n" : "", fields);
    snprintf(path, sizeof path, "%s/%s.yaml", types, name);
    if (write_new(path, text))
        return 1;
    samples(name, format, text, sizeof text);
    snprintf(path, sizeof path, "%s/samples.jsonl", dir);
    if (write_new(path, text))
        return 1;
    snprintf(text, sizeof text,
             "# A route to try the new type with `fairgate replay` (docs/policy.md).\n"
             "policy: try-%s\n"
             "version: 1\n"
             "routes:\n"
             "  - name: %s-readings\n"
             "    purpose: TODO why this data may leave the site\n"
             "    from: %s\n"
             "    to: site/{site}/%s\n"
             "    fields: { %s }\n"
             "    retention: 7d\n",
             name, name, name, name,
             bin ? "state: keep, temp: generalise(0.5)"
                 : "reading: generalise(0.5), ts: generalise(1m)");
    snprintf(path, sizeof path, "%s/policy.yaml", dir);
    if (write_new(path, text))
        return 1;
    printf("wrote %s/types/%s.yaml, %s/samples.jsonl, %s/policy.yaml\n"
           "next:\n"
           "  fairgate sensors check %s/types/%s.yaml\n"
           "  fairgate sensors test %s %s/samples.jsonl --sensors %s/types\n"
           "  fairgate replay --policy %s/policy.yaml --sensors %s/types < %s/samples.jsonl\n",
           dir, name, dir, dir, dir, name, name, dir, dir, dir, dir, dir);
    return 0;
}

/* ---- test ----------------------------------------------------------------------- */

/* One line: topic (or one made from the type's pattern) and payload. */
static int test_line(const struct sensor_registry *r, const struct sensor_type *t, size_t no,
                     char *line, size_t ll, unsigned char *bin, struct sensor_record *rec)
{
    char why[1024] = "", topic[512];
    cJSON *j = cJSON_ParseWithLength(line, ll);
    const cJSON *jt = cJSON_GetObjectItemCaseSensitive(j, "topic");
    const cJSON *jp = cJSON_GetObjectItemCaseSensitive(j, "payload");
    const cJSON *jb = cJSON_GetObjectItemCaseSensitive(j, "payload_b64");
    const unsigned char *payload = NULL;
    size_t plen = 0;
    if (cJSON_IsString(jp)) {
        payload = (const unsigned char *)jp->valuestring;
        plen = strlen(jp->valuestring);
    } else if (cJSON_IsString(jb) &&
               sodium_base642bin(bin, MAX_LINE, jb->valuestring, strlen(jb->valuestring), NULL,
                                 &plen, NULL, sodium_base64_VARIANT_ORIGINAL) == 0)
        payload = bin;
    if (!j || !payload || (jt && !cJSON_IsString(jt))) {
        printf("line %zu: error: not a telemetry line: want {\"topic\": \"...\", \"payload\": "
               "\"...\"} or \"payload_b64\" (valid base64) instead of \"payload\"\n",
               no);
        cJSON_Delete(j);
        return 1;
    }
    if (jt)
        snprintf(topic, sizeof topic, "%s", jt->valuestring);
    else
        sensor_type_topic(t, "sample", topic, sizeof topic);
    char dev[128];
    const struct sensor_type *m = sensor_registry_match(r, topic, dev, sizeof dev);
    int rc = 1;
    if (m != t) {
        if (m)
            printf("line %zu: error: topic belongs to type %s, not %s (pattern %s)\n", no, m->name,
                   t->name, t->topic);
        else
            printf("line %zu: error: topic does not match type %s's pattern %s\n", no, t->name,
                   t->topic);
    } else {
        fg_err e = sensor_decode(r, topic, payload, plen, rec, why, sizeof why);
        char out[2 * SENSOR_ARENA];
        if (e)
            printf("line %zu: error: %s (%s)\n", no, why, fg_strerror(e));
        else if (sensor_record_to_json(rec, out, sizeof out)) {
            printf("line %zu: ok %s\n", no, out);
            rc = 0;
        }
    }
    cJSON_Delete(j);
    return rc;
}

int sensors_test(const struct sensor_registry *r, const char *type, const char *file)
{
    const struct sensor_type *t = sensor_registry_find(r, type);
    if (!t) {
        const char *names[128];
        size_t n = 0;
        for (; n < sensor_registry_count(r) && n < 128; n++)
            names[n] = sensor_registry_at(r, n)->name;
        const char *s = fg_suggest(type, names, n);
        fprintf(stderr, "sensors test: no sensor type '%s'%s%s%s (add its directory with --dir)\n",
                type, s ? " (did you mean '" : "", s ? s : "", s ? "'?)" : "");
        return 1;
    }
    FILE *f = strcmp(file, "-") ? fopen(file, "r") : stdin;
    if (!f) {
        fprintf(stderr, "sensors test: %s: %s\n", file, strerror(errno));
        return 1;
    }
    char *line = malloc(MAX_LINE);
    unsigned char *bin = malloc(MAX_LINE);
    struct sensor_record *rec = malloc(sizeof *rec);
    size_t no = 0, bad = 0, n = 0;
    while (line && bin && rec && fgets(line, MAX_LINE, f)) {
        no++;
        size_t ll = strlen(line);
        while (ll && (line[ll - 1] == '\n' || line[ll - 1] == '\r'))
            line[--ll] = '\0';
        if (!ll || line[0] == '#')
            continue;
        n++;
        bad += (size_t)test_line(r, t, no, line, ll, bin, rec);
    }
    if (f != stdin)
        fclose(f);
    if (rec)
        sodium_memzero(rec, sizeof *rec);
    free(line);
    free(bin);
    free(rec);
    printf("%zu line(s): %zu decoded, %zu failed\n", n, n - bad, bad);
    return bad || n == 0 ? 1 : 0;
}
