/* Policy files: what loads, and every mistake as an error with file:line:col. */
#include "test_policy_util.h"

static struct sensor_registry *reg;

static int setup(void **state)
{
    (void)state;
    reg = test_registry();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sensor_registry_free(reg);
    return 0;
}

#define HEAD "policy: t\nversion: 1\nroutes:\n"

/* Expects the policy to be refused with `where` (file:line:col) and `what` in the reason. */
static void refused(const char *text, const char *where, const char *what)
{
    char why[1024];
    struct policy *p = load_text(reg, text, why, sizeof why);
    if (p || !strstr(why, where) || !strstr(why, what))
        fprintf(stderr, "expected '%s' ... '%s', got: %s\n", where, what, p ? "(loaded)" : why);
    assert_null(p);
    assert_non_null(strstr(why, where));
    assert_non_null(strstr(why, what));
}

static void test_full_policy_loads(void **state)
{
    (void)state;
    char path[1024], why[1024];
    snprintf(path, sizeof path, "%s/tests/data/policy/full.yaml", src_dir());
    struct policy *p = NULL;
    fg_err e = policy_load_file(path, reg, "s1", &p, why, sizeof why);
    if (e)
        fprintf(stderr, "%s\n", why);
    assert_int_equal(e, FG_OK);
    assert_string_equal(policy_name(p), "test-full");
    assert_int_equal(policy_version(p), 2);
    assert_int_equal(policy_route_count(p), 5);
    assert_false(policy_names_health(p)); /* heart_rate is never named */
    assert_int_equal(policy_rotate_ms(p), 86400000);
    assert_true(policy_expired(p, 1830297600000LL)); /* 2028-01-01 */
    assert_false(policy_expired(p, T0));
    policy_free(p);
}

static void test_health_names(void **state)
{
    (void)state;
    struct policy *p = load_ok(reg, HEAD "  - name: hr\n    purpose: study\n    from: t-vitals\n"
                                         "    to: a/b\n    aggregate: { window: 1h, by: [zone], "
                                         "emit: { m: mean(heart_rate) }, min_group: 10 }\n");
    assert_true(policy_names_health(p));
    policy_free(p);
    /* a message sent only when the heart rate is above 180 tells the heart rate */
    refused(HEAD "  - name: hot\n    purpose: alarm\n    from: t-vitals\n"
                 "    when: heart_rate > 180\n    to: a/b\n    fields: { zone: keep }\n",
            "test.yaml:7:11", "conditions on health data are refused");
    p = load_ok(reg, HEAD "  - name: md\n    purpose: alarm\n    from: t-vitals\n"
                          "    to: a/b\n    fields: { zone: keep, heart_rate: drop }\n");
    assert_false(policy_names_health(p));
    policy_free(p);
}

/* batch: { max_records, max_delay } reaches every output of the route (the
 * gateway's sender batches on it); mistakes are refused with their position. */
static fg_err keep_batch(void *ctx, const struct policy_output *o)
{
    struct policy_output *seen = ctx;
    seen->batch_max = o->batch_max;
    seen->batch_delay_ms = o->batch_delay_ms;
    return FG_OK;
}

static void test_batch_key(void **state)
{
    (void)state;
    struct policy *p = load_ok(reg, HEAD "  - name: a\n    purpose: p\n    from: t-badge\n"
                                         "    to: x\n    fields: { zone: keep }\n"
                                         "    batch: { max_records: 50, max_delay: 200ms }\n");
    char why[256] = "";
    const struct sensor_record *rec =
        decode(reg, "test/badge/d1",
               "{\"badge\":\"B-1\",\"zone\":\"hall\",\"ts\":\"2026-11-27T08:00:01Z\"}");
    (void)why;
    struct policy_output seen = {0};
    int n = 0;
    assert_int_equal(policy_apply(p, NULL, rec, T0, keep_batch, &seen, &n), FG_OK);
    assert_int_equal(n, 1);
    assert_int_equal(seen.batch_max, 50);
    assert_int_equal(seen.batch_delay_ms, 200);
    policy_free(p);
#define ROUTE                                                                                      \
    "  - name: a\n    purpose: p\n    from: t-badge\n    to: x\n    fields: { zone: keep }\n"
    refused(HEAD ROUTE "    batch: { max_records: 1, max_delay: 1s }\n", "test.yaml:9:27",
            "'max_records' must be a whole number from 2 to 256");
    refused(HEAD ROUTE "    batch: { max_records: 5 }\n", "test.yaml:9:12",
            "needs both max_records and max_delay");
    refused(HEAD ROUTE "    batch: { max_records: 5, max_delay: 2h }\n", "test.yaml:9:41",
            "at most 1m");
    refused(HEAD ROUTE "    batch: { max_record: 5, max_delay: 1s }\n", "test.yaml:9:14",
            "did you mean 'max_records'");
#undef ROUTE
    refused(HEAD "  - name: hr\n    purpose: study\n    from: t-vitals\n    to: a/b\n"
                 "    aggregate: { window: 1h, by: [zone], emit: { n: count() }, min_group: 2 }\n"
                 "    batch: { max_records: 5, max_delay: 1s }\n",
            "test.yaml:9:12", "'batch' is for per-record routes");
}

