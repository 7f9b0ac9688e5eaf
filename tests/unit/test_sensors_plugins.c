/* Decoders built outside fairgate's tree: the test compiles a sample decoder
 * against include/fairgate/sensor_decoder.h with the system compiler (as an
 * integrator would), loads it, decodes through it, and checks the refusals:
 * group- or world-writable file or directory, symbolic link, wrong ABI. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "sensors/sensor.h"

static struct sensor_record rec;
static char work[] = "/tmp/fg-plugin-test.XXXXXX";

static const char *src_dir(void)
{
    const char *s = getenv("FAIRGATE_SOURCE_DIR");
    return s && *s ? s : FAIRGATE_SOURCE_DIR;
}

/* Builds tests/data/decoders/decoder_pipe.c into dir/name with extra flags. */
static void build(const char *dir, const char *name, const char *flags)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "mkdir -p '%s' && chmod 0755 '%s' && %s -shared -fPIC -O1 -Wall -Werror %s "
             "-I'%s/include' -o '%s/%s' '%s/tests/data/decoders/decoder_pipe.c'",
             dir, dir, FAIRGATE_TEST_CC, flags, src_dir(), dir, name, src_dir());
    if (system(cmd) != 0)
        fail_msg("cannot build the sample decoder: %s", cmd);
    snprintf(cmd, sizeof cmd, "%s/%s", dir, name);
    assert_int_equal(chmod(cmd, 0755), 0);
}

static int setup(void **state)
{
    (void)state;
    if (!mkdtemp(work))
        return -1;
    return chmod(work, 0755);
}

static int teardown(void **state)
{
    (void)state;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", work);
    return system(cmd) == 0 ? 0 : -1;
}

#define HELMET                                                                                     \
    "type: helmet\ntopic: raw/helmet/{device}\nformat: c\ndecoder: pipe\nfields:\n"                \
    "  worker: { type: string, category: worker-id }\n"                                            \
    "  gas:    { type: number, category: safety-event, unit: ppm, max: 1000 }\n"                   \
    "  impact: { type: boolean, category: safety-event }\n"                                        \
    "  ts:     { type: timestamp, category: time }\n"

static struct sensor_registry *with_decoders(const char *dir, fg_err want, const char *why_has)
{
    struct sensor_registry *r;
    char why[1024] = "";
    assert_int_equal(sensor_registry_new(&r), FG_OK);
    fg_err e = sensor_registry_load_decoders(r, dir, why, sizeof why);
    if (e != want || (why_has && !strstr(why, why_has)))
        fail_msg("load_decoders(%s): got %s '%s', want %s '%s'", dir, fg_strerror(e), why,
                 fg_strerror(want), why_has ? why_has : "");
    return r;
}

static void test_out_of_tree_decoder_loads_and_decodes(void **state)
{
    (void)state;
    char dir[256], why[1024] = "";
    snprintf(dir, sizeof dir, "%s/ok", work);
    build(dir, "pipe.so", "");
    struct sensor_registry *r = with_decoders(dir, FG_OK, NULL);
    assert_int_equal(sensor_registry_plugin_count(r), 1);
    assert_string_equal(sensor_registry_plugin_at(r, 0)->name, "pipe");
    if (sensor_registry_load_string(r, "helmet.yaml", HELMET, strlen(HELMET), why, sizeof why))
        fail_msg("%s", why);
    const char *msg = "W-1001|412.5|1|1795766400.25";
    fg_err e = sensor_decode(r, "raw/helmet/h7", (const unsigned char *)msg, strlen(msg), &rec, why,
                             sizeof why);
    if (e)
        fail_msg("decode: %s", why);
    char out[2 * SENSOR_ARENA];
    assert_true(sensor_record_to_json(&rec, out, sizeof out));
    assert_string_equal(out, "{\"type\":\"helmet\",\"device\":\"h7\",\"fields\":{\"worker\":"
                             "\"W-1001\",\"gas\":412.5,\"impact\":true,"
                             "\"ts\":\"2026-11-27T08:00:00.250Z\"}}");
    /* the host's checks apply to a plugin's values too */
    msg = "W-1001|4000|0|";
    assert_int_equal(sensor_decode(r, "raw/helmet/h7", (const unsigned char *)msg, strlen(msg),
                                   &rec, why, sizeof why),
                     FG_ERR_RANGE);
    assert_non_null(strstr(why, "field 'gas' outside its declared range"));
    /* the plugin's own reasons pass through */
    msg = "W-1001|lots|0|";
    assert_int_equal(sensor_decode(r, "raw/helmet/h7", (const unsigned char *)msg, strlen(msg),
                                   &rec, why, sizeof why),
                     FG_ERR_TYPE);
    assert_string_equal(why, "a number field is not a number");
    /* `sensors check` exercises it */
    int runs = 0;
    assert_int_equal(
        sensor_decoder_exercise(sensor_registry_find(r, "helmet"), &runs, why, sizeof why), FG_OK);
    assert_true(runs >= 5);
    /* its check() refuses what it cannot honour; names are suggested */
    const char *nested = "type: h2\ntopic: raw/h2/{device}\nformat: c\ndecoder: pipe\nfields:\n"
                         "  a: { type: string, category: machine, path: x.y }\n";
    assert_int_equal(
        sensor_registry_load_string(r, "h2.yaml", nested, strlen(nested), why, sizeof why),
        FG_ERR_CONFIG);
    assert_non_null(strstr(why, "decoder pipe reads flat fields"));
    const char *typo = "type: h3\ntopic: raw/h3/{device}\nformat: c\ndecoder: pype\nfields:\n"
                       "  a: { type: string, category: machine }\n";
    assert_int_equal(sensor_registry_load_string(r, "h3.yaml", typo, strlen(typo), why, sizeof why),
                     FG_ERR_CONFIG);
    assert_non_null(strstr(why, "did you mean 'pipe'"));
    sensor_registry_free(r);
}

