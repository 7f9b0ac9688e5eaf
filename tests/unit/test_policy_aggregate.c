/* Aggregation: hand-computed windows for every function, min_group, secondary
 * suppression against totals, bounds (overflow, saturation), late records,
 * and the memory for 100k distinct workers. */
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
#define MIN 60000LL

static void badge(struct policy *p, int64_t t, const char *zone, const char *b, double x,
                  struct outs *o)
{
    char json[256];
    snprintf(json, sizeof json,
             "{\"badge\":\"%s\",\"tag\":\"t-%s\",\"x\":%g,\"y\":0,\"zone\":\"%s\"}", b, b, x, zone);
    const struct sensor_record *rec = decode(reg, "test/badge/d", json);
    int n;
    assert_int_equal(policy_apply(p, keys, rec, t, collect, o, &n), FG_OK);
}

static void test_window_functions(void **state)
{
    (void)state;
    struct policy *p = load_ok(
        reg, HEAD "routes:\n  - name: occ\n    purpose: p\n    from: t-badge\n"
                  "    to: s/{site}/{zone}\n    retention: 1d\n"
                  "    aggregate:\n      window: 15m\n      by: [zone]\n      min_group: 3\n"
                  "      emit: { people: count_distinct(badge), n: count(), xs: sum(x), "
                  "xm: mean(x), xmin: min(x), xmax: max(x), p50: p50(x), p90: p90(x), "
                  "p99: p99(x), tags: count_distinct(tag) }\n");
    struct outs o = {0};
    badge(p, T0 + 1 * MIN, "A", "B1", 1, &o);
    badge(p, T0 + 2 * MIN, "A", "B2", 2, &o);
    badge(p, T0 + 3 * MIN, "A", "B1", 4, &o);
    badge(p, T0 + 4 * MIN, "A", "B3", 3, &o);
    badge(p, T0 + 5 * MIN, "B", "B4", 7, &o);
    badge(p, T0 + 6 * MIN, "B", "B5", 7, &o);
    assert_int_equal(o.n, 0); /* nothing leaves before the window closes */
    assert_int_equal(policy_tick(p, T0 + 15 * MIN - 1, false, collect, &o), FG_OK);
    assert_int_equal(o.n, 0);
    assert_int_equal(policy_tick(p, T0 + 15 * MIN, false, collect, &o), FG_OK);
    assert_int_equal(o.n, 1); /* B has 2 workers < min_group 3 */
    assert_string_equal(o.m[0].topic, "s/s1/A");
    assert_string_equal(o.m[0].payload,
                        "{\"window_start\":\"2026-11-27T08:00:00.000Z\","
                        "\"window_end\":\"2026-11-27T08:15:00.000Z\",\"zone\":\"A\","
                        "\"people\":3,\"n\":4,\"xs\":10,\"xm\":2.5,\"xmin\":1,\"xmax\":4,"
                        "\"p50\":2,\"p90\":4,\"p99\":4,\"tags\":3}");
    assert_int_equal(o.m[0].retention_ms, 86400000);
    assert_int_equal(o.m[0].cats, (1u << SENSOR_CAT_LOCATION) | (1u << SENSOR_CAT_ZONE));
    /* a record for the closed window comes too late: not counted anywhere */
    badge(p, T0 + 5 * MIN, "A", "B9", 1, &o);
    /* the next window is closed by the clock of a later record as well */
    badge(p, T0 + 16 * MIN, "C", "B1", 1, &o);
    badge(p, T0 + 17 * MIN, "C", "B2", 1, &o);
    badge(p, T0 + 18 * MIN, "C", "B3", 1, &o);
    badge(p, T0 + 31 * MIN, "C", "B3", 1, &o);
    assert_int_equal(o.n, 2);
    assert_non_null(strstr(o.m[1].payload, "\"window_start\":\"2026-11-27T08:15:00.000Z\""));
    assert_non_null(strstr(o.m[1].payload, "\"zone\":\"C\",\"people\":3,\"n\":3"));
    assert_int_equal(policy_tick(p, T0 + 31 * MIN, true, collect, &o), FG_OK); /* flush */
    assert_int_equal(o.n, 2); /* C in the third window has 1 worker: suppressed */
    struct policy_route_stats st;
    policy_route_stats(p, 0, &st);
    assert_int_equal(st.late, 1);
    assert_int_equal(st.groups_published, 2);
    assert_int_equal(st.groups_suppressed, 2);
    assert_int_equal(policy_agg_memory(p) > 0, 1);
    outs_free(&o);
    policy_free(p);
}

static const char *TOTALS =
    HEAD "routes:\n  - name: occ\n    purpose: p\n    from: t-badge\n    to: s/{zone}\n"
         "    aggregate: { window: 15m, by: [zone], min_group: 2, totals: true, "
         "emit: { people: count_distinct(badge), n: count() } }\n";

