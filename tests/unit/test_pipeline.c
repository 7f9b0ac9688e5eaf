/* Pipeline through the library API: topic + payload -> decode -> policy ->
 * what would leave the site. Uses the shipped sensor types. */
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
#include "policy/policy.h"
#include "policy/pseudonym.h"
#include "sensors/sensor.h"

#define MAX_OUT 8

struct fixture {
    struct sensor_registry *reg;
    struct policy *pol;
    struct pseudonym_keyring *keys;
    char keydir[64];
    char topics[MAX_OUT][256];
    char payloads[MAX_OUT][1024];
    char routes[MAX_OUT][64];
    int n;
};

static const char *policy_text =
    "policy: test\nversion: 2\nvalid_until: 2099-12-31\n"
    "pseudonyms: { rotate: 24h, keep_keys: 2d }\n"
    "site_zones: [assembly-1, hall]\n"
    "routes:\n"
    "  - name: positions\n    purpose: evacuation\n    from: uwb-badge\n"
    "    to: site/{site}/pos/{zone}\n"
    "    fields: { badge: pseudonymise, zone: keep, x: generalise(5), y: generalise(5),"
    " ts: generalise(1m), battery: drop }\n    retention: 7d\n"
    "  - name: presence\n    purpose: headcount\n    from: uwb-badge\n"
    "    to: site/{site}/presence\n    fields: { badge: pseudonymise }\n"
    "  - name: climate\n    purpose: ventilation\n    from: environment\n"
    "    to: site/{site}/climate\n    fields: { temperature: keep, co2: keep }\n";

static fg_err collect(void *ctx, const struct policy_output *o)
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

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    char why[512], dir[4096];
    const char *src = getenv("FAIRGATE_SOURCE_DIR");
    snprintf(dir, sizeof dir, "%s/sensors/types", src ? src : FAIRGATE_SOURCE_DIR);
    if (sensor_registry_new(&f->reg) || sensor_registry_load_dir(f->reg, dir, why, sizeof why))
        fail_msg("sensor types: %s", why);
    if (policy_load_string("test.yaml", policy_text, strlen(policy_text), f->reg, "plant-1",
                           &f->pol, why, sizeof why))
        fail_msg("policy: %s", why);
    strcpy(f->keydir, "/tmp/fg-keys-XXXXXX");
    assert_non_null(mkdtemp(f->keydir));
    if (pseudonym_keyring_open(f->keydir, 86400000LL, 2 * 86400000LL, &f->keys, why, sizeof why))
        fail_msg("keys: %s", why);
    assert_int_equal(pseudonym_keyring_tick(f->keys, fg_now_ms()), FG_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    pseudonym_keyring_close(f->keys);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->keydir);
    assert_int_equal(system(cmd), 0);
    policy_free(f->pol);
    sensor_registry_free(f->reg);
    free(f);
    return 0;
}

static fg_err run(struct fixture *f, const char *topic, const char *payload)
{
    static struct sensor_record rec;
    char why[256];
    f->n = 0;
    fg_err e = sensor_decode(f->reg, topic, (const unsigned char *)payload, strlen(payload), &rec,
                             why, sizeof why);
    if (e)
        return e;
    int emitted = 0;
    e = policy_apply(f->pol, f->keys, &rec, fg_now_ms(), collect, f, &emitted);
    assert_int_equal(emitted, f->n);
    return e;
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
    static struct sensor_record rec;
    assert_int_equal(sensor_decode(f->reg, "raw/uwb-badge/a", (const unsigned char *)badge_msg,
                                   strlen(badge_msg), &rec, why, sizeof why),
                     FG_OK);
    int emitted = -1;
    f->n = 0;
    assert_int_equal(policy_apply(old, f->keys, &rec, fg_now_ms(), collect, f, &emitted), FG_OK);
    assert_int_equal(emitted, 0);
    assert_int_equal(f->n, 0);
    policy_free(old);
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
        cmocka_unit_test_setup_teardown(expired_policy_forwards_nothing, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
