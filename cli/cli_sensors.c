/* fairgate sensors list|describe|check|new|test: what the gateway can decode,
 * and a way for integrators to start a descriptor, test it against sample
 * payloads and decoders built outside fairgate before a gateway ever sees it.
 * `new` and `test` live in cli/sensors_try.c. check, test and new print raw
 * sample values: use them on test data only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/sensor_opts.h"
#include "cli/sensors_try.h"
#include "common/fg_command.h"
#include "common/fg_opt.h"
#include "common/fg_util.h"
#include "sensors/sensor.h"

struct opts {
    struct cli_sensor_opts sensors;
    const char *sample, *topic, *format, *out;
};
static const struct fg_opt types_table[] = {
    CLI_SENSOR_OPTS(struct opts, sensors),
    FG_OPT_LIST(struct opts, sensors.dirs, "dir", 0, "DIR", NULL), /* the old name of --sensors */
};
static const struct fg_opt check_table[] = {
    FG_OPT_STR(struct opts, sample, "sample", 0, "PAYLOAD_FILE",
               "decode this payload file and print the typed record"),
    FG_OPT_STR(struct opts, topic, "topic", 0, "TOPIC",
               "the topic the sample arrived on (default: one the pattern matches)"),
    FG_OPT_STR(struct opts, sensors.decoders, "decoders", 0, "DIR",
               "load C decoders built outside fairgate (*.so) from DIR first"),
};
static const struct fg_opt new_table[] = {
    FG_OPT_CHOICE(struct opts, format, "format", 0, "json|senml|binary",
                  "the payload format of the new type (required)"),
    FG_OPT_STR(struct opts, out, "out", 0, "DIR", "where to write NAME/ (default .)"),
};
static const struct fg_opt_cmd list_cmd = {
    "fairgate sensors list",
    "[--sensors DIR]... [--no-builtin-sensors] [--decoders DIR]",
    "The sensor types the gateway knows: the built-in ones (installed in\n"
    "share/fairgate/sensors) and those in each --sensors DIR; with --decoders, the\n"
    "decoders loaded.",
    types_table,
    FG_OPT_N(types_table),
    0,
    0};
static const struct fg_opt_cmd describe_cmd = {
    "fairgate sensors describe",
    "NAME [--sensors DIR]... [--no-builtin-sensors] [--decoders DIR]",
    "One type's fields: type, unit, data category, limits.",
    types_table,
    FG_OPT_N(types_table),
    1,
    1};
static const struct fg_opt_cmd check_cmd = {
    "fairgate sensors check",
    "FILE [--sample PAYLOAD_FILE] [--topic TOPIC] [--decoders DIR]",
    "Validates a descriptor file and runs its decoder over synthetic payloads; with\n"
    "--sample, decodes the payload file and prints the typed record (undeclared\n"
    "fields are dropped).",
    check_table,
    FG_OPT_N(check_table),
    1,
    1};
static const struct fg_opt_cmd new_cmd = {
    "fairgate sensors new",
    "NAME --format json|senml|binary [--out DIR]",
    "Writes DIR/NAME/ (default ./NAME/): types/NAME.yaml, a descriptor skeleton;\n"
    "samples.jsonl, sample messages; policy.yaml, a route to try them with\n"
    "`fairgate replay`. Never overwrites.",
    new_table,
    FG_OPT_N(new_table),
    1,
    1};
static const struct fg_opt_cmd test_cmd = {
    "fairgate sensors test",
    "TYPE SAMPLES.jsonl [--sensors DIR]... [--no-builtin-sensors] [--decoders DIR]",
    "Decodes every line of SAMPLES.jsonl (replay's format: {\"topic\": .., \"payload\": ..}\n"
    "or \"payload_b64\" for binary) as TYPE and prints each record or its precise\n"
    "error; exit 1 if any line fails.",
    types_table,
    FG_OPT_N(types_table),
    2,
    2};

static void categories(const struct sensor_type *t, char *buf, size_t len)
{
    size_t o = 0;
    buf[0] = '\0';
    for (int c = 0; c < SENSOR_CAT__COUNT; c++)
        for (size_t i = 0; i < t->nfields; i++)
            if (t->fields[i].category == (sensor_category)c) {
                if (o < len)
                    o += (size_t)snprintf(buf + o, len - o, "%s%s", o ? "," : "",
                                          sensor_category_name((sensor_category)c));
                break;
            }
}

static void print_type_row(const struct sensor_type *t)
{
    char cats[512];
    categories(t, cats, sizeof cats);
    char fmt[64];
    snprintf(fmt, sizeof fmt, "%s%s%s", sensor_format_name(t->format),
             t->format == SENSOR_FMT_C ? ":" : "",
             t->format == SENSOR_FMT_C ? t->decoder->name : "");
    printf("%-18s %-8s %-32s %s\n", t->name, fmt, t->topic, cats);
}

