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

static char *explain_text(const struct policy *p, const char *lang)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(policy_explain(p, lang, f), FG_OK);
    fclose(f);
    return buf;
}

/* Purposes and descriptions in the reader's language; where the policy has
 * none in that language, the text as written and a note saying so. */
static void test_explain_languages(void **state)
{
    (void)state;
    struct policy *p = load_data("lang.yaml");
    char *nl = explain_text(p, "nl"), *de = explain_text(p, "de"), *en = explain_text(p, "en");
    assert_non_null(strstr(nl, "Onderzoek naar hittestress in de gieterij."));
    assert_non_null(strstr(nl, "  Doel: onderzoek naar hittestress.\n"));
    assert_non_null(strstr(nl, "  Doel: hulp bij noodgevallen.\n"));
    assert_non_null(strstr(de, "  Zweck: Studie zu Hitzestress.\n"));
    /* alarm gives no German purpose: shown as written (English first), and said */
    assert_non_null(strstr(de, "  Zweck: emergency response (die Richtlinie gibt dafür keinen "
                               "deutschen Text an; wie geschrieben).\n"));
    assert_non_null(strstr(en, "  Purpose: emergency response.\n"));
    /* the condition's field leaves implicitly, and is not listed as never leaving */
    const char *imp = strstr(en, "Leaves implicitly");
    assert_non_null(imp);
    assert_non_null(strstr(imp, "man_down"));
    const char *never = strstr(strstr(en, "Route \"alarm\""), "Never leaves:");
    assert_non_null(never);
    assert_null(strstr(never, "man_down"));
    /* retention: asked, not enforced */
    assert_non_null(strstr(en, "The receiver is asked to delete the data after 2 days, through "
                               "MQTT message expiry; fairgate cannot enforce that"));
    assert_non_null(strstr(nl, "fairgate kan dat bij de ontvanger niet afdwingen"));
    /* no "every 1 hour" */
    assert_non_null(strstr(nl, "elk uur"));
    assert_null(strstr(nl, "elke 1 uur"));
    assert_non_null(strstr(de, "jede Stunde"));
    free(nl);
    free(de);
    free(en);
    policy_free(p);
}

static void test_explain_golden(void **state)
{
    (void)state;
    struct policy *p = load_data("full.yaml");
    explain_to(p, NULL, "en", "full.en.txt");
    explain_to(p, NULL, "nl", "full.nl.txt");
    explain_to(p, NULL, "de", "full.de.txt");
    assert_int_equal(policy_explain(p, "fr", stdout), FG_ERR_CONFIG);
    struct policy *h = load_data("health.yaml");
    explain_to(h, NULL, "en", "health.en.txt");
    explain_to(h, NULL, "nl", "health.nl.txt");
    explain_to(h, NULL, "de", "health.de.txt");
    policy_free(h);
    struct policy *q = load_data("full-v3.yaml");
    explain_to(p, q, "en", "full-v3.diff.en.txt");
    explain_to(p, q, "nl", "full-v3.diff.nl.txt");
    explain_to(p, q, "de", "full-v3.diff.de.txt");
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

struct warnings {
    char text[8192];
    int n;
};

static void keep_warning(void *ctx, const char *msg)
{
    struct warnings *w = ctx;
    w->n++;
    strncat(w->text, msg, sizeof w->text - strlen(w->text) - 2);
    strcat(w->text, "\n");
}

/* Exceptions, small groups and movement tracks are said in explain and warned
 * by check. */
static void test_privacy_sentences_and_warnings(void **state)
{
    (void)state;
    char why[1024];
    struct policy *p = load_text(
        reg,
        "policy: t\nversion: 1\npseudonyms: { rotate: 24h }\nroutes:\n"
        "  - name: track\n    purpose: p\n    from: t-badge\n    to: a\n    retention: 1d\n"
        "    fields: { badge: pseudonymise, x: generalise(5), y: generalise(5), ts: "
        "generalise(1m) }\n"
        "  - name: door\n    purpose: access control\n    from: t-badge\n    to: b\n"
        "    retention: 1d\n    fields: { badge: keep }\n"
        "    exceptions: { keep-worker-id: the door system needs the badge number }\n"
        "  - name: small\n    purpose: p\n    from: t-machine\n    to: c\n    retention: 1d\n"
        "    aggregate: { window: 1h, by: [machine], min_group: 3, emit: { n: count() } }\n",
        why, sizeof why);
    if (!p)
        fprintf(stderr, "%s\n", why);
    assert_non_null(p);
    char *en = explain_text(p, "en"), *nl = explain_text(p, "nl");
    assert_non_null(strstr(en, "WARNING: this route sends about 1440 locations per person and "
                               "day: that is a movement track."));
    assert_non_null(strstr(nl, "ongeveer 1440 locaties per persoon per dag"));
    assert_non_null(strstr(en, "EXCEPTION, agreed and signed: worker identifiers leave as they "
                               "are. Reason: the door system needs the badge number."));
    assert_non_null(strstr(nl, "UITZONDERING, afgesproken en ondertekend"));
    assert_null(strstr(en, "\033[")); /* red only on a terminal */
    assert_non_null(strstr(en, "machine stands for the person behind it (operator)"));
    assert_non_null(strstr(en, "WARNING: a group of 3 workers is small"));
    free(en);
    free(nl);
    struct warnings w = {.n = 0};
    w.text[0] = '\0';
    policy_check_warnings(p, keep_warning, &w);
    assert_non_null(strstr(w.text, "route 'track' sends about 1440 locations per person and day"));
    assert_non_null(strstr(w.text, "rotate pseudonyms more often"));
    assert_non_null(strstr(w.text, "route 'door' declares the exception 'keep-worker-id'"));
    assert_non_null(strstr(w.text, "route 'small' publishes groups of as few as 3 workers"));
    assert_true(policy_needs_signatures(p));
    policy_free(p);
    /* hourly pseudonyms and 15-minute times: 4 points per pseudonym, no track */
    p = load_ok(reg, "policy: t\nversion: 1\npseudonyms: { rotate: 1h }\nroutes:\n"
                     "  - name: track\n    purpose: p\n    from: t-badge\n    to: a\n"
                     "    retention: 1d\n    fields: { badge: pseudonymise, x: generalise(5), "
                     "y: generalise(5), ts: generalise(15m) }\n");
    w.n = 0;
    w.text[0] = '\0';
    policy_check_warnings(p, keep_warning, &w);
    assert_null(strstr(w.text, "movement track"));
    assert_false(policy_needs_signatures(p));
    policy_free(p);
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
        cmocka_unit_test(test_explain_languages),
        cmocka_unit_test(test_health_warning),
        cmocka_unit_test(test_privacy_sentences_and_warnings),
        cmocka_unit_test(test_explain_batch),
        cmocka_unit_test(test_shipped_policies),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