static void test_errors_have_positions(void **state)
{
    (void)state;
    refused("policy: t\nversion: 1\nroutez: []\n", "test.yaml:3:1", "did you mean 'routes'");
    refused(HEAD "  - name: a\n    from: t-badge\n    to: x\n    fields: { zone: keep }\n",
            "test.yaml:4:5", "has no purpose");
    refused(HEAD "  - name: a\n    purpose: p\n    from: t-badge\n    to: x\n"
                 "    fields: { zome: keep }\n",
            "test.yaml:8:15", "did you mean 'zone'");
    refused(HEAD "  - name: a\n    purpose: p\n    from: t-badge\n    to: x\n"
                 "    fields: { x: pseudonymise }\n",
            "test.yaml:8:18", "cannot pseudonymise 'x'");
    refused(HEAD "  - name: a\n    purpose: p\n    from: t-badge\n    to: x\n"
                 "    fields: { zone: generalise(5) }\n",
            "test.yaml:8:21", "cannot generalise 'zone'");
    refused(HEAD "  - name: a\n    purpose: p\n    from: t-badge\n    to: x\n"
                 "    fields: { zone: kepe }\n",
            "test.yaml:8:21", "unknown field action 'kepe'");
    refused(HEAD "  - name: a\n    purpose: p\n    from: t-badje\n    to: x\n"
                 "    fields: { zone: keep }\n",
            "test.yaml:6:11", "did you mean 't-badge'");
    refused(HEAD "  - name: a\n    purpose: p\n    from: t-badge\n    to: x\n"
                 "    fields: { zone: keep }\n    retension: 7d\n",
            "test.yaml:9:5", "did you mean 'retention'");
    refused(HEAD "  - name: a\n    purpose: p\n    from: t-badge\n    to: x/{badge}\n"
                 "    fields: { zone: keep }\n",
            "test.yaml:7:9", "placeholder {badge}");
    refused(HEAD "  - name: a\n    purpose: p\n    from: t-badge\n    to: x/#\n"
                 "    fields: { zone: keep }\n",
            "test.yaml:7:9", "wildcards");
}

static void test_when_errors(void **state)
{
    (void)state;
    const char *pre = HEAD "  - name: a\n    purpose: p\n    from: t-vitals\n    to: x\n"
                           "    fields: { zone: keep }\n";
    char buf[1024];
    /* column points into the condition: "man_down = true" -> col 11 + 9 */
    snprintf(buf, sizeof buf, "%s    when: man_down = true\n", pre);
    refused(buf, "test.yaml:9:20", "use ==");
    snprintf(buf, sizeof buf, "%s    when: man_down == 3\n", pre);
    refused(buf, "test.yaml:9:11", "true or false");
    snprintf(buf, sizeof buf, "%s    when: heart_rate > \"high\"\n", pre);
    refused(buf, "test.yaml:9:11", "health field 'heart_rate'");
    /* following one named worker */
    snprintf(buf, sizeof buf, "%s    when: man_down == true or badge == \"WK1\"\n", pre);
    refused(buf, "test.yaml:9:11", "conditions on worker identifiers are refused");
    refused(HEAD "  - name: a\n    purpose: p\n    from: t-machine\n    to: x\n"
                 "    fields: { state: keep }\n    when: state == fault and machine == 'M-04'\n",
            "test.yaml:9:11", "which stands for the person behind it ('operator')");
    snprintf(buf, sizeof buf, "%s    when: exists(badge\n", pre);
    refused(buf, "test.yaml:9:", "exists(FIELD)");
    snprintf(buf, sizeof buf, "%s    when: (man_down == true\n", pre);
    refused(buf, "test.yaml:9:", "expected ')'");
    snprintf(buf, sizeof buf, "%s    when: mandown == true\n", pre);
    refused(buf, "test.yaml:9:11", "did you mean 'man_down'");
    snprintf(buf, sizeof buf, "%s    when: zone == 'a' zone == 'b'\n", pre);
    refused(buf, "test.yaml:9:", "missing 'and' or 'or'");
    snprintf(buf, sizeof buf, "%s    when: zone < 'a'\n", pre);
    refused(buf, "test.yaml:9:11", "is text");
    refused(HEAD "  - name: a\n    purpose: p\n    from: t-machine\n    to: x\n"
                 "    fields: { state: keep }\n    when: state == broken\n",
            "test.yaml:9:11", "unknown value of 'broken'");
    struct policy *p = load_ok(reg, HEAD "  - name: a\n    purpose: p\n    from: t-machine\n"
                                         "    to: x\n    fields: { state: keep }\n"
                                         "    when: state == fault or (output_count >= 10 and "
                                         "not shift != 'night') or ts < '2026-01-01T00:00:00Z'\n");
    policy_free(p);
}

