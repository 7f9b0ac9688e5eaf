/* What an integrator adding a sensor type meets: binary value maps, bit
 * fields and the layout checks; SenML packs, every example of RFC 8428
 * section 5 decoded as the RFC means it or refused with the exact reason;
 * error messages that name units, topic patterns and decoders; `by: []`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/fg_util.h"
#include "policy/policy.h"
#include "sensors/sensor.h"

static struct sensor_record rec;

static struct sensor_registry *one(const char *yaml)
{
    struct sensor_registry *r;
    char why[1024];
    assert_int_equal(sensor_registry_new(&r), FG_OK);
    if (sensor_registry_load_string(r, "d.yaml", yaml, strlen(yaml), why, sizeof why))
        fail_msg("descriptor refused: %s", why);
    return r;
}

/* The descriptor must be refused with every string of has[] in the reason. */
static void refused(const char *yaml, const char *has1, const char *has2)
{
    struct sensor_registry *r;
    char why[1024] = "";
    assert_int_equal(sensor_registry_new(&r), FG_OK);
    fg_err e = sensor_registry_load_string(r, "d.yaml", yaml, strlen(yaml), why, sizeof why);
    if (e == FG_OK)
        fail_msg("descriptor loaded but must be refused:\n%s", yaml);
    if ((has1 && !strstr(why, has1)) || (has2 && !strstr(why, has2)))
        fail_msg("reason '%s' lacks '%s' / '%s'", why, has1, has2 ? has2 : "");
    sensor_registry_free(r);
}

static fg_err dec(const struct sensor_registry *r, const char *topic, const void *p, size_t len,
                  char *why, size_t why_len)
{
    memset(&rec, 0xa5, sizeof rec);
    why[0] = '\0';
    return sensor_decode(r, topic, p, len, &rec, why, why_len);
}

/* Decodes and compares the printed record. */
static void decodes_to(const struct sensor_registry *r, const char *topic, const void *p,
                       size_t len, const char *want)
{
    char why[512], out[2 * SENSOR_ARENA];
    fg_err e = dec(r, topic, p, len, why, sizeof why);
    if (e)
        fail_msg("does not decode: %s", why);
    assert_true(sensor_record_to_json(&rec, out, sizeof out));
    if (strcmp(out, want) != 0)
        fail_msg("got  %s\nwant %s", out, want);
}

static void fails_with(const struct sensor_registry *r, const char *topic, const void *p,
                       size_t len, fg_err want, const char *has)
{
    char why[512];
    fg_err e = dec(r, topic, p, len, why, sizeof why);
    if (e == FG_OK)
        fail_msg("decoded but must fail with '%s'", has);
    if (e != want || !strstr(why, has))
        fail_msg("got %s '%s', want %s '%s'", fg_strerror(e), why, fg_strerror(want), has);
}

/* ---- golden decodes of the sample integrator types ------------------------------------ */

static const char *src_dir(void)
{
    const char *s = getenv("FAIRGATE_SOURCE_DIR");
    return s && *s ? s : FAIRGATE_SOURCE_DIR;
}

/* Every descriptor in tests/data/integrators/types has a golden payload and
 * its exact record in tests/golden/integrators (regenerate with `fairgate
 * sensors check TYPE.yaml --sample TYPE.payload --topic raw/TYPE/golden-1`). */
static void test_golden_integrator_types(void **state)
{
    (void)state;
    struct sensor_registry *r;
    char path[4096], why[1024];
    assert_int_equal(sensor_registry_new(&r), FG_OK);
    snprintf(path, sizeof path, "%s/tests/data/integrators/types", src_dir());
    if (sensor_registry_load_dir(r, path, why, sizeof why))
        fail_msg("%s", why);
    assert_true(sensor_registry_count(r) >= 2);
    for (size_t i = 0; i < sensor_registry_count(r); i++) {
        const char *name = sensor_registry_at(r, i)->name;
        char *payload, *expected, topic[256];
        size_t plen, elen;
        snprintf(path, sizeof path, "%s/tests/golden/integrators/%s.payload", src_dir(), name);
        if (fg_read_file(path, 1 << 20, &payload, &plen) != FG_OK)
            fail_msg("no golden payload %s", path);
        snprintf(path, sizeof path, "%s/tests/golden/integrators/%s.expected", src_dir(), name);
        if (fg_read_file(path, 1 << 20, &expected, &elen) != FG_OK)
            fail_msg("no golden record %s", path);
        while (elen && expected[elen - 1] == '\n')
            expected[--elen] = '\0';
        snprintf(topic, sizeof topic, "raw/%s/golden-1", name);
        decodes_to(r, topic, payload, plen, expected);
        free(payload);
        free(expected);
    }
    sensor_registry_free(r);
}

