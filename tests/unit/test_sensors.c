/* Sensor types: golden decodes of every built-in type, malformed inputs per
 * format, descriptor mistakes, and the simulator against the decoders. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/fg_util.h"
#include "sensors/sensor.h"
#include "sensors/simulator.h"

static struct sensor_record rec; /* 8 KiB arena: not on the stack */

static const char *src_dir(void)
{
    const char *s = getenv("FAIRGATE_SOURCE_DIR");
    return s && *s ? s : FAIRGATE_SOURCE_DIR;
}

static struct sensor_registry *builtin(void)
{
    struct sensor_registry *r;
    char why[512];
    assert_int_equal(sensor_registry_new(&r), FG_OK);
    fg_err e = sensor_registry_load_builtin(r, why, sizeof why);
    if (e)
        fail_msg("%s", why);
    return r;
}

static fg_err decode(const struct sensor_registry *r, const char *topic, const void *p, size_t len,
                     char *why, size_t why_len)
{
    memset(&rec, 0xa5, sizeof rec);
    why[0] = '\0';
    return sensor_decode(r, topic, p, len, &rec, why, why_len);
}

/* ---- golden decodes -------------------------------------------------------------- */

static void test_golden_every_builtin_type(void **state)
{
    (void)state;
    struct sensor_registry *r = builtin();
    assert_true(sensor_registry_count(r) >= 9);
    for (size_t i = 0; i < sensor_registry_count(r); i++) {
        const struct sensor_type *t = sensor_registry_at(r, i);
        char path[4096], topic[256], why[512];
        char *payload, *expected;
        size_t plen, elen;
        snprintf(path, sizeof path, "%s/tests/golden/sensors/%s.payload", src_dir(), t->name);
        if (fg_read_file(path, 1 << 20, &payload, &plen) != FG_OK)
            fail_msg("built-in type %s has no golden sample %s", t->name, path);
        snprintf(path, sizeof path, "%s/tests/golden/sensors/%s.expected", src_dir(), t->name);
        if (fg_read_file(path, 1 << 20, &expected, &elen) != FG_OK)
            fail_msg("built-in type %s has no golden output %s", t->name, path);
        snprintf(topic, sizeof topic, "raw/%s/golden-1", t->name);
        fg_err e = decode(r, topic, payload, plen, why, sizeof why);
        if (e)
            fail_msg("%s: golden sample does not decode: %s", t->name, why);
        assert_ptr_equal(rec.type, t);
        char out[2 * SENSOR_ARENA];
        assert_true(sensor_record_to_json(&rec, out, sizeof out - 1));
        strcat(out, "\n");
        if (strlen(out) != elen || memcmp(out, expected, elen) != 0)
            fail_msg("%s: decode differs from golden output\n got: %s want: %s", t->name, out,
                     expected);
        free(payload);
        free(expected);
    }
    sensor_registry_free(r);
}

/* ---- malformed inputs -------------------------------------------------------------- */

struct bad_case {
    const char *topic;
    const char *payload;
    size_t len; /* 0 = strlen */
    fg_err want;
    const char *why_has;
};

static void run_bad(const struct sensor_registry *r, const struct bad_case *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char why[512];
        size_t len = c[i].len ? c[i].len : strlen(c[i].payload);
        fg_err e = decode(r, c[i].topic, c[i].payload, len, why, sizeof why);
        if (e == FG_OK)
            fail_msg("case %zu (%s) decoded but must fail", i, c[i].topic);
        if (c[i].want && e != c[i].want)
            fail_msg("case %zu: got %s (%s), want %s", i, fg_strerror(e), why,
                     fg_strerror(c[i].want));
        if (!*why)
            fail_msg("case %zu: no reason given", i);
        if (c[i].why_has && !strstr(why, c[i].why_has))
            fail_msg("case %zu: reason '%s' does not mention '%s'", i, why, c[i].why_has);
        /* reasons name fields, never values */
        if (strstr(why, "B-1") || strstr(why, "SECRET"))
            fail_msg("case %zu: reason leaks a value: %s", i, why);
    }
}

#define B "raw/uwb-badge/t1"
#define M "raw/machine-terminal/t1"
#define G "raw/vehicle-gps/v1"