static void test_aggregate_errors(void **state)
{
    (void)state;
    const char *pre = HEAD "  - name: a\n    purpose: p\n    from: t-badge\n    to: x/{zone}\n";
    char buf[1024];
    snprintf(buf, sizeof buf, "%s    aggregate: { by: [zone], emit: { n: count() } }\n", pre);
    refused(buf, "test.yaml:8:16", "needs a 'window'");
    snprintf(buf, sizeof buf,
             "%s    aggregate: { window: 15m, by: [badge], emit: { n: count() } }\n", pre);
    refused(buf, "test.yaml:8:", "cannot group by 'badge'");
    snprintf(buf, sizeof buf,
             "%s    aggregate: { window: 15m, by: [zone], emit: { n: max(badge) } }\n", pre);
    refused(buf, "test.yaml:8:", "can only be counted");
    snprintf(buf, sizeof buf,
             "%s    aggregate: { window: 15m, by: [zone], emit: { n: mean(zone) } }\n", pre);
    refused(buf, "test.yaml:8:", "needs a number");
    snprintf(buf, sizeof buf, "%s    aggregate: { window: 15m, by: [zone], emit: { n: avg(x) } }\n",
             pre);
    refused(buf, "test.yaml:8:", "unknown aggregate function 'avg'");
    snprintf(buf, sizeof buf,
             "%s    aggregate: { window: 15m, by: [zone], emit: { n: count() }, minimum: 5 }\n",
             pre);
    refused(buf, "test.yaml:8:", "unknown aggregate key 'minimum'");
    snprintf(buf, sizeof buf,
             "%s    aggregate: { window: 15m, by: [zone], emit: { n: count() } }\n"
             "    fields: { badge: pseudonymise }\n",
             pre);
    refused(buf, "test.yaml:9:15", "not a 'by' key");
    refused(HEAD "  - name: a\n    purpose: p\n    from: t-machine\n    to: x\n"
                 "    aggregate: { window: 1h, emit: { n: count() }, min_group: 5, "
                 "workers: [operatr] }\n",
            "test.yaml:8:", "did you mean 'operator'");
    refused(HEAD "  - name: a\n    purpose: p\n    from: t-badge\n    to: x\n"
                 "    aggregate: { window: 1h, emit: { n: count() }, totals: true }\n",
            "test.yaml:8:", "'totals' needs 'by'");
}