/* ---- binary ------------------------------------------------------------------------ */

#define COLD_STORE                                                                                 \
    "type: cold-store-door\ntopic: raw/cold-door/{device}\nformat: binary\nlength: 8\n"            \
    "fields:\n"                                                                                    \
    "  door_id: { type: integer, category: device-id, offset: 0, width: 2 }\n"                     \
    "  state:   { type: enum, category: machine, offset: 2, width: 1,\n"                           \
    "             values: {0: closed, 1: open, 0x02: ajar} }\n"                                    \
    "  alarm:   { type: boolean, category: safety-event, offset: 3, width: 1, bit: 0 }\n"          \
    "  mode:    { type: enum, category: machine, offset: 3, width: 1, bit: 1, bits: 2,\n"          \
    "             values: {0: auto, 1: manual, 2: service} }\n"                                    \
    "  delta:   { type: integer, category: machine, offset: 3, width: 1, bit: 4, bits: 4,\n"       \
    "             signed: true }\n"                                                                \
    "  temp:    { type: number, category: environment, unit: Cel, offset: 4, width: 2,\n"          \
    "             signed: true, scale: 0.1, min: -40, max: 40 }\n"                                 \
    "  battery: { type: integer, category: device-health, unit: '%', offset: 6, width: 1 }\n"

static void test_binary_value_maps_and_bit_fields(void **state)
{
    (void)state;
    struct sensor_registry *r = one(COLD_STORE);
    /* id 258, ajar, flags 0b1111_0101: alarm, mode 2 (service), delta -1;
     * temp -18.5 (0xff47), battery 87 */
    const unsigned char f1[8] = {0x01, 0x02, 2, 0xf5, 0xff, 0x47, 87, 0};
    decodes_to(r, "raw/cold-door/d1", f1, 8,
               "{\"type\":\"cold-store-door\",\"device\":\"d1\",\"fields\":{\"door_id\":258,"
               "\"state\":\"ajar\",\"alarm\":true,\"mode\":\"service\",\"delta\":-1,"
               "\"temp\":-18.5,\"battery\":87}}");
    const unsigned char f2[8] = {0, 7, 0, 0x30, 0x00, 0x32, 50, 0};
    decodes_to(r, "raw/cold-door/d1", f2, 8,
               "{\"type\":\"cold-store-door\",\"device\":\"d1\",\"fields\":{\"door_id\":7,"
               "\"state\":\"closed\",\"alarm\":false,\"mode\":\"auto\",\"delta\":3,"
               "\"temp\":5,\"battery\":50}}");
    /* a code the map does not name: refused, not passed on as a number */
    const unsigned char f3[8] = {0, 7, 9, 0, 0, 0, 50, 0};
    fails_with(r, "raw/cold-door/d1", f3, 8, FG_ERR_RANGE, "value map does not name");
    /* mode 3 is not in its map either */
    const unsigned char f4[8] = {0, 7, 1, 0x06, 0, 0, 50, 0};
    fails_with(r, "raw/cold-door/d1", f4, 8, FG_ERR_RANGE, "field 'mode'");
    sensor_registry_free(r);
}

#define BIN_HEAD "type: b\ntopic: raw/b/{device}\nformat: binary\nfields:\n"