static void test_decoder_without_reason_gets_one(void **state)
{
    (void)state;
    char dir[256], why[1024] = "";
    snprintf(dir, sizeof dir, "%s/noreason", work);
    build(dir, "pipe.so", "-DNO_REASON");
    struct sensor_registry *r = with_decoders(dir, FG_OK, NULL);
    assert_int_equal(
        sensor_registry_load_string(r, "h.yaml", HELMET, strlen(HELMET), why, sizeof why), FG_OK);
    const char *msg = "W-1|x|0|";
    assert_int_equal(sensor_decode(r, "raw/helmet/h7", (const unsigned char *)msg, strlen(msg),
                                   &rec, why, sizeof why),
                     FG_ERR_PARSE);
    assert_string_equal(why, "decoder pipe gave no reason");
    sensor_registry_free(r);
}

static void test_refusals(void **state)
{
    (void)state;
    char dir[256], file[320];
    struct sensor_registry *r;
    /* a decoder built against another ABI */
    snprintf(dir, sizeof dir, "%s/abi", work);
    build(dir, "pipe.so", "-DWRONG_ABI");
    r = with_decoders(dir, FG_ERR_CONFIG,
                      "refused: built for decoder ABI 2, this fairgate "
                      "speaks ABI 1");
    assert_int_equal(sensor_registry_plugin_count(r), 0);
    sensor_registry_free(r);
    /* a group-writable decoder file */
    snprintf(dir, sizeof dir, "%s/gw", work);
    build(dir, "pipe.so", "");
    snprintf(file, sizeof file, "%s/pipe.so", dir);
    assert_int_equal(chmod(file, 0775), 0);
    r = with_decoders(dir, FG_ERR_PERM, "the decoder file is writable by its group (mode 0775)");
    assert_int_equal(sensor_registry_plugin_count(r), 0);
    sensor_registry_free(r);
    /* a world-writable directory, the file itself fine */
    assert_int_equal(chmod(file, 0755), 0);
    assert_int_equal(chmod(dir, 0777), 0);
    r = with_decoders(dir, FG_ERR_PERM, "the decoder directory is writable by everyone");
    sensor_registry_free(r);
    assert_int_equal(chmod(dir, 0755), 0);
    r = with_decoders(dir, FG_OK, NULL); /* and fine once fixed */
    sensor_registry_free(r);
    /* a symbolic link to a decoder: what is checked must be what is loaded */
    snprintf(dir, sizeof dir, "%s/link", work);
    assert_int_equal(mkdir(dir, 0755), 0);
    char target[320];
    snprintf(target, sizeof target, "%s/gw/pipe.so", work);
    snprintf(file, sizeof file, "%s/pipe.so", dir);
    assert_int_equal(symlink(target, file), 0);
    r = with_decoders(dir, FG_ERR_IO, "a symbolic link is refused");
    sensor_registry_free(r);
    /* not a directory */
    r = with_decoders("/nonexistent/decoders", FG_ERR_NOT_FOUND, "cannot open decoder directory");
    sensor_registry_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_out_of_tree_decoder_loads_and_decodes),
        cmocka_unit_test(test_decoder_without_reason_gets_one),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