static void test_zone_and_grid_errors(void **state)
{
    (void)state;
    refused(HEAD "  - name: a\n    purpose: p\n    from: t-badge\n    to: x\n"
                 "    fields: { x: generalise(zone) }\n",
            "test.yaml:4:", "has no 'zones:'");
    refused("policy: t\nversion: 1\nzones:\n  a: { rect: [0, 0, 0, 1] }\nroutes: []\n",
            "test.yaml:4:14", "x1 > x0");
    refused("policy: t\nversion: 1\nzones:\n  a: { poly: [[0, 0]] }\nroutes: []\n", "test.yaml:4:8",
            "unknown zone shape 'poly'");
    refused("policy: t\nversion: 1\nzones:\n  a: { polygon: [[0, 0], [1, 1]] }\nroutes: []\n",
            "test.yaml:4:17", "at least 3 points");
    refused("policy: t\nversion: 1\nzones:\n  a: { rect: [0, 0, 1, 1] }\n"
            "routes:\n"
            "  - name: a\n    purpose: p\n    from: t-badge\n    to: x\n"
            "    fields: { x: generalise(zone), y: keep }\n",
            "test.yaml:10:13", "cannot also leave");
    refused(HEAD "  - name: a\n    purpose: p\n    from: t-badge\n    to: x\n"
                 "    fields: { zone: generalise(grid 500m) }\n",
            "test.yaml:8:21", "not a location");
    refused(HEAD "  - name: a\n    purpose: p\n    from: t-gps\n    to: x\n"
                 "    fields: { lat: generalise(grid 500 yards) }\n",
            "test.yaml:8:20", "grid cell size in metres");
}

/* The language refuses what singles out a worker (issue 15). */
static void test_singling_out_refused(void **state)
{
    (void)state;
    const char *mach = HEAD "  - name: a\n    purpose: p\n    from: t-machine\n    to: x\n";
    const char *badge = HEAD "  - name: a\n    purpose: p\n    from: t-badge\n    to: x\n";
    char buf[2048];
    /* a rounded card number still names the card */
    snprintf(buf, sizeof buf, "%s    fields: { operator: generalise(10), state: keep }\n", mach);
    refused(buf, "test.yaml:8:15", "rounding an identifier still sends it");
    /* a worker id as it is only with a signed exception */
    snprintf(buf, sizeof buf, "%s    fields: { badge: keep }\n", badge);
    refused(buf, "test.yaml:8:15", "exceptions: { keep-worker-id: REASON }");
    snprintf(buf, sizeof buf,
             "%s    fields: { badge: keep }\n"
             "    exceptions: { keep-worker-id: the access system needs the badge number }\n",
             badge);
    struct policy *p = load_ok(reg, buf);
    assert_true(policy_needs_signatures(p));
    assert_false(policy_names_health(p));
    policy_free(p);
    /* an exception nothing needs is an error, so the file says only what is true */
    snprintf(buf, sizeof buf,
             "%s    fields: { badge: pseudonymise }\n    exceptions: { keep-worker-id: why }\n",
             badge);
    refused(buf, "test.yaml:4:5", "nothing in it needs that exception");
    snprintf(buf, sizeof buf,
             "%s    fields: { badge: pseudonymise }\n    exceptions: { keep-worker-ids: x }\n",
             badge);
    refused(buf, "test.yaml:9:19", "did you mean 'keep-worker-id'");
    /* workers: only worker-id fields */
    snprintf(buf, sizeof buf,
             "%s    aggregate: { window: 1h, by: [zone], emit: { n: count() }, min_group: 5, "
             "workers: [ts] }\n",
             badge);
    refused(buf, "test.yaml:4:5", "'ts' of t-badge is not a worker-id field");
    /* min_group below 2 on records of workers needs an exception; 0 too */
    for (int mg = 0; mg < 2; mg++) {
        snprintf(
            buf, sizeof buf,
            "%s    aggregate: { window: 1h, by: [zone], emit: { n: count() }, min_group: %d }\n",
            badge, mg);
        refused(buf, "test.yaml:4:5", "set min_group to at least 2");
        snprintf(
            buf, sizeof buf,
            "%s    aggregate: { window: 1h, by: [zone], emit: { n: count() }, min_group: %d }\n"
            "    exceptions: { small-groups: 'the fire brigade needs every head count' }\n",
            badge, mg);
        p = load_ok(reg, buf);
        assert_true(policy_needs_signatures(p));
        policy_free(p);
    }
    /* a machine stands for its operator: per record only with an exception */
    snprintf(buf, sizeof buf, "%s    fields: { machine: keep, state: keep }\n", mach);
    refused(buf, "test.yaml:8:15", "'machine' stands for the person behind it ('operator')");
    snprintf(buf, sizeof buf, "%s    fields: { machine: pseudonymise }\n", mach);
    refused(buf, "test.yaml:8:15", "exceptions: { person-linked: REASON }");
    snprintf(buf, sizeof buf,
             "%s    when: state == fault\n    fields: { machine: keep, state: keep }\n"
             "    exceptions: { person-linked: maintenance must know which machine is down }\n",
             mach);
    p = load_ok(reg, buf);
    assert_true(policy_needs_signatures(p));
    policy_free(p);
    /* grouped, it is fine: groups count the operators behind the machines */
    snprintf(buf, sizeof buf,
             "%s    aggregate: { window: 1h, by: [machine], emit: { n: count() }, min_group: 5 }\n",
             mach);
    p = load_ok(reg, buf);
    assert_false(policy_needs_signatures(p));
    policy_free(p);
}