static void test_binary_layout_checks(void **state)
{
    (void)state;
    /* the overlap: battery at offset 6 over temp at 5..6 */
    refused(BIN_HEAD "  temp: { type: number, category: environment, offset: 5, width: 2 }\n"
                     "  battery: { type: integer, category: device-health, offset: 6, width: 1 }\n",
            "d.yaml:6:", "'battery' (bytes 6..6) overlaps field 'temp' (bytes 5..6)");
    /* scale 0.1 on an integer: every message would fail later */
    refused(BIN_HEAD "  temp: { type: integer, category: environment, offset: 0, width: 2, "
                     "scale: 0.1 }\n",
            "d.yaml:5:", "integer but scale 0.1 makes fractions: declare type: number");
    /* an integral scale on an integer is fine */
    sensor_registry_free(one(
        BIN_HEAD "  n: { type: integer, category: machine, offset: 0, width: 2, scale: 10 }\n"));
    refused(BIN_HEAD "  on: { type: boolean, category: machine, offset: 0, width: 1, scale: 2 }\n",
            "'scale' does not apply to boolean field 'on'", NULL);
    /* bit fields sharing bits, or not fitting */
    refused(BIN_HEAD "  a: { type: boolean, category: machine, offset: 0, width: 1, bit: 1 }\n"
                     "  b: { type: integer, category: machine, offset: 0, width: 1, bit: 0, "
                     "bits: 2 }\n",
            "bits 0..1 of field 'b' overlap bits 1..1 of field 'a'", NULL);
    refused(BIN_HEAD "  a: { type: integer, category: machine, offset: 0, width: 1, bit: 6, "
                     "bits: 3 }\n",
            "bit field 'a' (bits 6..8) does not fit its width of 1 bytes", NULL);
    refused(BIN_HEAD "  a: { type: boolean, category: machine, offset: 0, width: 1, bit: 0 }\n"
                     "  b: { type: integer, category: machine, offset: 0, width: 2, bit: 9 }\n",
            "overlaps field 'a'", "same offset, width and endian");
    /* value maps */
    refused(BIN_HEAD "  s: { type: enum, category: machine, offset: 0, width: 1, "
                     "values: [closed, open] }\n",
            "needs a value map of raw codes", NULL);
    /* a value map without a type is an enum */
    struct sensor_registry *r =
        one(BIN_HEAD "  s: { category: machine, offset: 0, width: 1, values: {0: off, 1: on} }\n");
    assert_int_equal(sensor_registry_at(r, 0)->fields[0].type, SENSOR_ENUM);
    sensor_registry_free(r);
    refused(BIN_HEAD "  s: { type: integer, category: machine, offset: 0, width: 1, "
                     "values: {0: closed} }\n",
            "value map makes field 's' an enum", NULL);
    refused(BIN_HEAD "  s: { type: enum, category: machine, offset: 0, width: 1, "
                     "values: {0: closed, 0: open} }\n",
            "names code 0 twice", NULL);
    refused(BIN_HEAD "  s: { type: enum, category: machine, offset: 0, width: 1, "
                     "values: {0: closed, 1: closed} }\n",
            "uses the word 'closed' twice", NULL);
    refused(BIN_HEAD "  s: { type: enum, category: machine, offset: 0, width: 1, "
                     "values: {closed: 0} }\n",
            "keys are the raw codes", NULL);
    refused(BIN_HEAD "  s: { type: enum, category: machine, offset: 0, width: 1, "
                     "values: {0x: closed} }\n",
            "keys are the raw codes", NULL);
    refused(BIN_HEAD "  s: { type: enum, category: machine, offset: 0, width: 1, bits: 1, "
                     "values: {0: a, 2: b} }\n",
            "code 2 does not fit in 1 bits", NULL);
    refused("type: j\ntopic: raw/j/{device}\nformat: json\nfields:\n"
            "  s: { type: enum, category: machine, values: {0: closed} }\n",
            "applies to format: binary", NULL);
    refused(BIN_HEAD "  s: { type: string, category: machine, offset: 0, width: 1 }\n",
            "must be numeric, boolean, timestamp or enum", NULL);
}

/* ---- SenML: RFC 8428 section 5 ---------------------------------------------------- */

