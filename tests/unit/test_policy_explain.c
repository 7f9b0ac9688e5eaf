/* Golden tests for `policy explain` (en, nl) and `policy diff`, and the
 * shipped policies checked against the built-in sensor types. Set
 * FAIRGATE_UPDATE_GOLDEN=1 to rewrite the golden files after a reviewed change. */
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

static struct policy *load_data(const char *name)
{
    char path[1024], why[1024];
    snprintf(path, sizeof path, "%s/tests/data/policy/%s", src_dir(), name);
    struct policy *p = NULL;
    fg_err e = policy_load_file(path, reg, "s1", &p, why, sizeof why);
    if (e)
        fprintf(stderr, "%s\n", why);
    assert_int_equal(e, FG_OK);
    return p;
}

static void golden(const char *text, size_t len, const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/golden/policy/%s", src_dir(), name);
    if (getenv("FAIRGATE_UPDATE_GOLDEN")) {
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fwrite(text, 1, len, f);
        fclose(f);
        return;
    }
    char *want = NULL;
    size_t wl = 0;
    assert_int_equal(fg_read_file(path, 1 << 20, &want, &wl), FG_OK);
    if (wl != len || memcmp(want, text, len) != 0)
        fprintf(stderr, "%s differs; got:\n%.*s\n", name, (int)len, text);
    assert_int_equal(wl, len);
    assert_memory_equal(want, text, len);
    free(want);
}

static void explain_to(const struct policy *p, const struct policy *q, const char *lang,
                       const char *name)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    if (q)
        assert_int_equal(policy_diff(p, q, lang, f), FG_OK);
    else
        assert_int_equal(policy_explain(p, lang, f), FG_OK);
    fclose(f);
    golden(buf, len, name);
    free(buf);
}

static void test_explain_golden(void **state)
{
    (void)state;
    struct policy *p = load_data("full.yaml");
    explain_to(p, NULL, "en", "full.en.txt");
    explain_to(p, NULL, "nl", "full.nl.txt");
    assert_int_equal(policy_explain(p, "de", stdout), FG_ERR_CONFIG);
    struct policy *h = load_data("health.yaml");
    explain_to(h, NULL, "en", "health.en.txt");
    explain_to(h, NULL, "nl", "health.nl.txt");
    policy_free(h);
    struct policy *q = load_data("full-v3.yaml");
    explain_to(p, q, "en", "full-v3.diff.en.txt");
    explain_to(p, q, "nl", "full-v3.diff.nl.txt");
    explain_to(p, p, "en", "same.diff.en.txt");
    policy_free(q);
    policy_free(p);
}

/* A route with a batch key says so, with its bounds; one without says nothing. */
static void explain_has(const struct policy *p, const char *lang, const char *want, bool has)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(policy_explain(p, lang, f), FG_OK);
    fclose(f);
    if ((strstr(buf, want) != NULL) != has)
        fprintf(stderr, "explain %s, %s '%s':\n%s\n", lang, has ? "expected" : "did not expect",
                want, buf);
    assert_int_equal(strstr(buf, want) != NULL, has);
    free(buf);
}

static void test_explain_batch(void **state)
{
    (void)state;
    struct policy *p = load_ok(reg, "policy: t\nversion: 1\nroutes:\n"
                                    "  - name: a\n    purpose: p\n    from: t-badge\n    to: x\n"
                                    "    fields: { zone: keep }\n"
                                    "    batch: { max_records: 50, max_delay: 200ms }\n"
                                    "  - name: b\n    purpose: p\n    from: t-badge\n    to: y\n"
                                    "    fields: { zone: keep }\n");
    explain_has(p, "en",
                "Sent in batches: up to 50 records in one message, none waiting more "
                "than 200 ms",
                true);
    explain_has(p, "nl", "Verstuurd in bundels: tot 50 records", true);
    policy_free(p);
    p = load_ok(reg, "policy: t\nversion: 1\nroutes:\n"
                     "  - name: b\n    purpose: p\n    from: t-badge\n    to: y\n"
                     "    fields: { zone: keep }\n");
    explain_has(p, "en", "batches", false);
    policy_free(p);
}

static void count_warning(void *ctx, const char *msg)
{
    (void)msg;
    (*(int *)ctx)++;
}

static void test_health_warning(void **state)
{
    (void)state;
    struct policy *h = load_data("health.yaml");
    int n = 0;
    assert_true(policy_check_warnings(h, count_warning, &n) >= 1);
    assert_true(policy_names_health(h));
    policy_free(h);
}

/* policy/factory.yaml and depot.yaml against sensors/types: skipped for any
 * type the sensors work has not delivered yet. */
static void test_shipped_policies(void **state)
{
    (void)state;
    static const char *const need[] = {"uwb-badge",   "wearable-vitals", "machine-terminal",
                                       "environment", "access-gate",     "pick-scanner",
                                       "forklift",    "vehicle-gps",     "dock-door"};
    char dir[900], path[1024], why[1024];
    snprintf(dir, sizeof dir, "%s/sensors/types", src_dir());
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++) {
        snprintf(path, sizeof path, "%s/%s.yaml", dir, need[i]);
        if (access(path, R_OK) != 0) {
            fprintf(stderr, "skip: sensor type %s not present yet\n", need[i]);
            skip();
        }
    }
    struct sensor_registry *types = NULL;
    assert_int_equal(sensor_registry_new(&types), FG_OK);
    fg_err e = sensor_registry_load_dir(types, dir, why, sizeof why);
    if (e)
        fprintf(stderr, "%s\n", why);
    assert_int_equal(e, FG_OK);
    const char *files[] = {"factory.yaml", "depot.yaml"};
    for (size_t i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/policy/%s", src_dir(), files[i]);
        struct policy *p = NULL;
        e = policy_load_file(path, types, "site", &p, why, sizeof why);
        if (e)
            fprintf(stderr, "%s\n", why);
        assert_int_equal(e, FG_OK);
        assert_false(policy_names_health(p)); /* no health data in the defaults */
        int n = 0;
        policy_check_warnings(p, count_warning, &n);
        assert_int_equal(n, 0);
        policy_free(p);
    }
    sensor_registry_free(types);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_explain_golden),
        cmocka_unit_test(test_health_warning),
        cmocka_unit_test(test_explain_batch),
        cmocka_unit_test(test_shipped_policies),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