static void test_json_malformed(void **state)
{
    (void)state;
    struct sensor_registry *r = builtin();
    static char deep[200], deeper[4200];
    memset(deep, 0, sizeof deep);
    strcpy(deep, "{\"badge\":\"B-1\",\"n\":");
    for (int i = 0; i < 40; i++)
        strcat(deep, "[");
    for (int i = 0; i < 40; i++)
        strcat(deep, "]");
    strcat(deep, "}");
    for (int i = 0; i < 2000; i++)
        deeper[i] = '[', deeper[4000 - 1 - i] = ']';
    const struct bad_case cases[] = {
        {B, "{\"badge\":\"B-1", 0, FG_ERR_PARSE, "malformed"},
        {B, "", 0, FG_ERR_PARSE, NULL},
        {B, "{\"badge\":5}", 0, FG_ERR_TYPE, "badge"},
        {B, "{\"badge\":\"SECRET\",\"x\":\"3\"}", 0, FG_ERR_TYPE, "'x'"},
        {B, "{\"badge\":\"SECRET\",\"x\":NaN}", 0, FG_ERR_PARSE, NULL},
        {B, "{\"badge\":\"SECRET\",\"x\":Infinity}", 0, FG_ERR_PARSE, NULL},
        {B, "{\"badge\":\"SECRET\",\"x\":1e999}", 0, FG_ERR_RANGE, "'x'"},
        {B, "{\"badge\":\"SECRET\",\"x\":-1e999}", 0, FG_ERR_RANGE, "'x'"},
        {B, "{\"badge\":\"SECRET\",\"x\":1e300}", 0, FG_ERR_RANGE, "'x'"},
        {M,
         "{\"machine\":\"M-1\",\"state\":\"idle\",\"output_count\":123456789012345678901234567890}",
         0, FG_ERR_TYPE, "output_count"},
        {M, "{\"machine\":\"M-1\",\"state\":\"idle\",\"output_count\":1.5}", 0, FG_ERR_TYPE,
         "output_count"},
        {M, "{\"machine\":\"M-1\",\"state\":\"broken\"}", 0, FG_ERR_RANGE, "state"},
        {B, "{\"badge\":\"SECRET\xff\"}", 0, FG_ERR_PARSE, "UTF-8"},
        {B, "{\"badge\":\"SECRET\xc0\xaf\"}", 0, FG_ERR_PARSE, "UTF-8"},     /* overlong */
        {B, "{\"badge\":\"SECRET\xed\xa0\x80\"}", 0, FG_ERR_PARSE, "UTF-8"}, /* surrogate */
        {B, "{\"badge\":\"SECRET\\u0000x\"}", 0, FG_ERR_PARSE, "NUL"},
        {B, "{\"badge\":\"SEC\nRET\"}", 0, FG_ERR_PARSE, "control"},
        {B, "{\"badge\":\"SECRET\\ud800\"}", 0, FG_ERR_PARSE, NULL}, /* lone surrogate escape */
        {B, deep, 0, FG_ERR_PARSE, "deep"},
        {B, deeper, 4000, FG_ERR_PARSE, "deep"},
        {B, "{\"badge\":\"SECRET\",\"badge\":\"B-2\"}", 0, FG_ERR_PARSE, "duplicate"},
        {G, "{\"vehicle\":\"V\",\"pos\":{\"lat\":1},\"pos\":{\"lat\":2}}", 0, FG_ERR_PARSE,
         "duplicate"},
        {G, "{\"vehicle\":\"V\",\"pos\":{\"lat\":100}}", 0, FG_ERR_RANGE, "lat"},
        {B, "{\"x\":1,\"y\":2}", 0, FG_ERR_MISSING, "badge"},
        {B, "{\"badge\":null}", 0, FG_ERR_MISSING, "badge"},
        {B, "{\"badge\":\"SECRET\"} x", 0, FG_ERR_PARSE, "trailing"},
        {B, "{\"badge\":\"SECRET\"}\0{\"badge\":\"B-2\"}", 34, FG_ERR_PARSE, NULL},
        {B, "[{\"badge\":\"SECRET\"}]", 0, FG_ERR_PARSE, "object"},
        {B, "{\"badge\":{\"id\":\"SECRET\"}}", 0, FG_ERR_TYPE, "badge"},
        {B, "{\"badge\":\"SECRET\",\"ts\":\"yesterday\"}", 0, FG_ERR_TYPE, "ts"},
        {B, "{\"badge\":\"SECRET\",\"ts\":-5}", 0, FG_ERR_RANGE, "ts"},
        {B, "{\"badge\":true}", 0, FG_ERR_TYPE, "badge"},
        {"raw/nothing/x", "{}", 0, FG_ERR_UNKNOWN_TOPIC, NULL},
    };
    run_bad(r, cases, sizeof cases / sizeof cases[0]);

    /* accepted edge cases: one trailing NUL from C firmware, whitespace,
     * undeclared keys of any shape */
    char why[256];
    const char ok1[] = "{\"badge\":\"B-1\",\"junk\":[[[{\"a\":1e999}]]]} \n";
    assert_int_equal(decode(r, B, ok1, sizeof ok1, why, sizeof why), FG_OK);
    assert_int_equal(decode(r, B, ok1, strlen(ok1), why, sizeof why), FG_OK);
    assert_true(rec.values[sensor_field_index(rec.type, "badge")].present);
    assert_false(rec.values[sensor_field_index(rec.type, "x")].present);
    sensor_registry_free(r);
}