/* A descriptor as an integrator writes one for a power meter: voltage (V)
 * and current (A), and the pack's time. No {device} in the topic: the base
 * name is the device. */
#define POWER                                                                                      \
    "type: power-meter\ntopic: raw/power-meter\nformat: senml\nfields:\n"                          \
    "  voltage: { type: number, category: machine, unit: V }\n"                                    \
    "  current: { type: number, category: machine, unit: A }\n"                                    \
    "  ts:      { type: timestamp, category: time }\n"

static int64_t ts_of(void)
{
    const struct sensor_type *t = rec.type;
    int i = sensor_field_index(t, "ts");
    assert_true(i >= 0 && rec.values[i].present);
    return rec.values[i].v.i;
}

/* 5.1.1 Single Datapoint: one temperature in Cel, its name the device's URN. */
static const char rfc_511[] = "[{\"n\":\"urn:dev:ow:10e2073a01080063\",\"u\":\"Cel\",\"v\":23.1}]";
/* 5.1.2 Multiple Datapoints: voltage and current, no time at all. */
static const char rfc_512[] = "[{\"bn\":\"urn:dev:ow:10e2073a01080063:\",\"n\":\"voltage\","
                              "\"u\":\"V\",\"v\":120.1},{\"n\":\"current\",\"u\":\"A\",\"v\":1.2}]";
/* 5.1.3 Multiple Measurements: a time series of current. */
static const char rfc_513[] =
    "[{\"bn\":\"urn:dev:ow:10e2073a0108006:\",\"bt\":1.276020076001e+09,\"bu\":\"A\","
    "\"bver\":5,\"n\":\"voltage\",\"u\":\"V\",\"v\":120.1},"
    "{\"n\":\"current\",\"t\":-5,\"v\":1.2},{\"n\":\"current\",\"t\":-4,\"v\":1.3},"
    "{\"n\":\"current\",\"t\":-3,\"v\":1.4},{\"n\":\"current\",\"t\":-2,\"v\":1.5},"
    "{\"n\":\"current\",\"t\":-1,\"v\":1.6},{\"n\":\"current\",\"v\":1.7}]";
/* 5.1.4 Resolved Data: 5.1.3 with names and times resolved. */
static const char rfc_514[] =
    "[{\"n\":\"urn:dev:ow:10e2073a0108006:voltage\",\"u\":\"V\",\"v\":120.1,"
    "\"t\":1.276020076001e+09},"
    "{\"n\":\"urn:dev:ow:10e2073a0108006:current\",\"u\":\"A\",\"v\":1.2,\"t\":1.276020071001e+09},"
    "{\"n\":\"urn:dev:ow:10e2073a0108006:current\",\"u\":\"A\",\"v\":1.3,\"t\":1.276020072001e+09},"
    "{\"n\":\"urn:dev:ow:10e2073a0108006:current\",\"u\":\"A\",\"v\":1.4,\"t\":1.276020073001e+09},"
    "{\"n\":\"urn:dev:ow:10e2073a0108006:current\",\"u\":\"A\",\"v\":1.5,\"t\":1.276020074001e+09},"
    "{\"n\":\"urn:dev:ow:10e2073a0108006:current\",\"u\":\"A\",\"v\":1.6,\"t\":1.276020075001e+09},"
    "{\"n\":\"urn:dev:ow:10e2073a0108006:current\",\"u\":\"A\",\"v\":1.7,\"t\":1.276020076001e+09}"
    "]";
/* 5.1.5 Multiple Data Types: number, string, boolean and data values. */
static const char rfc_515[] =
    "[{\"bn\":\"urn:dev:ow:10e2073a01080063:\",\"n\":\"temperature\",\"u\":\"Cel\",\"v\":23.1},"
    "{\"n\":\"label\",\"vs\":\"Machine Room\"},{\"n\":\"open\",\"vb\":false},"
    "{\"n\":\"nfc-reader\",\"vd\":\"aGkgCg\"}]";
