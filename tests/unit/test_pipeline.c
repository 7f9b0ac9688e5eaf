/* The pipeline core (pipeline/pipeline.h) driven directly: topic + payload ->
 * decode -> policy -> what would leave the site, what must be recorded
 * (pseudonym sightings) and why inputs were rejected. Uses the shipped
 * sensor types; no MQTT, no daemon. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "common/fg_util.h"
#include "pipeline/pipeline.h"
#include "policy/policy.h"
#include "policy/pseudonym.h"
#include "sensors/sensor.h"

#define MAX_OUT 8

struct fixture {
    struct sensor_registry *reg;
    struct pipeline *pl;
    struct pseudonym_keyring *keys;
    fg_err cause; /* of the last rejection */
    int sightings;
    char sighting_route[64], sighting_value[64];
    char keydir[64];
    char topics[MAX_OUT][256];
    char payloads[MAX_OUT][1024];
    char routes[MAX_OUT][64];
    int n;
};

static const char *policy_text =
    "policy: test\nversion: 2\nvalid_until: 2099-12-31\n"
    "pseudonyms: { rotate: 24h, keep_keys: 2d }\n"
    "site_zones: [assembly-1, hall, \"Halle-\xc3\xa4\"]\n"
    "routes:\n"
    "  - name: positions\n    purpose: evacuation\n    from: uwb-badge\n"
    "    to: site/{site}/pos/{zone}\n"
    "    fields: { badge: pseudonymise, zone: keep, x: generalise(5), y: generalise(5),"
    " ts: generalise(1m), battery: drop }\n    retention: 7d\n"
    "  - name: presence\n    purpose: headcount\n    from: uwb-badge\n"
    "    to: site/{site}/presence\n    fields: { badge: pseudonymise }\n"
    "  - name: climate\n    purpose: ventilation\n    from: environment\n"
    "    to: site/{site}/climate\n    fields: { temperature: keep, co2: keep }\n";

static fg_err collect(void *ctx, const struct fg_message *o)
{
    struct fixture *f = ctx;
    if (f->n == MAX_OUT)
        return FG_ERR_FULL;
    snprintf(f->topics[f->n], sizeof f->topics[0], "%s", o->topic);
    snprintf(f->payloads[f->n], sizeof f->payloads[0], "%.*s", (int)o->len, o->payload);
    snprintf(f->routes[f->n], sizeof f->routes[0], "%s", o->route);
    f->n++;
    return FG_OK;
}

static void on_reject(void *ctx, pipeline_reject r, fg_err cause, const char *why)
{
    struct fixture *f = ctx;
    (void)r;
    (void)why;
    f->cause = cause;
}

static void on_pseudonym(void *ctx, int64_t epoch, const char *route, const char *value, size_t len,
                         const char *pseudonym)
{
    struct fixture *f = ctx;
    (void)epoch;
    (void)pseudonym;
    f->sightings++;
    snprintf(f->sighting_route, sizeof f->sighting_route, "%s", route);
    snprintf(f->sighting_value, sizeof f->sighting_value, "%.*s", (int)len, value);
}

static const struct pipeline_observer observer = {
    .emit = collect, .pseudonym = on_pseudonym, .reject = on_reject};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    char why[512], dir[4096];
    const char *src = getenv("FAIRGATE_SOURCE_DIR");
    snprintf(dir, sizeof dir, "%s/sensors/types", src ? src : FAIRGATE_SOURCE_DIR);
    if (sensor_registry_new(&f->reg) || sensor_registry_load_dir(f->reg, dir, why, sizeof why))
        fail_msg("sensor types: %s", why);
    struct policy *pol;
    if (policy_load_string("test.yaml", policy_text, strlen(policy_text), f->reg, "plant-1", &pol,
                           why, sizeof why))
        fail_msg("policy: %s", why);
    strcpy(f->keydir, "/tmp/fg-keys-XXXXXX");
    assert_non_null(mkdtemp(f->keydir));
    if (pseudonym_keyring_open(f->keydir, 86400000LL, 2 * 86400000LL, &f->keys, why, sizeof why))
        fail_msg("keys: %s", why);
    assert_int_equal(pseudonym_keyring_tick(f->keys, fg_now_ms()), FG_OK);
    struct pipeline_options po = {
        .sensors = f->reg, .keys = f->keys, .max_payload = 4096, .obs = &observer, .ctx = f};
    assert_int_equal(pipeline_new(&po, &f->pl), FG_OK);
    assert_int_equal(pipeline_set_policy(f->pl, pol, fg_now_ms()), FG_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    pipeline_free(f->pl);
    pseudonym_keyring_close(f->keys);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->keydir);
    assert_int_equal(system(cmd), 0);
    sensor_registry_free(f->reg);
    free(f);
    return 0;
}