static void test_binary_malformed(void **state)
{
    (void)state;
    struct sensor_registry *r = builtin();
    char golden[4096], *fl;
    size_t len;
    snprintf(golden, sizeof golden, "%s/tests/golden/sensors/forklift.payload", src_dir());
    assert_int_equal(fg_read_file(golden, 4096, &fl, &len), FG_OK);
    assert_int_equal(len, 21);
    char why[256];
    assert_int_equal(decode(r, "raw/forklift/f", fl, len, why, sizeof why), FG_OK);
    for (size_t cut = 0; cut < len; cut++)
        assert_int_equal(decode(r, "raw/forklift/f", fl, cut, why, sizeof why), FG_ERR_PARSE);
    char longer[22];
    memcpy(longer, fl, 21);
    longer[21] = 0;
    assert_int_equal(decode(r, "raw/forklift/f", longer, 22, why, sizeof why), FG_ERR_TOO_BIG);
    /* speed over its declared max of 60 km/h: 0xffff * 0.1 */
    fl[6] = (char)0xff;
    fl[7] = (char)0xff;
    assert_int_equal(decode(r, "raw/forklift/f", fl, len, why, sizeof why), FG_ERR_RANGE);
    assert_non_null(strstr(why, "speed"));
    free(fl);

    /* a test layout: little endian, signed, 8 bytes, booleans nonzero, no length */
    const char *desc = "type: t-bin\n"
                       "topic: raw/t-bin/{device}\n"
                       "format: binary\n"
                       "fields:\n"
                       "  a: { type: integer, category: machine, offset: 0, width: 8, signed: true,"
                       " endian: little }\n"
                       "  b: { type: integer, category: machine, offset: 8, width: 8 }\n"
                       "  c: { type: boolean, category: machine, offset: 16, width: 1 }\n"
                       "  d: { type: number, category: machine, offset: 17, width: 2, signed: true,"
                       " scale: 0.5 }\n";
    struct sensor_registry *t;
    assert_int_equal(sensor_registry_new(&t), FG_OK);
    assert_int_equal(sensor_registry_load_string(t, "t.yaml", desc, strlen(desc), why, sizeof why),
                     FG_OK);
    unsigned char p[20] = {0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* -2 LE */
                           0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* INT64_MAX BE */
                           7,    0xff, 0xfc,                               /* true, -4 * 0.5 */
                           0x99};                                          /* trailing: ignored */
    assert_int_equal(decode(t, "raw/t-bin/x", p, sizeof p, why, sizeof why), FG_OK);
    assert_int_equal(rec.values[0].v.i, -2);
    assert_int_equal(rec.values[1].v.i, INT64_MAX);
    assert_true(rec.values[2].v.b);
    assert_true(rec.values[3].v.num == -2.0);
    p[8] = 0x80; /* unsigned value above INT64_MAX */
    assert_int_equal(decode(t, "raw/t-bin/x", p, sizeof p, why, sizeof why), FG_ERR_RANGE);
    assert_int_equal(decode(t, "raw/t-bin/x", p, 18, why, sizeof why), FG_ERR_PARSE);
    sensor_registry_free(t);
    sensor_registry_free(r);
}