/* 5.1.6 Collection of Resources: two devices in one pack. */
static const char rfc_516[] =
    "[{\"bn\":\"2001:db8::2/\",\"bt\":1.320078429e+09,\"n\":\"temperature\",\"u\":\"Cel\","
    "\"v\":27.2},{\"n\":\"humidity\",\"u\":\"%RH\",\"v\":80},"
    "{\"bn\":\"2001:db8::1/\",\"n\":\"temperature\",\"u\":\"Cel\",\"v\":12.3},"
    "{\"n\":\"humidity\",\"u\":\"%RH\",\"v\":67}]";
/* 5.1.7 Setting an Actuator: a thermostat's set points. */
static const char rfc_517[] = "[{\"bn\":\"urn:dev:ow:10e2073a01080063:\"},"
                              "{\"n\":\"temp\",\"u\":\"Cel\",\"v\":23.1},"
                              "{\"n\":\"heat\",\"u\":\"/\",\"v\":1},{\"n\":\"fan\",\"u\":\"/\","
                              "\"v\":0}]";

static void test_rfc8428_examples_power_meter(void **state)
{
    (void)state;
    struct sensor_registry *r = one(POWER);
    char why[512];
    /* 5.1.1: a temperature, nothing this type reads: refused, never "{}" */
    fails_with(r, "raw/power-meter", rfc_511, strlen(rfc_511), FG_ERR_MISSING,
               "SenML pack has 1 record(s) and none is named as a field of type power-meter "
               "(it reads: voltage, current, ts)");
    /* 5.1.2: both values; no time in the pack means "now" (RFC 8428 4.5.3) */
    int64_t before = fg_now_ms();
    assert_int_equal(dec(r, "raw/power-meter", rfc_512, strlen(rfc_512), why, sizeof why), FG_OK);
    int64_t after = fg_now_ms();
    assert_string_equal(rec.device, "urn:dev:ow:10e2073a01080063");
    assert_true(rec.values[0].present && rec.values[0].v.num == 120.1);
    assert_true(rec.values[1].present && rec.values[1].v.num == 1.2);
    assert_true(ts_of() >= before - 1 && ts_of() <= after + 1);
    /* 5.1.3: six readings of current at six times: one pack is one record */
    fails_with(r, "raw/power-meter", rfc_513, strlen(rfc_513), FG_ERR_PARSE,
               "SenML pack is a time series: field 'current' has readings at more than one time");
    /* 5.1.4, the same data resolved: the same answer, names resolved */
    fails_with(r, "raw/power-meter", rfc_514, strlen(rfc_514), FG_ERR_PARSE,
               "time series: field 'current'");
    /* 5.1.5, 5.1.7: nothing this type reads */
    fails_with(r, "raw/power-meter", rfc_515, strlen(rfc_515), FG_ERR_MISSING,
               "4 record(s) and none is named");
    fails_with(r, "raw/power-meter", rfc_517, strlen(rfc_517), FG_ERR_MISSING,
               "4 record(s) and none is named");
    /* 5.1.6: two base names are two devices */
    fails_with(r, "raw/power-meter", rfc_516, strlen(rfc_516), FG_ERR_PARSE,
               "more than one base name");
    sensor_registry_free(r);
}