/* FG_OK if the input was processed, else the cause of its rejection. */
static fg_err run(struct fixture *f, const char *topic, const char *payload)
{
    f->n = 0;
    f->cause = FG_OK;
    pipeline_reject rej;
    int emitted = -1;
    assert_int_equal(
        pipeline_input(f->pl, topic, payload, strlen(payload), fg_now_ms(), &rej, &emitted), FG_OK);
    assert_int_equal(emitted, f->n);
    if (rej == PIPE_REJ_NONE)
        assert_int_equal(f->cause, FG_OK);
    return rej == PIPE_REJ_NONE ? FG_OK : f->cause;
}

static const char *badge_msg =
    "{\"badge\":\"B-10042\",\"tag\":\"d4:3f:01:02:03:04\",\"x\":12.6,\"y\":47.4,"
    "\"zone\":\"assembly-1\",\"battery\":81,\"ts\":\"2026-11-23T08:17:42.250Z\","
    "\"holder\":\"Anna de Vries\",\"rssi\":-61}";

static void badge_is_minimised(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(run(f, "raw/uwb-badge/d4:3f:01:02:03:04", badge_msg), FG_OK);
    assert_int_equal(f->n, 2);
    assert_string_equal(f->topics[0], "site/plant-1/pos/assembly-1");
    cJSON *o = cJSON_Parse(f->payloads[0]);
    assert_non_null(o);
    /* exactly the named fields, transformed */
    assert_int_equal(cJSON_GetArraySize(o), 5);
    const char *ps = cJSON_GetObjectItem(o, "badge")->valuestring;
    assert_int_equal(strlen(ps), PSEUDONYM_HEX_LEN);
    assert_true(cJSON_GetObjectItem(o, "x")->valuedouble == 15);
    assert_true(cJSON_GetObjectItem(o, "y")->valuedouble == 45);
    assert_string_equal(cJSON_GetObjectItem(o, "ts")->valuestring, "2026-11-23T08:17:00.000Z");
    assert_string_equal(cJSON_GetObjectItem(o, "zone")->valuestring, "assembly-1");
    for (int i = 0; i < f->n; i++) {
        /* undeclared (holder, rssi), unnamed (tag) and dropped (battery) never leave */
        static const char *const never[] = {"B-10042", "Anna",   "d4:3f", "rssi",
                                            "battery", "holder", "tag"};
        for (size_t k = 0; k < sizeof never / sizeof *never; k++)
            if (strstr(f->payloads[i], never[k]) || strstr(f->topics[i], never[k]))
                fail_msg("'%s' left the site in %s", never[k], f->payloads[i]);
    }
    cJSON_Delete(o);
}

static void pseudonyms_stable_per_route_and_differ_across(void **state)
{
    struct fixture *f = *state;
    char first[2][1024];
    assert_int_equal(run(f, "raw/uwb-badge/a", badge_msg), FG_OK);
    memcpy(first, f->payloads, sizeof first);
    assert_int_equal(run(f, "raw/uwb-badge/a", badge_msg), FG_OK);
    assert_string_equal(first[0], f->payloads[0]); /* same worker, same epoch, same route */
    cJSON *a = cJSON_Parse(f->payloads[0]), *b = cJSON_Parse(f->payloads[1]);
    assert_string_not_equal(cJSON_GetObjectItem(a, "badge")->valuestring,
                            cJSON_GetObjectItem(b, "badge")->valuestring); /* other route */
    cJSON_Delete(a);
    cJSON_Delete(b);
    const char *other = "{\"badge\":\"B-10043\",\"x\":1,\"y\":1,\"zone\":\"z\"}";
    assert_int_equal(run(f, "raw/uwb-badge/a", other), FG_OK);
    assert_string_not_equal(first[1], f->payloads[1]); /* other worker */
}

static void environment_keeps_only_named(void **state)
{
    struct fixture *f = *state;
    const char *env = "{\"temperature\":21.5,\"humidity\":40,\"co2\":612,\"zone\":\"hall\","
                      "\"fw\":\"3.2.1\"}";
    assert_int_equal(run(f, "raw/environment/env-01", env), FG_OK);
    assert_int_equal(f->n, 1);
    assert_string_equal(f->payloads[0], "{\"temperature\":21.5,\"co2\":612}");
    assert_string_equal(f->routes[0], "climate");
}