#define W "raw/wearable-vitals/w1"
#define BASE "{\"bn\":\"urn:dev:wv:1:\",\"bt\":1795767302,\"n\":\"badge\",\"vs\":\"SECRET\"}"

static void test_senml_malformed(void **state)
{
    (void)state;
    struct sensor_registry *r = builtin();
    const struct bad_case cases[] = {
        {W, "{\"n\":\"badge\",\"vs\":\"SECRET\"}", 0, FG_ERR_PARSE, "array"},
        {W, "[]", 0, FG_ERR_PARSE, "array"},
        {W, "[1]", 0, FG_ERR_PARSE, "object"},
        {W, "[{\"bn\":5,\"n\":\"badge\",\"vs\":\"SECRET\"}]", 0, FG_ERR_TYPE, "bn"},
        {W, "[{\"bt\":\"now\",\"n\":\"badge\",\"vs\":\"SECRET\"}]", 0, FG_ERR_TYPE, "bt"},
        {W, "[{\"bu\":1,\"n\":\"badge\",\"vs\":\"SECRET\"}]", 0, FG_ERR_TYPE, "bu"},
        {W, "[{\"bv\":\"1\",\"n\":\"badge\",\"vs\":\"SECRET\"}]", 0, FG_ERR_TYPE, "bv"},
        {W, "[{\"bver\":0,\"n\":\"badge\",\"vs\":\"SECRET\"}]", 0, FG_ERR_RANGE, "bver"},
        {W, "[{\"bt\":1e999,\"n\":\"badge\",\"vs\":\"SECRET\"}]", 0, FG_ERR_RANGE, "bt"},
        {W, "[" BASE ",{\"bn\":\"urn:dev:wv:2:\",\"n\":\"zone\",\"vs\":\"z\"}]", 0, FG_ERR_PARSE,
         "base name"},
        {W, "[{\"bn\":\"urn dev\",\"n\":\"badge\",\"vs\":\"SECRET\"}]", 0, FG_ERR_PARSE,
         "base name"},
        {W, "[{\"n\":\"bad name!\",\"v\":1}," BASE "]", 0, FG_ERR_PARSE, "name"},
        {W, "[{\"v\":1}]", 0, FG_ERR_PARSE, "name"},
        {W, "[" BASE ",{\"n\":\"badge\",\"vs\":\"B-2\"}]", 0, FG_ERR_PARSE, "twice"},
        {W, "[" BASE ",{\"n\":\"skin_temp\",\"u\":\"Far\",\"v\":92}]", 0, FG_ERR_TYPE, "unit"},
        {W,
         "[{\"bn\":\"urn:dev:wv:1:\",\"bu\":\"Far\",\"n\":\"badge\",\"vs\":\"SECRET\"},"
         "{\"n\":\"skin_temp\",\"v\":92}]",
         0, FG_ERR_TYPE, "unit"},
        {W, "[" BASE ",{\"n\":\"heart_rate\",\"vs\":\"90\"}]", 0, FG_ERR_TYPE, "heart_rate"},
        {W, "[" BASE ",{\"n\":\"heart_rate\",\"v\":90.5}]", 0, FG_ERR_TYPE, "heart_rate"},
        {W, "[" BASE ",{\"n\":\"heart_rate\",\"v\":900}]", 0, FG_ERR_RANGE, "heart_rate"},
        {W, "[" BASE ",{\"n\":\"heart_rate\",\"v\":90,\"vb\":true}]", 0, FG_ERR_PARSE, "value"},
        {W, "[" BASE ",{\"n\":\"heart_rate\"}]", 0, FG_ERR_MISSING, "heart_rate"},
        {W, "[" BASE ",{\"n\":\"man_down\",\"v\":1}]", 0, FG_ERR_TYPE, "man_down"},
        {W, "[" BASE ",{\"n\":\"fall\",\"vd\":\"AAAA\"}]", 0, FG_ERR_TYPE, "fall"},
        {W, "[" BASE ",{\"n\":\"fall\",\"vb\":true,\"vb\":false}]", 0, FG_ERR_PARSE, "twice"},
        {W, "[" BASE ",{\"n\":\"fall\",\"vb\":true,\"crit_\":1}]", 0, FG_ERR_PARSE,
         "must-understand"},
        {W, "[" BASE ",{\"n\":\"zone\",\"vs\":\"\xff\"}]", 0, FG_ERR_PARSE, "UTF-8"},
        {W, "[{\"n\":\"zone\",\"vs\":\"z\"}]", 0, FG_ERR_MISSING, "badge"},
        {W, "[" BASE "] [", 0, FG_ERR_PARSE, NULL},
    };
    run_bad(r, cases, sizeof cases / sizeof cases[0]);

    /* base value and base unit apply to later records; undeclared names are
     * skipped; a relative-free pack time fills ts */
    char why[256];
    const char *ok = "[{\"bn\":\"urn:dev:wv:1:\",\"bt\":1795767300,\"bu\":\"beat/min\",\"bv\":60,"
                     "\"n\":\"heart_rate\",\"v\":12,\"t\":2},{\"n\":\"badge\",\"vs\":\"B-1\"},"
                     "{\"n\":\"secret_diagnosis\",\"vs\":\"x\"}]";
    assert_int_equal(decode(r, W, ok, strlen(ok), why, sizeof why), FG_OK);
    const struct sensor_type *t = rec.type;
    assert_int_equal(rec.values[sensor_field_index(t, "heart_rate")].v.i, 72);
    assert_int_equal(rec.values[sensor_field_index(t, "ts")].v.i, 1795767302000LL);
    assert_string_equal(rec.device, "w1"); /* the topic wins over bn */

    /* no {device} in the topic: the device comes from bn; senml: maps names */
    const char *desc = "type: t-senml\n"
                       "topic: raw/t-senml\n"
                       "format: senml\n"
                       "fields:\n"
                       "  temp: { type: number, category: environment, unit: Cel, senml: t1 }\n"
                       "  ts: { type: timestamp, category: time }\n";
    struct sensor_registry *x;
    assert_int_equal(sensor_registry_new(&x), FG_OK);
    assert_int_equal(sensor_registry_load_string(x, "t.yaml", desc, strlen(desc), why, sizeof why),
                     FG_OK);
    const char *p = "[{\"bn\":\"urn:dev:ow:10e2073a01080063:\",\"n\":\"t1\",\"u\":\"Cel\","
                    "\"v\":23.1,\"t\":1795767302}]";
    assert_int_equal(decode(x, "raw/t-senml", p, strlen(p), why, sizeof why), FG_OK);
    assert_string_equal(rec.device, "urn:dev:ow:10e2073a01080063");
    assert_true(rec.values[0].v.num == 23.1);
    assert_int_equal(rec.values[1].v.i, 1795767302000LL);
    sensor_registry_free(x);
    sensor_registry_free(r);
}