static void test_rfc8428_examples_as_meant(void **state)
{
    (void)state;
    char why[512];
    /* 5.1.1 through a type that reads that record by its full name */
    struct sensor_registry *r =
        one("type: ow-temp\ntopic: raw/ow/{device}\nformat: senml\nfields:\n"
            "  temperature: { type: number, category: environment, unit: Cel,\n"
            "                 senml: 'urn:dev:ow:10e2073a01080063' }\n");
    decodes_to(r, "raw/ow/t1", rfc_511, strlen(rfc_511),
               "{\"type\":\"ow-temp\",\"device\":\"t1\",\"fields\":{\"temperature\":23.1}}");
    sensor_registry_free(r);
    /* 5.1.3 through a type reading voltage only: the series of current is
     * not declared, so never read; the pack's time is bt (the newest record) */
    r = one("type: v\ntopic: raw/v\nformat: senml\nfields:\n"
            "  voltage: { type: number, category: machine, unit: V }\n"
            "  ts:      { type: timestamp, category: time }\n");
    decodes_to(r, "raw/v", rfc_513, strlen(rfc_513),
               "{\"type\":\"v\",\"device\":\"urn:dev:ow:10e2073a0108006\",\"fields\":{"
               "\"voltage\":120.1,\"ts\":\"2010-06-08T18:01:16.001Z\"}}");
    /* 5.1.4 resolved: the device is the part before the last ':' */
    decodes_to(r, "raw/v", rfc_514, strlen(rfc_514),
               "{\"type\":\"v\",\"device\":\"urn:dev:ow:10e2073a0108006\",\"fields\":{"
               "\"voltage\":120.1,\"ts\":\"2010-06-08T18:01:16.001Z\"}}");
    sensor_registry_free(r);
    /* 5.1.5: every data type, the data value kept as its base64 text */
    r = one("type: room\ntopic: raw/room\nformat: senml\nfields:\n"
            "  temperature: { type: number, category: environment, unit: Cel }\n"
            "  label: { type: string, category: zone }\n"
            "  open: { type: boolean, category: machine }\n"
            "  nfc: { type: string, category: device-id, senml: nfc-reader }\n");
    decodes_to(
        r, "raw/room", rfc_515, strlen(rfc_515),
        "{\"type\":\"room\",\"device\":\"urn:dev:ow:10e2073a01080063\",\"fields\":{"
        "\"temperature\":23.1,\"label\":\"Machine Room\",\"open\":false,\"nfc\":\"aGkgCg\"}}");
    sensor_registry_free(r);
    /* 5.1.6 through a type that reads it: still two devices in one pack */
    r = one("type: env\ntopic: raw/env\nformat: senml\nfields:\n"
            "  temperature: { type: number, category: environment, unit: Cel }\n"
            "  humidity: { type: number, category: environment, unit: '%RH' }\n");
    fails_with(r, "raw/env", rfc_516, strlen(rfc_516), FG_ERR_PARSE,
               "SenML pack names more than one base name");
    sensor_registry_free(r);
    /* 5.1.7: the thermostat's three values; a record with only bn is allowed */
    r = one("type: thermostat\ntopic: raw/thermostat\nformat: senml\nfields:\n"
            "  temp: { type: number, category: environment, unit: Cel }\n"
            "  heat: { type: integer, category: machine, unit: '/' }\n"
            "  fan:  { type: integer, category: machine, unit: '/' }\n");
    decodes_to(r, "raw/thermostat", rfc_517, strlen(rfc_517),
               "{\"type\":\"thermostat\",\"device\":\"urn:dev:ow:10e2073a01080063\",\"fields\":{"
               "\"temp\":23.1,\"heat\":1,\"fan\":0}}");
    sensor_registry_free(r);
    (void)why;
}