static void bad_inputs_give_errors_and_no_output(void **state)
{
    struct fixture *f = *state;
    static const struct {
        const char *topic, *payload;
        fg_err want;
    } cases[] = {
        {"raw/uwb-badge/a", "{\"badge\":\"B-1\",\"x\":", FG_ERR_PARSE},
        {"raw/uwb-badge/a", "[1,2,3]", FG_ERR_PARSE},
        {"raw/uwb-badge/a", "{\"badge\":\"B-1\"} trailing", FG_ERR_PARSE},
        {"raw/uwb-badge/a", "{\"badge\":42}", FG_ERR_TYPE},
        {"raw/uwb-badge/a", "{\"badge\":\"B-1\",\"x\":\"far\"}", FG_ERR_TYPE},
        {"raw/uwb-badge/a", "{\"badge\":\"B-1\",\"x\":1e999}", FG_ERR_RANGE},
        {"raw/uwb-badge/a", "{\"badge\":\"B-1\",\"x\":99999}", FG_ERR_RANGE},
        {"raw/uwb-badge/a", "{\"badge\":\"B-1\",\"battery\":101}", FG_ERR_RANGE},
        {"raw/uwb-badge/a", "{\"badge\":\"B-1\",\"ts\":\"yesterday\"}", FG_ERR_TYPE},
        {"raw/uwb-badge/a", "{\"badge\":\"B-1\",\"badge\":\"B-2\"}", FG_ERR_PARSE},
        {"raw/uwb-badge/a", "{\"badge\":\"\xff\xfe\"}", FG_ERR_PARSE},
        {"raw/uwb-badge/a", "{\"x\":1}", FG_ERR_MISSING},
        {"raw/uwb-badge/a", "{\"badge\":{\"id\":\"B-1\"}}", FG_ERR_TYPE},
        {"raw/unknown/a", "{\"badge\":\"B-1\"}", FG_ERR_UNKNOWN_TOPIC},
        {"raw/uwb-badge", "{\"badge\":\"B-1\"}", FG_ERR_UNKNOWN_TOPIC},
        {"raw/uwb-badge/a/b", "{\"badge\":\"B-1\"}", FG_ERR_UNKNOWN_TOPIC},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fg_err e = run(f, cases[i].topic, cases[i].payload);
        if (e != cases[i].want)
            fail_msg("case %zu: got %s, want %s", i, fg_strerror(e), fg_strerror(cases[i].want));
        assert_int_equal(f->n, 0);
    }
}

static void topic_values_cannot_inject_levels_or_wildcards(void **state)
{
    struct fixture *f = *state;
    /* not one of the site's zones: it leaves as `other`, in the topic too */
    const char *evil = "{\"badge\":\"B-1\",\"zone\":\"a/b/#/+\"}";
    assert_int_equal(run(f, "raw/uwb-badge/a", evil), FG_OK);
    assert_string_equal(f->topics[0], "site/plant-1/pos/other");
    assert_non_null(strstr(f->payloads[0], "\"zone\":\"other\""));
}

/* Issue 16: a zone with DEL, a C1 control or a non-character would make the
 * broker drop the connection. Such a value is no site zone, so it leaves as
 * `other` (issue 15); a listed zone with ordinary non-ASCII letters passes
 * unchanged. (Other topic values are made valid by the same cleaner: '_'.) */