/* Zone texts leave only as names the site lists. */
static void test_zone_names_from_a_list(void **state)
{
    (void)state;
    const char *gps = HEAD "  - name: a\n    purpose: p\n    from: t-gps\n    to: x/{area}\n";
    char buf[1024];
    snprintf(buf, sizeof buf, "%s    fields: { area: keep }\n", gps);
    refused(buf, "test.yaml:4:5", "add 'site_zones: [..]' to the policy");
    snprintf(buf, sizeof buf, "policy: t\nversion: 1\nsite_zones: [yard, gate]\nroutes:\n%s",
             gps + strlen(HEAD));
    strcat(buf, "    fields: { area: keep }\n");
    struct policy *p = load_ok(reg, buf);
    policy_free(p);
    refused("policy: t\nversion: 1\nsite_zones: [yard, other]\nroutes: []\n", "test.yaml:3:20",
            "'other' is what unlisted zone values become");
    refused("policy: t\nversion: 1\nsite_zones: [yard, yard]\nroutes: []\n", "test.yaml:3:20",
            "listed twice");
}

/* Two routes whose groups nest over the same records could be differenced. */
static void test_overlapping_aggregates_refused(void **state)
{
    (void)state;
    const char *r1 =
        HEAD "  - name: per-zone\n    purpose: p\n    from: t-badge\n    to: a/{zone}\n"
             "    aggregate: { window: 15m, by: [zone], min_group: 5, "
             "emit: { n: count() } }\n";
    char buf[2048];
    snprintf(
        buf, sizeof buf,
        "%s  - name: all\n    purpose: p\n    from: t-badge\n    to: b\n"
        "    aggregate: { window: 1h, min_group: 5, emit: { people: count_distinct(badge) } }\n",
        r1);
    refused(buf, "test.yaml:9:5", "routes 'per-zone' and 'all' publish overlapping aggregates");
    /* the same records grouped twice the same way: refused too */
    snprintf(buf, sizeof buf,
             "%s  - name: again\n    purpose: p\n    from: t-badge\n    to: b/{zone}\n"
             "    aggregate: { window: 1h, by: [zone], min_group: 5, emit: { n: count() } }\n",
             r1);
    refused(buf, "test.yaml:9:5", "overlapping aggregates");
    /* a condition on one of them: its records are a part of the other's, and
     * a third route on the complement would give the difference exactly */
    snprintf(buf, sizeof buf,
             "%s  - name: low\n    purpose: p\n    from: t-badge\n    to: b/{zone}\n"
             "    when: battery < 10\n"
             "    aggregate: { window: 1h, by: [zone], min_group: 5, emit: { n: count() } }\n",
             r1);
    refused(buf, "test.yaml:9:5", "routes 'per-zone' and 'low'");
    /* two different conditions: allowed */
    struct policy *p =
        load_ok(reg, HEAD
                "  - name: high\n    purpose: p\n    from: t-badge\n    to: a/{zone}\n"
                "    when: battery >= 10\n"
                "    aggregate: { window: 15m, by: [zone], min_group: 5, emit: { n: count() } }\n"
                "  - name: low\n    purpose: p\n    from: t-badge\n    to: b/{zone}\n"
                "    when: battery < 10\n"
                "    aggregate: { window: 1h, by: [zone], min_group: 5, emit: { n: count() } }\n");
    policy_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_policy_loads),
        cmocka_unit_test(test_health_names),
        cmocka_unit_test(test_errors_have_positions),
        cmocka_unit_test(test_when_errors),
        cmocka_unit_test(test_singling_out_refused),
        cmocka_unit_test(test_zone_names_from_a_list),
        cmocka_unit_test(test_overlapping_aggregates_refused),
        cmocka_unit_test(test_aggregate_errors),
        cmocka_unit_test(test_batch_key),
        cmocka_unit_test(test_zone_and_grid_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