static void test_senml_times_units_versions(void **state)
{
    (void)state;
    struct sensor_registry *r = one(POWER);
    char why[512];
    /* t relative to now (below 2^28): ten seconds ago */
    const char *rel = "[{\"bn\":\"m1:\",\"n\":\"voltage\",\"u\":\"V\",\"v\":230,\"t\":-10}]";
    int64_t now = fg_now_ms();
    assert_int_equal(dec(r, "raw/power-meter", rel, strlen(rel), why, sizeof why), FG_OK);
    assert_true(llabs(ts_of() - (now - 10000)) < 2000);
    /* bt absolute plus a relative t: absolute */
    const char *abs_t =
        "[{\"bn\":\"m1:\",\"bt\":1795766400,\"n\":\"voltage\",\"u\":\"V\",\"v\":230,\"t\":-1.5}]";
    assert_int_equal(dec(r, "raw/power-meter", abs_t, strlen(abs_t), why, sizeof why), FG_OK);
    assert_int_equal(ts_of(), 1795766398500LL);
    /* unit mismatch names both units */
    const char *mv = "[{\"bn\":\"m1:\",\"n\":\"voltage\",\"u\":\"mV\",\"v\":230000}]";
    fails_with(r, "raw/power-meter", mv, strlen(mv), FG_ERR_TYPE,
               "field 'voltage' arrives in unit 'mV', declared unit 'V'");
    /* base unit applies too */
    const char *bu = "[{\"bn\":\"m1:\",\"bu\":\"kA\",\"n\":\"current\",\"v\":2}]";
    fails_with(r, "raw/power-meter", bu, strlen(bu), FG_ERR_TYPE,
               "arrives in unit 'kA', declared unit 'A'");
    /* a unit with odd characters is not echoed */
    const char *odd = "[{\"bn\":\"m1:\",\"n\":\"current\",\"u\":\"B-1 <x>\",\"v\":2}]";
    fails_with(r, "raw/power-meter", odd, strlen(odd), FG_ERR_TYPE, "not shown");
    /* a future version with features fairgate does not know */
    const char *v11 = "[{\"bn\":\"m1:\",\"bver\":11,\"n\":\"current\",\"u\":\"A\",\"v\":2}]";
    fails_with(r, "raw/power-meter", v11, strlen(v11), FG_ERR_PARSE, "bver 11");
    /* a resolved name of one device, then a base name of another */
    const char *mixed = "[{\"n\":\"m1:voltage\",\"u\":\"V\",\"v\":230},"
                        "{\"bn\":\"m2:\",\"n\":\"current\",\"u\":\"A\",\"v\":2}]";
    fails_with(r, "raw/power-meter", mixed, strlen(mixed), FG_ERR_PARSE, "more than one device");
    /* the same name twice at the same time is not a series */
    const char *twice = "[{\"bn\":\"m1:\",\"n\":\"current\",\"v\":2},{\"n\":\"current\",\"v\":3}]";
    fails_with(r, "raw/power-meter", twice, strlen(twice), FG_ERR_PARSE,
               "field 'current' appears twice");
    sensor_registry_free(r);
}

/* ---- errors that point at the fix ---------------------------------------------------- */

static void test_errors_name_patterns_and_decoders(void **state)
{
    (void)state;
    struct sensor_registry *r = one(POWER);
    fails_with(r, "raw/power/m1", "[]", 2, FG_ERR_UNKNOWN_TOPIC,
               "topic does not match type power-meter's pattern raw/power-meter");
    sensor_registry_free(r);
    /* a JSON message with none of the declared fields never becomes "{}" */
    r = one("type: j\ntopic: raw/j/{device}\nformat: json\nfields:\n"
            "  temp: { type: number, category: environment }\n");
    fails_with(r, "raw/j/1", "{\"other\":1}", 11, FG_ERR_MISSING,
               "message has none of the fields type j declares");
    sensor_registry_free(r);
    /* decoder names: beyond edit distance 1, a prefix, and the list */
    refused("type: c\ntopic: raw/c/{device}\nformat: c\ndecoder: keyvalue\nfields:\n"
            "  a: { type: string, category: machine }\n",
            "unknown decoder 'keyvalue'", "decoders: ");
    refused("type: c\ntopic: raw/c/{device}\nformat: c\ndecoder: kvv\nfields:\n"
            "  a: { type: string, category: machine }\n",
            "did you mean 'kv'", NULL);
    refused("type: c\ntopic: raw/c/{device}\nformat: c\ndecoder: K-V\nfields:\n"
            "  a: { type: string, category: machine }\n",
            "did you mean 'kv'", NULL);
    refused("type: c\ntopic: raw/c/{device}\nformat: c\ndecoder: senmlx\nfields:\n"
            "  a: { type: string, category: machine }\n",
            "did you mean 'senml'", NULL);
}

/* ---- by: [] ---------------------------------------------------------------------------- */

struct count {
    int n;
    char last[512];
};

static fg_err collect(void *ctx, const struct policy_output *o)
{
    struct count *c = ctx;
    c->n++;
    snprintf(c->last, sizeof c->last, "%.*s", (int)o->len, o->payload);
    return FG_OK;
}