static void workers(struct policy *p, const char *zone, int from, int count, struct outs *o)
{
    for (int i = from; i < from + count; i++) {
        char b[32];
        snprintf(b, sizeof b, "W%d", i);
        badge(p, T0 + MIN, zone, b, 0, o);
    }
}

static bool has_topic(const struct outs *o, const char *topic)
{
    for (size_t i = 0; i < o->n; i++)
        if (!strcmp(o->m[i].topic, topic))
            return true;
    return false;
}

static void test_secondary_suppression(void **state)
{
    (void)state;
    struct outs o = {0};
    /* A 5, B 3, C 1: C is below min_group; total - A - B would reveal C, so B goes too */
    struct policy *p = load_ok(reg, TOTALS);
    workers(p, "A", 0, 5, &o);
    workers(p, "B", 10, 3, &o);
    workers(p, "C", 20, 1, &o);
    assert_int_equal(policy_tick(p, T0 + 15 * MIN, false, collect, &o), FG_OK);
    assert_int_equal(o.n, 2);
    assert_true(has_topic(&o, "s/A"));
    assert_true(has_topic(&o, "s/_total"));
    assert_non_null(strstr(o.m[1].payload, "\"total\":true,\"people\":9,\"n\":9"));
    struct policy_route_stats st;
    policy_route_stats(p, 0, &st);
    assert_int_equal(st.groups_suppressed, 1);
    assert_int_equal(st.groups_secondary, 1);
    assert_int_equal(st.totals_published, 1);
    policy_free(p);
    /* two suppressed groups: only their sum is derivable, which min_group allows */
    outs_clear(&o);
    p = load_ok(reg, TOTALS);
    workers(p, "A", 0, 5, &o);
    workers(p, "B", 10, 1, &o);
    workers(p, "C", 20, 1, &o);
    assert_int_equal(policy_tick(p, T0 + 15 * MIN, false, collect, &o), FG_OK);
    assert_int_equal(o.n, 2);
    assert_true(has_topic(&o, "s/A") && has_topic(&o, "s/_total"));
    policy_free(p);
    /* one group hidden and no other group to hide: the total goes */
    outs_clear(&o);
    p = load_ok(reg, TOTALS);
    workers(p, "C", 20, 1, &o);
    workers(p, "D", 30, 1, &o);
    assert_int_equal(policy_tick(p, T0 + 15 * MIN, false, collect, &o), FG_OK);
    assert_int_equal(o.n, 1); /* C and D hidden, the total (2 workers) shows only their sum */
    assert_true(has_topic(&o, "s/_total"));
    policy_free(p);
    outs_clear(&o);
    p = load_ok(reg, TOTALS);
    workers(p, "A", 0, 3, &o);
    workers(p, "C", 20, 1, &o);
    assert_int_equal(policy_tick(p, T0 + 15 * MIN, false, collect, &o), FG_OK);
    /* C hidden -> A hidden too (secondary); the total then reveals only A + C */
    assert_int_equal(o.n, 1);
    assert_true(has_topic(&o, "s/_total"));
    policy_free(p);
    outs_clear(&o);
    p = load_ok(reg, TOTALS);
    workers(p, "C", 20, 1, &o);
    assert_int_equal(policy_tick(p, T0 + 15 * MIN, false, collect, &o), FG_OK);
    assert_int_equal(o.n, 0); /* the total is C itself */
    policy_free(p);
    outs_free(&o);
}

static void test_overflow_bucket(void **state)
{
    (void)state;
    struct outs o = {0};
    struct policy *p = load_ok(
        reg, HEAD "routes:\n  - name: occ\n    purpose: p\n    from: t-badge\n    to: s/{zone}\n"
                  "    aggregate: { window: 15m, by: [zone], min_group: 2, totals: true, "
                  "max_groups: 2, emit: { people: count_distinct(badge) } }\n");
    workers(p, "A", 0, 5, &o);
    workers(p, "B", 10, 4, &o);
    workers(p, "C", 20, 3, &o); /* third group: overflow, never published */
    assert_int_equal(policy_tick(p, T0 + 15 * MIN, false, collect, &o), FG_OK);
    /* overflow is one hidden group, so B (smallest) is hidden as well */
    assert_int_equal(o.n, 2);
    assert_true(has_topic(&o, "s/A") && has_topic(&o, "s/_total"));
    struct policy_route_stats st;
    policy_route_stats(p, 0, &st);
    assert_int_equal(st.overflow_records, 3);
    assert_int_equal(st.groups_secondary, 1);
    policy_free(p);
    outs_free(&o);
}