#define A "raw/access-gate/p1"

static void test_kv_malformed(void **state)
{
    (void)state;
    struct sensor_registry *r = builtin();
    const struct bad_case cases[] = {
        {A, "", 0, FG_ERR_PARSE, NULL},
        {A, "gate=G-1;badge", 0, FG_ERR_PARSE, "key=value"},
        {A, "gate=G-1;=x", 0, FG_ERR_PARSE, "key=value"},
        {A, "gate=G-1;ba dge=SECRET", 0, FG_ERR_PARSE, "key"},
        {A, "gate=G-1;badge=SECRET;badge=B-2", 0, FG_ERR_PARSE, "duplicate"},
        {A, "gate=G-1;badge=SECRET;granted=maybe", 0, FG_ERR_TYPE, "granted"},
        {A, "gate=G-1;badge=SECRET;dir=sideways", 0, FG_ERR_RANGE, "direction"},
        {A, "gate=G-1;badge=SECRET;ts=nan", 0, FG_ERR_TYPE, "ts"},
        {A, "gate=G-1;badge=SECRET;ts=0x10", 0, FG_ERR_TYPE, "ts"},
        {A, "gate=G-1;badge=SEC\x01RET", 0, FG_ERR_PARSE, "control"},
        {A, "gate=G-1;badge=SECRET\xff", 0, FG_ERR_PARSE, "UTF-8"},
        {A, "gate=G-1;granted=1", 0, FG_ERR_MISSING, "badge"},
        {A, "gate=G-1;badge=", 0, FG_ERR_MISSING, "badge"},
    };
    run_bad(r, cases, sizeof cases / sizeof cases[0]);
    sensor_registry_free(r);
}

