/* fairgate sensors list|describe|check|new|test: what the gateway can decode,
 * and a way for integrators to start a descriptor, test it against sample
 * payloads and decoders built outside fairgate before a gateway ever sees it.
 * `new` and `test` live in cli/sensors_try.c. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fg_command.h"
#include "common/fg_util.h"
#include "sensors/sensor.h"
#include "cli/sensors_try.h"

#define MAX_DIRS 16

static void usage(FILE *out)
{
    fprintf(out,
            "usage: fairgate sensors list [--dir DIR]... [--decoders DIR]\n"
            "       fairgate sensors describe NAME [--dir DIR]... [--decoders DIR]\n"
            "       fairgate sensors check FILE [--sample PAYLOAD_FILE] [--topic TOPIC]\n"
            "                              [--decoders DIR]\n"
            "       fairgate sensors new NAME --format json|senml|binary [--out DIR]\n"
            "       fairgate sensors test TYPE SAMPLES.jsonl [--dir DIR]... [--decoders DIR]\n\n"
            "  list      the sensor types the gateway knows: built-in ones (from %s)\n"
            "            and those in each --dir; with --decoders, the decoders loaded\n"
            "  describe  one type's fields: type, unit, data category, limits\n"
            "  check     validates a descriptor file, runs its decoder over synthetic\n"
            "            payloads; with --sample, decodes the payload file and prints the\n"
            "            typed record (undeclared fields are dropped)\n"
            "  new       writes DIR/NAME/ (default ./NAME/): types/NAME.yaml, a descriptor\n"
            "            skeleton; samples.jsonl, sample messages; policy.yaml, a route to\n"
            "            try them with `fairgate replay`\n"
            "  test      decodes every line of SAMPLES.jsonl (replay's format: {\"topic\": ..,\n"
            "            \"payload\": ..} or \"payload_b64\" for binary) as TYPE and prints each\n"
            "            record or its precise error; exit 1 if any line fails\n\n"
            "  --decoders DIR  loads C decoders built outside fairgate (*.so) from DIR first;\n"
            "            refused if DIR or a file is writable by anyone but root or you\n"
            "check, test and new print raw sample values: use them on test data only.\n",
            "$FAIRGATE_SENSOR_TYPES or the installed share/fairgate/sensors");
}

static int load_all(struct sensor_registry **r, const char *const *dirs, size_t ndirs,
                    const char *decoders)
{
    char why[1024];
    if (sensor_registry_new(r) != FG_OK) {
        fprintf(stderr, "sensors: out of memory\n");
        return 1;
    }
    if (decoders && sensor_registry_load_decoders(*r, decoders, why, sizeof why) != FG_OK) {
        fprintf(stderr, "sensors: %s\n", why);
        return 1;
    }
    if (sensor_registry_load_builtin(*r, why, sizeof why) != FG_OK) {
        fprintf(stderr, "sensors: %s\n", why);
        return 1;
    }
    for (size_t i = 0; i < ndirs; i++)
        if (sensor_registry_load_dir(*r, dirs[i], why, sizeof why) != FG_OK) {
            fprintf(stderr, "sensors: %s\n", why);
            return 1;
        }
    return 0;
}

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

static int sensors_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"dir", required_argument, 0, 'd'},    {"sample", required_argument, 0, 's'},
        {"topic", required_argument, 0, 't'},  {"decoders", required_argument, 0, 'D'},
        {"format", required_argument, 0, 'f'}, {"out", required_argument, 0, 'o'},
        {"help", no_argument, 0, 'h'},         {0, 0, 0, 0}};
    const char *dirs[MAX_DIRS], *sample = NULL, *topic = NULL, *decoders = NULL, *format = NULL,
                                *out = ".";
    size_t ndirs = 0;
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *sub = argv[1];
    int o;
    optind = 2;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (o) {
        case 'd':
            if (ndirs == MAX_DIRS) {
                fprintf(stderr, "sensors: at most %d --dir\n", MAX_DIRS);
                return 2;
            }
            dirs[ndirs++] = optarg;
            break;
        case 's':
            sample = optarg;
            break;
        case 't':
            topic = optarg;
            break;
        case 'D':
            decoders = optarg;
            break;
        case 'f':
            format = optarg;
            break;
        case 'o':
            out = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    int nargs = argc - optind;
    if (!strcmp(sub, "list") && nargs == 0) {
        struct sensor_registry *r = NULL;
        int rc = load_all(&r, dirs, ndirs, decoders);
        if (!rc) {
            printf("%-18s %-8s %-32s %s\n", "TYPE", "FORMAT", "TOPIC", "CATEGORIES");
            for (size_t i = 0; i < sensor_registry_count(r); i++)
                print_type_row(sensor_registry_at(r, i));
            for (size_t i = 0; i < sensor_registry_plugin_count(r); i++)
                printf("decoder %s: %s\n", sensor_registry_plugin_at(r, i)->name,
                       sensor_registry_plugin_at(r, i)->file);
        }
        sensor_registry_free(r);
        return rc;
    }
    if (!strcmp(sub, "describe") && nargs == 1) {
        struct sensor_registry *r = NULL;
        int rc = load_all(&r, dirs, ndirs, decoders);
        if (!rc) {
            const struct sensor_type *t = sensor_registry_find(r, argv[optind]);
            if (t)
                describe(t);
            else {
                const char *names[128];
                size_t n = 0;
                for (; n < sensor_registry_count(r) && n < 128; n++)
                    names[n] = sensor_registry_at(r, n)->name;
                const char *s = fg_suggest(argv[optind], names, n);
                fprintf(stderr, "sensors: no sensor type '%s'%s%s%s\n", argv[optind],
                        s ? " (did you mean '" : "", s ? s : "", s ? "'?)" : "");
                rc = 1;
            }
        }
        sensor_registry_free(r);
        return rc;
    }
    if (!strcmp(sub, "check") && nargs == 1)
        return check(argv[optind], sample, topic, decoders);
    if (!strcmp(sub, "new") && nargs == 1) {
        if (!format) {
            fprintf(stderr, "sensors new: --format json, senml or binary is required\n");
            return 2;
        }
        return sensors_new(argv[optind], format, out);
    }
    if (!strcmp(sub, "test") && nargs == 2) {
        struct sensor_registry *r = NULL;
        int rc = load_all(&r, dirs, ndirs, decoders);
        if (!rc)
            rc = sensors_test(r, argv[optind], argv[optind + 1]);
        sensor_registry_free(r);
        return rc;
    }
    usage(stderr);
    return 2;
}

const struct fg_command fg_cmd_sensors = {
    .name = "sensors",
    .summary = "list, describe, check, start and test sensor type descriptors",
    .main = sensors_main,
};