static void test_site_wide_aggregate_by_empty(void **state)
{
    (void)state;
    struct sensor_registry *r = one("type: helmet\ntopic: raw/helmet/{device}\nformat: json\n"
                                    "fields:\n  worker: { type: string, category: worker-id }\n"
                                    "  gas: { type: number, category: safety-event }\n"
                                    "  ts: { type: timestamp, category: time }\n");
    const char *pol = "policy: p\nversion: 1\nroutes:\n"
                      "  - name: headcount\n    purpose: site-wide headcount\n"
                      "    from: helmet\n    to: site/{site}/headcount\n"
                      "    aggregate: { window: 15m, by: [], emit: { people: "
                      "count_distinct(worker) }, min_group: 2 }\n";
    struct policy *p = NULL;
    char why[1024] = "";
    if (policy_load_string("p.yaml", pol, strlen(pol), r, "s1", &p, why, sizeof why))
        fail_msg("by: [] refused: %s", why);
    char dir[] = "/tmp/fg-integ.XXXXXX";
    assert_non_null(mkdtemp(dir));
    struct pseudonym_keyring *keys = NULL;
    const int64_t t0 = 1795766400000LL;
    assert_int_equal(pseudonym_keyring_open(dir, policy_rotate_ms(p), policy_keep_keys_ms(p), &keys,
                                            why, sizeof why),
                     FG_OK);
    assert_int_equal(pseudonym_keyring_tick(keys, t0), FG_OK);
    struct count c = {0, ""};
    const char *msgs[] = {"{\"worker\":\"W1\",\"gas\":1}", "{\"worker\":\"W2\",\"gas\":2}",
                          "{\"worker\":\"W3\",\"gas\":1}"};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(dec(r, "raw/helmet/h1", msgs[i], strlen(msgs[i]), why, sizeof why), FG_OK);
        int emitted = 0;
        assert_int_equal(policy_apply(p, keys, &rec, t0 + 1000, collect, &c, &emitted), FG_OK);
    }
    assert_int_equal(policy_tick(p, t0 + 16 * 60000, true, collect, &c), FG_OK);
    assert_int_equal(c.n, 1);
    if (!strstr(c.last, "\"people\":3"))
        fail_msg("site-wide aggregate: %s", c.last);
    policy_free(p);
    /* a per-message route whose fields are all absent from a record sends
     * nothing rather than "{}" */
    const char *pol2 = "policy: p\nversion: 1\nroutes:\n"
                       "  - name: gas\n    purpose: alarms\n    from: helmet\n"
                       "    to: site/{site}/gas\n    fields: { gas: keep }\n";
    p = NULL;
    if (policy_load_string("p.yaml", pol2, strlen(pol2), r, "s1", &p, why, sizeof why))
        fail_msg("%s", why);
    c.n = 0;
    int emitted = 0;
    assert_int_equal(dec(r, "raw/helmet/h1", msgs[0], strlen(msgs[0]), why, sizeof why), FG_OK);
    assert_int_equal(policy_apply(p, keys, &rec, t0 + 2000, collect, &c, &emitted), FG_OK);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.last, "{\"gas\":1}");
    const char *no_gas = "{\"worker\":\"W4\"}";
    assert_int_equal(dec(r, "raw/helmet/h1", no_gas, strlen(no_gas), why, sizeof why), FG_OK);
    assert_int_equal(policy_apply(p, keys, &rec, t0 + 3000, collect, &c, &emitted), FG_OK);
    assert_int_equal(c.n, 1);
    pseudonym_keyring_close(keys);
    policy_free(p);
    sensor_registry_free(r);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_integrator_types),
        cmocka_unit_test(test_binary_value_maps_and_bit_fields),
        cmocka_unit_test(test_binary_layout_checks),
        cmocka_unit_test(test_rfc8428_examples_power_meter),
        cmocka_unit_test(test_rfc8428_examples_as_meant),
        cmocka_unit_test(test_senml_times_units_versions),
        cmocka_unit_test(test_errors_name_patterns_and_decoders),
        cmocka_unit_test(test_site_wide_aggregate_by_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
