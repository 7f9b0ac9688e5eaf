/* Per-message routes: each field action, conditions, zones, grids, fail closed. */
#include "test_policy_util.h"

static struct sensor_registry *reg;
static struct pseudonym_keyring *keys;
static char keydir[256];

static int setup(void **state)
{
    (void)state;
    reg = test_registry();
    keys = test_keys(keydir, sizeof keydir, 86400000, 30 * 86400000LL, T0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    pseudonym_keyring_close(keys);
    rm_dir(keydir);
    sensor_registry_free(reg);
    return 0;
}

#define HEAD "policy: t\nversion: 1\n"

static void run(struct policy *p, const char *topic, const char *json, struct outs *o)
{
    int n = -1;
    const struct sensor_record *rec = decode(reg, topic, json);
    assert_int_equal(policy_apply(p, keys, rec, T0, collect, o, &n), FG_OK);
}

static void test_keep_drop_and_unnamed(void **state)
{
    (void)state;
    struct policy *p = load_ok(reg, HEAD "routes:\n  - name: a\n    purpose: p\n"
                                         "    from: t-badge\n    to: s/{site}/{zone}\n"
                                         "    fields: { zone: keep, battery: drop }\n"
                                         "    retention: 7d\n");
    struct outs o = {0};
    run(p, "test/badge/d1",
        "{\"badge\":\"B-1\",\"tag\":\"aa\",\"x\":1.5,\"y\":2,\"zone\":\"hall\",\"battery\":80,"
        "\"ts\":\"2026-11-27T08:00:01Z\"}",
        &o);
    assert_int_equal(o.n, 1);
    assert_string_equal(o.m[0].topic, "s/s1/hall");
    assert_string_equal(o.m[0].payload, "{\"zone\":\"hall\"}"); /* nothing unnamed leaves */
    assert_int_equal(o.m[0].cats, 1u << SENSOR_CAT_ZONE);
    assert_int_equal(o.m[0].retention_ms, 7 * 86400000LL);
    outs_free(&o);
    policy_free(p);
}

static void test_pseudonymise(void **state)
{
    (void)state;
    struct policy *p = load_ok(reg, HEAD "routes:\n  - name: a\n    purpose: p\n"
                                         "    from: t-badge\n    to: s\n"
                                         "    fields: { badge: pseudonymise }\n"
                                         "  - name: b\n    purpose: p\n"
                                         "    from: t-badge\n    to: s\n"
                                         "    fields: { badge: pseudonymise }\n");
    struct outs o = {0};
    run(p, "test/badge/d1", "{\"badge\":\"B-1\"}", &o);
    run(p, "test/badge/d1", "{\"badge\":\"B-1\"}", &o);
    run(p, "test/badge/d1", "{\"badge\":\"B-2\"}", &o);
    assert_int_equal(o.n, 6);
    assert_null(strstr(o.m[0].payload, "B-1"));
    assert_int_equal(strlen(o.m[0].payload), strlen("{\"badge\":\"\"}") + PSEUDONYM_HEX_LEN);
    assert_string_equal(o.m[0].payload, o.m[2].payload);     /* stable in the epoch and route */
    assert_string_not_equal(o.m[0].payload, o.m[1].payload); /* other route, other pseudonym */
    assert_string_not_equal(o.m[0].payload, o.m[4].payload); /* other worker */
    outs_free(&o);
    policy_free(p);
}

static void test_generalise_number_and_time(void **state)
{
    (void)state;
    struct policy *p = load_ok(reg, HEAD "routes:\n  - name: a\n    purpose: p\n"
                                         "    from: t-badge\n    to: s\n"
                                         "    fields: { x: generalise(5), y: generalise(0.1), "
                                         "battery: generalise(25), ts: generalise(15m) }\n");
    struct outs o = {0};
    run(p, "test/badge/d1",
        "{\"badge\":\"B\",\"x\":12.6,\"y\":0.26,\"battery\":62,\"ts\":\"2026-11-27T08:29:59Z\"}",
        &o);
    assert_int_equal(o.n, 1);
    assert_string_equal(o.m[0].payload, "{\"x\":15,\"y\":0.3,\"battery\":50,"
                                        "\"ts\":\"2026-11-27T08:15:00.000Z\"}");
    outs_free(&o);
    policy_free(p);
}

static void test_generalise_zone(void **state)
{
    (void)state;
    struct policy *p = load_ok(reg, HEAD "zones:\n  hall: { rect: [0, 0, 10, 10] }\n"
                                         "  tri: { polygon: [[20, 0], [30, 0], [20, 10]] }\n"
                                         "routes:\n  - name: a\n    purpose: p\n    from: t-badge\n"
                                         "    to: s/{x}\n    fields: { x: generalise(zone) }\n");
    struct outs o = {0};
    run(p, "test/badge/d1", "{\"badge\":\"B\",\"x\":5,\"y\":5}", &o);
    run(p, "test/badge/d1", "{\"badge\":\"B\",\"x\":21,\"y\":1}", &o);
    run(p, "test/badge/d1", "{\"badge\":\"B\",\"x\":29,\"y\":9}", &o); /* outside the triangle */
    run(p, "test/badge/d1", "{\"badge\":\"B\",\"x\":5}", &o);          /* no y: x cannot leave, */
    assert_int_equal(o.n, 3); /* and an empty message never leaves (issue 21) */
    assert_string_equal(o.m[0].payload, "{\"x\":\"hall\"}");
    assert_string_equal(o.m[0].topic, "s/hall");
    assert_string_equal(o.m[1].payload, "{\"x\":\"tri\"}");
    assert_string_equal(o.m[2].payload, "{\"x\":\"outside\"}");
    assert_int_equal(o.m[0].cats, 1u << SENSOR_CAT_ZONE); /* a zone, no longer a location */
    outs_free(&o);
    policy_free(p);
}

static void test_generalise_grid(void **state)
{
    (void)state;
    struct policy *p = load_ok(reg, HEAD "routes:\n  - name: a\n    purpose: p\n"
                                         "    from: t-gps\n    to: s\n"
                                         "    fields: { lat: generalise(grid 1km), "
                                         "lon: generalise(grid 1km) }\n");
    struct outs o = {0};
    run(p, "test/gps/v", "{\"vehicle\":\"V\",\"lat\":52.0001,\"lon\":4.0001}", &o);
    run(p, "test/gps/v", "{\"vehicle\":\"V\",\"lat\":52.0020,\"lon\":4.0020}", &o);
    assert_int_equal(o.n, 2);
    /* both points lie in the same 1 km cell: the same output, the cell centre */
    assert_string_equal(o.m[0].payload, o.m[1].payload);
    double lat, lon;
    assert_int_equal(sscanf(o.m[0].payload, "{\"lat\":%lf,\"lon\":%lf}", &lat, &lon), 2);
    double cell_lat = 1000 / 111320.0;
    assert_true(fabs(lat - 52.0001) < cell_lat);
    assert_true(fabs(lat - (floor(52.0001 / cell_lat) + 0.5) * cell_lat) < 1e-6);
    assert_true(fabs(lon - 4.0001) < 1000 / (111320.0 * cos(52 * M_PI / 180)));
    outs_free(&o);
    policy_free(p);
}

static void test_when(void **state)
{
    (void)state;
    struct policy *p = load_ok(reg, HEAD "routes:\n  - name: a\n    purpose: p\n"
                                         "    from: t-vitals\n    to: s\n"
                                         "    when: man_down == true and not (zone == 'office' or "
                                         "zone == \"canteen\")\n"
                                         "    fields: { zone: keep }\n");
    struct outs o = {0};
    run(p, "test/vitals/w", "{\"badge\":\"B\",\"man_down\":true,\"zone\":\"hall\"}", &o);
    run(p, "test/vitals/w", "{\"badge\":\"B\",\"man_down\":false,\"zone\":\"hall\"}", &o);
    run(p, "test/vitals/w", "{\"badge\":\"B\",\"man_down\":true,\"zone\":\"office\"}", &o);
    run(p, "test/vitals/w", "{\"badge\":\"B\",\"man_down\":true,\"zone\":\"canteen\"}", &o);
    run(p, "test/vitals/w", "{\"badge\":\"B\",\"zone\":\"hall\"}", &o); /* absent: not true */
    assert_int_equal(o.n, 1);
    assert_string_equal(o.m[0].payload, "{\"zone\":\"hall\"}");
    policy_free(p);
    /* every comparison operator on numbers, integers, enums and times */
    static const struct {
        const char *when;
        int expect; /* of the record below: output_count 10, cycle_time 2.5, state fault */
    } cases[] = {
        {"output_count == 10", 1},
        {"output_count != 10", 0},
        {"output_count < 10", 0},
        {"output_count <= 10", 1},
        {"output_count > 9.5", 1},
        {"output_count >= 11", 0},
        {"cycle_time < 2.6", 1},
        {"cycle_time > -1", 1},
        {"state == fault", 1},
        {"state != fault", 0},
        {"not state == fault", 0},
        {"ts >= '2026-11-27T08:00:00Z'", 1},
        {"ts < '2026-11-27T08:00:00+01:00'", 0},
        {"state == idle or cycle_time > 2 and output_count == 10", 1},
        {"(state == idle or cycle_time > 2) and output_count == 9", 0},
        /* absent field: unknown, and a route fires only on true (fail closed) */
        {"shift == early", 0},
        {"not shift == early", 0},
        {"not (shift == early)", 0},
        {"shift != early", 0},
        {"not (shift == early and state == idle)", 1}, /* unknown and false is false */
        {"shift == early or state == fault", 1},       /* unknown or true is true */
        {"shift == early or state == idle", 0},
        {"not (shift == early or state == idle)", 0},
        {"exists(shift)", 0},
        {"not exists(shift)", 1},
        {"exists(state) and not exists( shift )", 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[1024];
        snprintf(text, sizeof text,
                 HEAD "routes:\n  - name: a\n    purpose: p\n    from: t-machine\n    to: s\n"
                      "    when: \"%s\"\n    fields: { state: keep }\n",
                 cases[i].when);
        p = load_ok(reg, text);
        outs_clear(&o);
        run(p, "test/machine/m",
            "{\"machine\":\"M1\",\"output_count\":10,\"cycle_time\":2.5,\"state\":\"fault\","
            "\"ts\":\"2026-11-27T08:00:00Z\"}",
            &o);
        if ((int)o.n != cases[i].expect)
            fprintf(stderr, "when: %s -> %zu\n", cases[i].when, o.n);
        assert_int_equal((int)o.n, cases[i].expect);
        policy_free(p);
    }
    outs_free(&o);
}

static void test_expired_forwards_nothing(void **state)
{
    (void)state;
    struct policy *p = load_ok(reg, HEAD "valid_until: 2026-11-26\nroutes:\n  - name: a\n"
                                         "    purpose: p\n    from: t-badge\n    to: s\n"
                                         "    fields: { zone: keep }\n");
    struct outs o = {0};
    assert_true(policy_expired(p, T0));
    run(p, "test/badge/d1", "{\"badge\":\"B\",\"zone\":\"hall\"}", &o);
    assert_int_equal(o.n, 0);
    outs_free(&o);
    policy_free(p);
}

static void test_topic_values_cannot_add_levels(void **state)
{
    (void)state;
    /* even a zone name the site itself lists cannot add levels */
    struct policy *p = load_ok(reg, HEAD "site_zones: ['a/#/+']\n"
                                         "routes:\n  - name: a\n    purpose: p\n"
                                         "    from: t-badge\n    to: s/{zone}/x\n"
                                         "    fields: { zone: keep }\n");
    struct outs o = {0};
    run(p, "test/badge/d1", "{\"badge\":\"B\",\"zone\":\"a/#/+\"}", &o);
    assert_int_equal(o.n, 1);
    assert_string_equal(o.m[0].topic, "s/a____/x");
    /* a value the site does not list leaves as `other`, counted */
    run(p, "test/badge/d1", "{\"badge\":\"B\",\"zone\":\"WK584024-Rasku\"}", &o);
    assert_int_equal(o.n, 2);
    assert_string_equal(o.m[1].topic, "s/other/x");
    assert_string_equal(o.m[1].payload, "{\"zone\":\"other\"}");
    struct policy_route_stats st;
    policy_route_stats(p, 0, &st);
    assert_int_equal(st.zones_other, 1);
    outs_free(&o);
    policy_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keep_drop_and_unnamed),
        cmocka_unit_test(test_pseudonymise),
        cmocka_unit_test(test_generalise_number_and_time),
        cmocka_unit_test(test_generalise_zone),
        cmocka_unit_test(test_generalise_grid),
        cmocka_unit_test(test_when),
        cmocka_unit_test(test_expired_forwards_nothing),
        cmocka_unit_test(test_topic_values_cannot_add_levels),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