static void test_distinct_bound_saturates(void **state)
{
    (void)state;
    struct outs o = {0};
    struct policy *p =
        load_ok(reg, HEAD "limits: { max_distinct: 10 }\nroutes:\n  - name: occ\n    purpose: p\n"
                          "    from: t-badge\n    to: s/{zone}\n"
                          "    aggregate: { window: 15m, by: [zone], min_group: 2, "
                          "emit: { people: count_distinct(badge) } }\n");
    workers(p, "A", 0, 4, &o);
    workers(p, "B", 10, 12, &o); /* the set cannot hold 12: B saturates */
    assert_int_equal(policy_tick(p, T0 + 15 * MIN, true, collect, &o), FG_OK);
    assert_int_equal(o.n, 1);
    assert_true(has_topic(&o, "s/A"));
    /* the flushed window's state is gone: what is left is the route's fixed part */
    assert_true(policy_agg_memory(p) < 1024 * 1024);
    policy_free(p);
    outs_free(&o);
}

static void test_machine_groups_and_min_group_by_operator(void **state)
{
    (void)state;
    struct outs o = {0};
    struct policy *p =
        load_ok(reg, HEAD "routes:\n  - name: out\n    purpose: p\n    from: t-machine\n"
                          "    to: m/{machine}/{shift}\n"
                          "    aggregate: { window: 1h, by: [machine, shift], min_group: 2, "
                          "emit: { parts: max(output_count), n: count() } }\n");
    const char *recs[] = {
        "{\"machine\":\"M1\",\"operator\":1,\"state\":\"running\",\"output_count\":5,\"shift\":"
        "\"early\"}",
        "{\"machine\":\"M1\",\"operator\":2,\"state\":\"running\",\"output_count\":9,\"shift\":"
        "\"early\"}",
        "{\"machine\":\"M2\",\"operator\":3,\"state\":\"running\",\"output_count\":4,\"shift\":"
        "\"early\"}",
    };
    for (size_t i = 0; i < 3; i++) {
        const struct sensor_record *rec = decode(reg, "test/machine/x", recs[i]);
        int n;
        assert_int_equal(policy_apply(p, keys, rec, T0, collect, &o, &n), FG_OK);
    }
    assert_int_equal(policy_tick(p, T0, true, collect, &o), FG_OK);
    assert_int_equal(o.n, 1); /* M2 had one operator: that would be their output */
    assert_string_equal(o.m[0].topic, "m/M1/early");
    assert_non_null(
        strstr(o.m[0].payload, "\"machine\":\"M1\",\"shift\":\"early\",\"parts\":9,\"n\":2"));
    assert_null(strstr(o.m[0].payload, "operator"));
    policy_free(p);
    outs_free(&o);
}

/* Design target: state for 100k distinct workers within 64 MiB. */
static void test_memory_100k_workers(void **state)
{
    (void)state;
    struct outs o = {0};
    static char text[8192];
    size_t at = (size_t)snprintf(text, sizeof text, HEAD "site_zones: [");
    for (int z = 0; z < 500; z++)
        at += (size_t)snprintf(text + at, sizeof text - at, "%sZ%03d", z ? ", " : "", z);
    snprintf(text + at, sizeof text - at,
             "]\nlimits: { max_distinct: 1000000 }\nroutes:\n  - name: occ\n    purpose: p\n"
             "    from: t-badge\n    to: s/{zone}\n"
             "    aggregate: { window: 15m, by: [zone], min_group: 5, totals: true, "
             "max_groups: 1000, emit: { people: count_distinct(badge), "
             "tags: count_distinct(tag), p90x: p90(x), n: count() } }\n");
    struct policy *p = load_ok(reg, text);
    size_t peak = 0;
    for (int i = 0; i < 100000; i++) {
        char b[32], zone[16];
        snprintf(b, sizeof b, "W%06d", i);
        snprintf(zone, sizeof zone, "Z%03d", i % 500);
        for (int k = 0; k < 2; k++)
            badge(p, T0 + MIN + k, zone, b, (double)(i % 100), &o);
        if (i % 10000 == 9999 && policy_agg_memory(p) > peak)
            peak = policy_agg_memory(p);
    }
    if (policy_agg_memory(p) > peak)
        peak = policy_agg_memory(p);
    printf("aggregation state for 100000 distinct workers in 500 groups (+ total, 200000 "
           "records): %.1f MiB\n",
           (double)peak / (1024 * 1024));
    assert_true(peak < 64u * 1024 * 1024);
    assert_int_equal(policy_tick(p, T0 + 15 * MIN, false, collect, &o), FG_OK);
    assert_int_equal(o.n, 501);
    assert_non_null(strstr(o.m[500].payload, "\"people\":100000,\"tags\":100000"));
    assert_int_equal(policy_agg_memory(p) < 1024 * 1024, 1); /* windows free their state */
    policy_free(p);
    outs_free(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_window_functions),
        cmocka_unit_test(test_secondary_suppression),
        cmocka_unit_test(test_overflow_bucket),
        cmocka_unit_test(test_distinct_bound_saturates),
        cmocka_unit_test(test_machine_groups_and_min_group_by_operator),
        cmocka_unit_test(test_memory_100k_workers),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