/* ---- descriptor mistakes ----------------------------------------------------------- */

struct desc_case {
    const char *text;
    const char *why_has[3];
};

static void test_descriptor_mistakes(void **state)
{
    (void)state;
    const struct desc_case cases[] = {
        {"type: a\ntopic: raw/a/{device}\nformat: json\nfields:\n"
         "  x: { type: number }\n",
         {"d.yaml:5:6", "no data category", NULL}},
        {"type: a\ntopic: raw/a/{device}\nformat: json\nfields:\n"
         "  x: { type: number, categroy: location }\n",
         {"d.yaml:5:22", "did you mean 'category'", NULL}},
        {"type: a\ntopic: raw/a/{device}\nformat: json\nfields:\n"
         "  x: { type: number, category: helth }\n",
         {"d.yaml:5:32", "did you mean 'health'", NULL}},
        {"type: a\ntopic: raw/a/{device}\nformat: json\nfields:\n"
         "  x: { type: numbr, category: health }\n",
         {"d.yaml:5", "did you mean 'number'", NULL}},
        {"type: a\ntopic: raw/a/{device}\nformat: jsn\nfields:\n"
         "  x: { type: number, category: health }\n",
         {"d.yaml:3:9", "did you mean 'json'", NULL}},
        {"type: a\ntopic: raw/a/{device}\nformt: json\nfields:\n"
         "  x: { type: number, category: health }\n",
         {"d.yaml:3:1", "did you mean 'format'", NULL}},
        {"type: a\ntopic: raw/a/{device}\nformat: binary\nfields:\n"
         "  x: { type: number, category: machine, offset: 0, width: 3 }\n",
         {"d.yaml:5:6", "width 1, 2, 4 or 8", NULL}},
        {"type: a\ntopic: raw/a/{device}\nformat: binary\nfields:\n"
         "  x: { type: number, category: machine }\n",
         {"d.yaml:5:6", "offset", NULL}},
        {"type: a\ntopic: raw/a/{device}\nformat: binary\nlength: 3\nfields:\n"
         "  x: { type: number, category: machine, offset: 2, width: 2 }\n",
         {"d.yaml:4:9", "shorter", NULL}},
        {"type: a\ntopic: raw/a/{device}\nformat: binary\nfields:\n"
         "  x: { type: string, category: machine, offset: 0, width: 2 }\n",
         {"d.yaml:5", "numeric", NULL}},
        {"type: a\ntopic: raw/a/{device}\nformat: json\nfields:\n"
         "  x: { type: number, category: machine, width: 2 }\n",
         {"d.yaml:5:41", "only applies to format: binary", NULL}},
        {"type: a\ntopic: raw/a/{device}\nformat: json\nfields:\n"
         "  x: { type: number, category: machine, senml: y }\n",
         {"d.yaml:5", "only applies to format: senml", NULL}},
        {"type: a\ntopic: raw/a/{device}\nformat: c\ndecoder: kvv\nfields:\n"
         "  x: { type: number, category: machine }\n",
         {"d.yaml:4:10", "did you mean 'kv'", NULL}},
        {"type: a\ntopic: raw/a/{device}\nformat: c\nfields:\n"
         "  x: { type: number, category: machine }\n",
         {"d.yaml:3", "decoder", NULL}},
        {"type: a\ntopic: raw/a/{device}\nformat: c\ndecoder: kv\nfields:\n"
         "  x: { type: number, category: machine, path: a.b }\n",
         {"d.yaml", "nested path", NULL}},
        {"type: a\ntopic: raw/a/{device}\nformat: json\ndecoder: kv\nfields:\n"
         "  x: { type: number, category: machine }\n",
         {"d.yaml:4", "format: c only", NULL}},
        {"type: a\ntopic: raw/a/{device}\nformat: json\nfields:\n"
         "  x: { type: number, category: machine, category: zone }\n",
         {"d.yaml:5:41", "twice", NULL}},
        {"type: a\ntopic: raw/+/x\nformat: json\nfields:\n"
         "  x: { type: number, category: machine }\n",
         {"d.yaml:2:8", "wildcard", NULL}},
        {"type: a\ntopic: raw/a\nformat: json\nfields:\n"
         "  x: { type: enum, category: machine }\n",
         {"d.yaml:5", "values", NULL}},
        {"type: a\ntopic: raw/a\nformat: json\nfields:\n"
         "  x: { type: number, category: machine, min: 5, max: 1 }\n",
         {"d.yaml:5", "min above max", NULL}},
        {"type: a\ntopic: raw/a\nformat: json\nfields:\n  x: [1, 2\n", {"d.yaml:", NULL, NULL}},
        /* persons behind things, zone lists */
        {"type: a\ntopic: raw/a\nformat: json\nfields:\n"
         "  m: { type: string, category: machine, person: op }\n"
         "  op: { type: string, category: machine }\n",
         {"d.yaml:5", "'person' of field 'm' must name a worker-id field", NULL}},
        {"type: a\ntopic: raw/a\nformat: json\nfields:\n"
         "  op: { type: string, category: worker-id, person: op }\n",
         {"d.yaml:5", "worker id itself", NULL}},
        {"type: a\ntopic: raw/a\nformat: json\nfields:\n"
         "  m: { type: string, category: machine, zones: [a, b] }\n",
         {"d.yaml:5", "'zones' applies to text fields of category zone", NULL}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct sensor_registry *r;
        char why[512] = "";
        assert_int_equal(sensor_registry_new(&r), FG_OK);
        fg_err e = sensor_registry_load_string(r, "d.yaml", cases[i].text, strlen(cases[i].text),
                                               why, sizeof why);
        if (e != FG_ERR_CONFIG)
            fail_msg("descriptor case %zu: got %s, want a configuration error (%s)", i,
                     fg_strerror(e), why);
        for (int k = 0; k < 3 && cases[i].why_has[k]; k++)
            if (!strstr(why, cases[i].why_has[k]))
                fail_msg("descriptor case %zu: '%s' does not mention '%s'", i, why,
                         cases[i].why_has[k]);
        assert_int_equal(sensor_registry_count(r), 0);
        sensor_registry_free(r);
    }
}

static void test_person_and_zone_keys(void **state)
{
    (void)state;
    static const char desc[] = "type: a\ntopic: raw/a\nformat: json\nfields:\n"
                               "  truck: { type: integer, category: device-id, person: driver }\n"
                               "  driver: { type: string, category: worker-id }\n"
                               "  zone: { type: string, category: zone, zones: [yard, dock] }\n";
    struct sensor_registry *r;
    char why[512] = "";
    assert_int_equal(sensor_registry_new(&r), FG_OK);
    assert_int_equal(sensor_registry_load_string(r, "d.yaml", desc, strlen(desc), why, sizeof why),
                     FG_OK);
    const struct sensor_type *t = sensor_registry_find(r, "a");
    assert_non_null(t);
    assert_string_equal(t->fields[0].person, "driver");
    assert_int_equal(t->fields[0].person_idx, 1);
    assert_int_equal(t->fields[1].person_idx, -1);
    assert_int_equal(t->fields[2].nzones, 2);
    assert_string_equal(t->fields[2].zones[1], "dock");
    sensor_registry_free(r);
}

/* ---- the simulator --------------------------------------------------------------- */

static void test_simulator_deterministic(void **state)
{
    (void)state;
    for (int site = 0; sim_sites[site]; site++) {
        struct sim_options o = {.site = sim_sites[site],
                                .workers = 15,
                                .seed = 42,
                                .start_ms = 1795766400000LL,
                                .step_ms = 20};
        struct sim *a, *b;
        assert_int_equal(sim_new(&o, &a), FG_OK);
        assert_int_equal(sim_new(&o, &b), FG_OK);
        static struct sim_msg ma, mb;
        for (int i = 0; i < 5000; i++) {
            sim_next_msg(a, &ma);
            sim_next_msg(b, &mb);
            assert_string_equal(ma.topic, mb.topic);
            assert_int_equal(ma.len, mb.len);
            assert_memory_equal(ma.payload, mb.payload, ma.len);
        }
        sim_free(b);
        o.seed = 43;
        assert_int_equal(sim_new(&o, &b), FG_OK);
        int same = 0;
        for (int i = 0; i < 100; i++) {
            sim_next_msg(a, &ma);
            sim_next_msg(b, &mb);
            same += ma.len == mb.len && !memcmp(ma.payload, mb.payload, ma.len);
        }
        assert_true(same < 50);
        sim_free(a);
        sim_free(b);
    }
    struct sim_options bad = {.site = "moon", .workers = 1};
    struct sim *s;
    assert_int_equal(sim_new(&bad, &s), FG_ERR_CONFIG);
}

/* Every simulated message of every site decodes with the built-in types; each
 * type of the site shows up; exactly one man-down per shift. */
static void test_simulator_decodes_and_man_down_once_per_shift(void **state)
{
    (void)state;
    struct sensor_registry *r = builtin();
    for (int site = 0; sim_sites[site]; site++) {
        const int shifts = 3;
        struct sim_options o = {.site = sim_sites[site],
                                .workers = 25,
                                .seed = 9,
                                .start_ms = 1795766400000LL,
                                .step_ms = 10,
                                .shift_ms = 60000};
        struct sim *s;
        assert_int_equal(sim_new(&o, &s), FG_OK);
        const char *const *types = sim_site_types(sim_sites[site]);
        size_t seen[16] = {0}, ntypes = 0, man_down = 0, man_down_flag = 0, canteen = 0;
        while (types[ntypes])
            ntypes++;
        static struct sim_msg m;
        long total = shifts * 60000 / 10;
        for (long i = 0; i < total; i++) {
            sim_next_msg(s, &m);
            char why[256];
            fg_err e = decode(r, m.topic, m.payload, m.len, why, sizeof why);
            if (e)
                fail_msg("%s message %ld (%s) does not decode: %s", sim_sites[site], i, m.topic,
                         why);
            assert_string_equal(rec.type->name, m.type);
            for (size_t k = 0; k < ntypes; k++)
                if (!strcmp(types[k], m.type))
                    seen[k]++;
            int md = sensor_field_index(rec.type, "man_down");
            if (md >= 0 && rec.values[md].present && rec.values[md].v.b)
                man_down++;
            man_down_flag += m.man_down;
            int z = sensor_field_index(rec.type, "zone");
            if (!strcmp(m.type, "uwb-badge") && z >= 0 && rec.values[z].present &&
                !strcmp(rec.values[z].v.str.s, "canteen"))
                canteen++;
        }
        for (size_t k = 0; k < ntypes; k++)
            if (!seen[k])
                fail_msg("%s: type %s never simulated", sim_sites[site], types[k]);
        if (!strcmp(sim_sites[site], "factory")) {
            assert_int_equal(man_down, shifts);
            assert_int_equal(man_down_flag, shifts);
            /* badges dominate, environment every tenth message */
            assert_true(seen[0] > (size_t)total / 2);
            assert_int_equal(seen[3], (size_t)total / 10);
        } else
            assert_int_equal(man_down, 0);
        assert_true(canteen > 0); /* the break happens */
        sim_free(s);
    }
    sensor_registry_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_every_builtin_type),
        cmocka_unit_test(test_json_malformed),
        cmocka_unit_test(test_binary_malformed),
        cmocka_unit_test(test_senml_malformed),
        cmocka_unit_test(test_kv_malformed),
        cmocka_unit_test(test_descriptor_mistakes),
        cmocka_unit_test(test_person_and_zone_keys),
        cmocka_unit_test(test_simulator_deterministic),
        cmocka_unit_test(test_simulator_decodes_and_man_down_once_per_shift),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