static void limits(const struct sensor_type *t, const struct sensor_field *f, char *buf, size_t len)
{
    size_t o = 0;
    buf[0] = '\0';
#define ADD(...)                                                                                   \
    do {                                                                                           \
        if (o < len)                                                                               \
            o += (size_t)snprintf(buf + o, len - o, __VA_ARGS__);                                  \
    } while (0)
    if (f->required)
        ADD("required ");
    if (f->has_min)
        ADD("min %g ", f->min);
    if (f->has_max)
        ADD("max %g ", f->max);
    if (f->max_length)
        ADD("max_length %zu ", f->max_length);
    if (f->nvalues) {
        ADD("values ");
        for (size_t i = 0; i < f->nvalues; i++) {
            if (f->codes)
                ADD("%lld=", (long long)f->codes[i]);
            ADD("%s%s", f->values[i], i + 1 < f->nvalues ? "|" : " ");
        }
    }
    if (t->format == SENSOR_FMT_BINARY) {
        ADD("@%d/%d%s%s", f->offset, f->width, f->is_signed ? " signed" : "",
            f->little_endian ? " little" : "");
        if (f->bits)
            ADD(" bits %d..%d", f->bit, f->bit + f->bits - 1);
        if (f->scale != 1.0)
            ADD(" x%g", f->scale);
    } else if (t->format == SENSOR_FMT_SENML && strcmp(f->senml, f->name) != 0)
        ADD("senml %s", f->senml);
    else if (f->path_len > 1 || (f->path_len == 1 && strcmp(f->path[0], f->name) != 0)) {
        ADD("path ");
        for (int i = 0; i < f->path_len; i++)
            ADD("%s%s", i ? "." : "", f->path[i]);
    }
#undef ADD
}

static void describe(const struct sensor_type *t)
{
    printf("type:        %s\n", t->name);
    if (t->description)
        printf("description: %s\n", t->description);
    printf("topic:       %s\n", t->topic);
    printf("format:      %s", sensor_format_name(t->format));
    if (t->format == SENSOR_FMT_C)
        printf(" (decoder %s)", t->decoder->name);
    if (t->format == SENSOR_FMT_BINARY)
        printf(" (%zu bytes%s)", t->length ? t->length : t->min_length,
               t->length ? "" : " or more");
    printf("\nsource:      %s\n\n", t->source);
    printf("%-14s %-10s %-9s %-14s %s\n", "FIELD", "TYPE", "UNIT", "CATEGORY", "LIMITS");
    for (size_t i = 0; i < t->nfields; i++) {
        const struct sensor_field *f = &t->fields[i];
        char lim[512];
        limits(t, f, lim, sizeof lim);
        printf("%-14s %-10s %-9s %-14s %s\n", f->name, sensor_ftype_name(f->type),
               f->unit ? f->unit : "-", sensor_category_name(f->category), lim);
    }
}

/* The descriptor's decoder over synthetic payloads: a crash or an error
 * without a reason shows here, not in the gateway. */
static int exercise(const struct sensor_type *t)
{
    char why[512];
    int runs = 0;
    if (sensor_decoder_exercise(t, &runs, why, sizeof why) != FG_OK) {
        fprintf(stderr, "%s: decoder %s misbehaves: %s\n", t->source, t->decoder->name, why);
        return 1;
    }
    if (t->decoder->plugin)
        printf("%s: decoder %s from %s: loaded, exercised on %d synthetic payloads\n", t->source,
               t->decoder->name, t->decoder->file, runs);
    return 0;
}

static int check(const char *file, const char *sample, const char *topic, const char *decoders)
{
    struct sensor_registry *r;
    char why[1024];
    if (sensor_registry_new(&r) != FG_OK)
        return 1;
    if ((decoders && sensor_registry_load_decoders(r, decoders, why, sizeof why) != FG_OK) ||
        sensor_registry_load_file(r, file, why, sizeof why) != FG_OK) {
        fprintf(stderr, "%s\n", why);
        sensor_registry_free(r);
        return 1;
    }
    const struct sensor_type *t = sensor_registry_at(r, 0);
    printf("%s: ok: type %s, %s, %zu fields\n", file, t->name, sensor_format_name(t->format),
           t->nfields);
    int rc = exercise(t);
    if (sample) {
        char *payload = NULL, tbuf[512];
        size_t len;
        fg_err e = fg_read_file(sample, 1u << 20, &payload, &len);
        if (e) {
            fprintf(stderr, "%s: cannot read: %s\n", sample, fg_strerror(e));
            sensor_registry_free(r);
            return 1;
        }
        if (!topic) {
            sensor_type_topic(t, "sample", tbuf, sizeof tbuf); /* one the pattern matches */
            topic = tbuf;
        }
        static struct sensor_record rec;
        e = sensor_decode(r, topic, (const unsigned char *)payload, len, &rec, why, sizeof why);
        if (e == FG_ERR_UNKNOWN_TOPIC)
            snprintf(why, sizeof why, "--topic does not match the type's pattern %s", t->topic);
        if (e) {
            fprintf(stderr, "%s: does not decode: %s (%s)\n", sample, why, fg_strerror(e));
            rc = 1;
        } else {
            char out[2 * SENSOR_ARENA];
            if (sensor_record_to_json(&rec, out, sizeof out))
                printf("%s\n", out);
        }
        free(payload);
    }
    sensor_registry_free(r);
    return rc;
}