static void topic_values_are_valid_mqtt_utf8(void **state)
{
    struct fixture *f = *state;
    static const struct {
        const char *zone, *want;
    } cases[] = {
        {"a\\u007fb", "site/plant-1/pos/other"},
        {"a\\u0085b", "site/plant-1/pos/other"},
        {"a\\u009fb", "site/plant-1/pos/other"},
        {"a\\uffffb", "site/plant-1/pos/other"},
        {"a\\ufdd0b", "site/plant-1/pos/other"},
        {"a\\nb", "site/plant-1/pos/other"},
        {"Halle-\xc3\xa4", "site/plant-1/pos/Halle-\xc3\xa4"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char msg[256];
        snprintf(msg, sizeof msg, "{\"badge\":\"W-2\",\"zone\":\"%s\"}", cases[i].zone);
        assert_int_equal(run(f, "raw/uwb-badge/a", msg), FG_OK);
        assert_int_equal(f->n, 2);
        if (strcmp(f->topics[0], cases[i].want))
            fail_msg("case %zu: topic %s, want %s", i, f->topics[0], cases[i].want);
    }
}

/* Issue 16: a purpose or name with a line break would travel as a user
 * property and make the broker drop the link: refused at load (and so by
 * `policy check` and the gateway). */
static void policy_text_with_controls_is_refused(void **state)
{
    struct fixture *f = *state;
    static const char *const bad[] = {
        "policy: p\nversion: 1\nroutes:\n  - name: r\n    purpose: \"line\\nbreak\"\n"
        "    from: uwb-badge\n    to: t\n    fields: { zone: keep }\n",
        "policy: p\nversion: 1\nroutes:\n  - name: \"r\\u0085\"\n    purpose: x\n"
        "    from: uwb-badge\n    to: t\n    fields: { zone: keep }\n",
        "policy: p\nversion: 1\ndescription: \"a\\tb\"\nroutes:\n  - name: r\n    purpose: x\n"
        "    from: uwb-badge\n    to: t\n    fields: { zone: keep }\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char why[512] = "";
        struct policy *p = NULL;
        assert_int_equal(policy_load_string("bad.yaml", bad[i], strlen(bad[i]), f->reg, "s", &p,
                                            why, sizeof why),
                         FG_ERR_CONFIG);
        assert_non_null(strstr(why, "control character"));
    }
}

static void expired_policy_forwards_nothing(void **state)
{
    struct fixture *f = *state;
    char why[256];
    struct policy *old;
    const char *text = "policy: pilot\nversion: 1\nvalid_until: 2020-01-31\n"
                       "site_zones: [hall]\nroutes:\n"
                       "  - name: p\n    purpose: pilot\n    from: uwb-badge\n    to: t\n"
                       "    fields: { zone: keep }\n";
    assert_int_equal(
        policy_load_string("pilot.yaml", text, strlen(text), f->reg, "s", &old, why, sizeof why),
        FG_OK);
    assert_true(policy_expired(old, fg_now_ms()));
    assert_int_equal(pipeline_set_policy(f->pl, old, fg_now_ms()), FG_OK);
    assert_int_equal(run(f, "raw/uwb-badge/a", badge_msg), FG_OK);
    assert_int_equal(f->n, 0);
}

/* Every rejection is counted by reason, in the pipeline, and each input
 * counts once; nothing is emitted for a rejected input. */
static void rejections_are_counted_by_reason(void **state)
{
    struct fixture *f = *state;
    const struct pipeline_counters *c = pipeline_counters(f->pl);
    assert_int_equal(run(f, "raw/uwb-badge/a", "{\"badge\":42}"), FG_ERR_TYPE);
    assert_int_equal(run(f, "raw/nothing/a", "{}"), FG_ERR_UNKNOWN_TOPIC);
    assert_int_equal(run(f, "raw/uwb-badge/a", "{\"x\":1}"), FG_ERR_MISSING);
    char big[5000];
    memset(big, ' ', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(run(f, "raw/uwb-badge/a", big), FG_ERR_TOO_BIG); /* over max_payload */
    /* a sensor type no route reads */
    assert_int_equal(run(f, "raw/dock-door/d1",
                         "\x01\x01\x01\x02"
                         "ABCD"),
                     FG_ERR_DENIED);
    assert_int_equal(atomic_load(&c->rejected[PIPE_REJ_WRONG_TYPE]), 1);
    assert_int_equal(atomic_load(&c->rejected[PIPE_REJ_UNKNOWN_TOPIC]), 1);
    assert_int_equal(atomic_load(&c->rejected[PIPE_REJ_MISSING_FIELD]), 1);
    assert_int_equal(atomic_load(&c->rejected[PIPE_REJ_OVERSIZE]), 1);
    assert_int_equal(atomic_load(&c->rejected[PIPE_REJ_NO_ROUTE]), 1);
    assert_int_equal(atomic_load(&c->in), 5);
    assert_int_equal(atomic_load(&c->emitted), 0);
    assert_string_equal(pipeline_reject_name(PIPE_REJ_NO_ROUTE), "no route for sensor type");
    /* without a policy nothing leaves, and that is counted too */
    assert_int_equal(pipeline_set_policy(f->pl, NULL, fg_now_ms()), FG_OK);
    assert_int_equal(run(f, "raw/uwb-badge/a", badge_msg), FG_ERR_DENIED);
    assert_int_equal(atomic_load(&c->rejected[PIPE_REJ_NO_POLICY]), 1);
}

/* What must be recorded is reported, not written: the observer gets the
 * identifier behind each pseudonym (for the sealed re-identification table),
 * per route, and the emitted count matches what was handed over. */
static void pseudonym_sightings_go_to_the_observer(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(run(f, "raw/uwb-badge/a", badge_msg), FG_OK);
    assert_int_equal(f->n, 2);
    assert_int_equal(f->sightings, 2); /* one per pseudonymising route */
    assert_string_equal(f->sighting_value, "B-10042");
    assert_string_equal(f->sighting_route, "presence");
    assert_int_equal(atomic_load(&pipeline_counters(f->pl)->emitted), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(badge_is_minimised, setup, teardown),
        cmocka_unit_test_setup_teardown(pseudonyms_stable_per_route_and_differ_across, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(environment_keeps_only_named, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_inputs_give_errors_and_no_output, setup, teardown),
        cmocka_unit_test_setup_teardown(topic_values_cannot_inject_levels_or_wildcards, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(topic_values_are_valid_mqtt_utf8, setup, teardown),
        cmocka_unit_test_setup_teardown(policy_text_with_controls_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(expired_policy_forwards_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(rejections_are_counted_by_reason, setup, teardown),
        cmocka_unit_test_setup_teardown(pseudonym_sightings_go_to_the_observer, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