static int list_main(int argc, char **argv)
{
    struct opts o = {0};
    int rc = fg_opt_parse(&list_cmd, argc, argv, &o, NULL, NULL);
    if (rc != FG_OPT_OK)
        return fg_opt_exit(rc);
    struct sensor_registry *r = NULL;
    if (cli_sensor_registry("sensors", &o.sensors, &r))
        return 1;
    printf("%-18s %-8s %-32s %s\n", "TYPE", "FORMAT", "TOPIC", "CATEGORIES");
    for (size_t i = 0; i < sensor_registry_count(r); i++)
        print_type_row(sensor_registry_at(r, i));
    for (size_t i = 0; i < sensor_registry_plugin_count(r); i++)
        printf("decoder %s: %s\n", sensor_registry_plugin_at(r, i)->name,
               sensor_registry_plugin_at(r, i)->file);
    sensor_registry_free(r);
    return 0;
}

static int describe_main(int argc, char **argv)
{
    struct opts o = {0};
    char **args;
    int rc = fg_opt_parse(&describe_cmd, argc, argv, &o, &args, NULL);
    if (rc != FG_OPT_OK)
        return fg_opt_exit(rc);
    struct sensor_registry *r = NULL;
    if (cli_sensor_registry("sensors", &o.sensors, &r))
        return 1;
    const struct sensor_type *t = sensor_registry_find(r, args[0]);
    if (t)
        describe(t);
    else {
        const char *names[128];
        size_t n = 0;
        for (; n < sensor_registry_count(r) && n < 128; n++)
            names[n] = sensor_registry_at(r, n)->name;
        const char *s = fg_suggest(args[0], names, n);
        fprintf(stderr, "sensors: no sensor type '%s'%s%s%s\n", args[0],
                s ? " (did you mean '" : "", s ? s : "", s ? "'?)" : "");
        rc = 1;
    }
    sensor_registry_free(r);
    return rc;
}

static int check_main(int argc, char **argv)
{
    struct opts o = {0};
    char **args;
    int rc = fg_opt_parse(&check_cmd, argc, argv, &o, &args, NULL);
    if (rc != FG_OPT_OK)
        return fg_opt_exit(rc);
    return check(args[0], o.sample, o.topic, o.sensors.decoders);
}

static int new_main(int argc, char **argv)
{
    struct opts o = {.out = "."};
    char **args;
    int rc = fg_opt_parse(&new_cmd, argc, argv, &o, &args, NULL);
    if (rc != FG_OPT_OK)
        return fg_opt_exit(rc);
    if (!o.format)
        return fg_opt_error(&new_cmd, "--format json, senml or binary is required");
    return sensors_new(args[0], o.format, o.out);
}

static int test_main(int argc, char **argv)
{
    struct opts o = {0};
    char **args;
    int rc = fg_opt_parse(&test_cmd, argc, argv, &o, &args, NULL);
    if (rc != FG_OPT_OK)
        return fg_opt_exit(rc);
    struct sensor_registry *r = NULL;
    if (cli_sensor_registry("sensors", &o.sensors, &r))
        return 1;
    rc = sensors_test(r, args[0], args[1]);
    sensor_registry_free(r);
    return rc;
}

static const struct fg_subcmd subs[] = {
    {"list", "the sensor types the gateway knows", list_main},
    {"describe", "one type's fields: type, unit, data category, limits", describe_main},
    {"check", "validate a descriptor; decode a sample payload with it", check_main},
    {"new", "write a descriptor skeleton, samples and a route to try", new_main},
    {"test", "decode a file of sample messages and show each result", test_main},
};

static int sensors_main(int argc, char **argv)
{
    return fg_subcmd_run("fairgate sensors", subs, FG_OPT_N(subs), argc, argv);
}

const struct fg_command fg_cmd_sensors = {
    .name = "sensors",
    .summary = "list, describe, check, start and test sensor type descriptors",
    .main = sensors_main,
};
