/* Keys bound to roles, trust slots, weakenings and the policy version floor (issue 14). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/audit.h"
#include "common/fg_log.h"
#include "common/fg_util.h"
#include "council/keys.h"
#include "council/policy_sig.h"
#include "council/trust.h"
#include "gateway/config.h"

static char g_dir[256];

static int setup(void **state)
{
    (void)state;
    fg_log_setup(FG_LOG_ERROR, false);
    assert_true(sodium_init() >= 0);
    snprintf(g_dir, sizeof g_dir, "%s/fg-trust-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    assert_non_null(mkdtemp(g_dir));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void make_key(const char *role, const char *name, unsigned char pk[32])
{
    char prefix[512], why[256];
    snprintf(prefix, sizeof prefix, "%s/%s", g_dir, name);
    assert_int_equal(keys_generate(role, prefix, pk, why, sizeof why), FG_OK);
}

static void path(char *out, size_t len, const char *name)
{
    snprintf(out, len, "%s/%s", g_dir, name);
}

/* The role of a public key is what the key signed about itself, not the word. */
static void role_is_certified_not_written(void **state)
{
    (void)state;
    unsigned char pk[32], got[32];
    make_key("employer", "emp", pk);
    char p[600], q[600], role[KEYS_ROLE_MAX + 1], why[256], *text;
    path(p, sizeof p, "emp.pub");
    assert_int_equal(keys_load_public(p, got, role, sizeof role, why, sizeof why), FG_OK);
    assert_string_equal(role, "employer");
    assert_memory_equal(pk, got, 32);
    /* the attack of issue 14: relabel the file */
    assert_int_equal(fg_read_file(p, 4096, &text, NULL), FG_OK);
    char *w = strstr(text, " employer ");
    assert_non_null(w);
    char fake[1024];
    snprintf(fake, sizeof fake, "%.*s works-council %s", (int)(w - text), text, w + 10);
    free(text);
    path(q, sizeof q, "fake-wc.pub");
    assert_int_equal(fg_write_file_atomic(q, fake, strlen(fake), 0644), FG_OK);
    assert_int_equal(keys_load_public(q, got, role, sizeof role, why, sizeof why), FG_OK);
    assert_string_equal(role, "employer"); /* the certificate still says employer */
    struct policysig_setup su;
    policysig_setup_init(&su, "employer,works-council");
    assert_int_equal(policysig_setup_trust(&su, "works-council", q, why, sizeof why),
                     FG_ERR_DENIED);
    assert_non_null(strstr(why, "certified as a key of the employer"));
    /* a file without a certificate (older format) has no role at all */
    char bare[600];
    path(bare, sizeof bare, "bare.pub");
    char *end = strrchr(fake, ' ');
    snprintf(end, 2, "\n");
    assert_int_equal(fg_write_file_atomic(bare, fake, strlen(fake), 0644), FG_OK);
    assert_int_equal(keys_load_public(bare, got, role, sizeof role, why, sizeof why), FG_OK);
    assert_string_equal(role, "?");
    assert_int_equal(policysig_setup_trust(&su, "works-council", bare, why, sizeof why),
                     FG_ERR_DENIED);
    assert_non_null(strstr(why, "no valid role certificate"));
    /* the genuine employer key in the works-council slot */
    assert_int_equal(policysig_setup_trust(&su, "works-council", p, why, sizeof why),
                     FG_ERR_DENIED);
    assert_non_null(strstr(why, "certified as a key of the employer"));
    assert_int_equal(council_trust_require_role(bare, "?", "works-council", why, sizeof why),
                     FG_ERR_DENIED);
}

/* One key certified for two roles (its holder can do that) still fills one slot. */
static void same_key_refused_in_two_slots(void **state)
{
    (void)state;
    unsigned char pk[32], cert[64];
    make_key("employer", "emp2", pk);
    char kp[600], p[600], q[600], role[KEYS_ROLE_MAX + 1], why[256];
    unsigned char *sk;
    path(kp, sizeof kp, "emp2.key");
    path(p, sizeof p, "emp2.pub");
    path(q, sizeof q, "emp2-as-wc.pub");
    assert_int_equal(keys_load_secret(kp, &sk, role, sizeof role, why, sizeof why), FG_OK);
    keys_certify(sk, "works-council", cert);
    sodium_free(sk);
    assert_int_equal(keys_write_public(q, "works-council", pk, cert, why, sizeof why), FG_OK);
    struct policysig_setup su;
    policysig_setup_init(&su, "employer,works-council");
    assert_int_equal(policysig_setup_trust(&su, "employer", p, why, sizeof why), FG_OK);
    assert_int_equal(policysig_setup_trust(&su, "works-council", q, why, sizeof why),
                     FG_ERR_DENIED);
    assert_non_null(strstr(why, "same key"));
}

/* keys, policy verify and the audit log print one fingerprint per key */
static void one_fingerprint_format(void **state)
{
    (void)state;
    unsigned char pk[32];
    randombytes_buf(pk, sizeof pk);
    char a[40], b[40];
    keys_fingerprint(pk, a, sizeof a);
    audit_fingerprint(pk, b, sizeof b);
    assert_string_equal(a, b);
    assert_int_equal(strlen(a), 29);
}

static struct fg_config cfg_of(const char *state, const char *emp, const char *wc, const char *req)
{
    struct fg_config c;
    memset(&c, 0, sizeof c);
    c.state_dir = (char *)state;
    c.trust_employer = (char *)emp;
    c.trust_works_council = (char *)wc;
    c.policy_required_roles = (char *)req;
    c.upstream.tls.enabled = true;
    return c;
}

static bool has_kind(const cJSON *list, const char *kind)
{
    const cJSON *w;
    cJSON_ArrayForEach(
        w, list) if (!strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(w, "kind")),
                             kind)) return true;
    return false;
}

static void weakenings_found(void **state)
{
    (void)state;
    unsigned char pk[32];
    make_key("employer", "e3", pk);
    make_key("works-council", "w3", pk);
    make_key("works-council", "w4", pk);
    char st[600], e3[600], w3[600], w4[600], why[256], acc[700];
    path(st, sizeof st, "state3");
    path(e3, sizeof e3, "e3.pub");
    path(w3, sizeof w3, "w3.pub");
    path(w4, sizeof w4, "w4.pub");
    assert_int_equal(fg_mkdirs(st, 0700), FG_OK);
    struct fg_config c = cfg_of(st, e3, w3, "employer,works-council");
    cJSON *cur = council_trust_current(&c, why, sizeof why), *accd = NULL;
    assert_non_null(cur);
    cJSON *l = council_trust_weakenings_of(&c, cur);
    assert_int_equal(cJSON_GetArraySize(l), 0);
    cJSON_Delete(l);
    assert_int_equal(council_trust_accept(&c, &accd, why, sizeof why), FG_OK);
    cJSON_Delete(accd);
    cJSON_Delete(cur);
    snprintf(acc, sizeof acc, "%s/trust-accepted.json", st);
    assert_int_equal(access(acc, F_OK), 0);
    /* another works-council key, employer alone required, hostname check off */
    c = cfg_of(st, e3, w4, "employer");
    c.upstream.tls.insecure_no_hostname_check = true;
    cur = council_trust_current(&c, why, sizeof why);
    l = council_trust_weakenings_of(&c, cur);
    assert_true(has_kind(l, "trust_key_changed"));
    assert_true(has_kind(l, "required_roles_reduced"));
    assert_true(has_kind(l, "codetermination_off"));
    assert_true(has_kind(l, "no_hostname_check"));
    cJSON_Delete(l);
    cJSON_Delete(cur);
}

static void versions_only_go_up(void **state)
{
    (void)state;
    char st[600], why[512];
    path(st, sizeof st, "state4");
    assert_int_equal(fg_mkdirs(st, 0700), FG_OK);
    struct fg_config c = cfg_of(st, NULL, NULL, "");
    int hi = 0;
    assert_int_equal(council_policy_version_gate(&c, "p", 2, "d2", &hi, why, sizeof why), FG_OK);
    assert_int_equal(hi, 2);
    assert_int_equal(council_policy_version_gate(&c, "p", 1, "d1", &hi, why, sizeof why),
                     FG_ERR_DENIED);
    assert_non_null(strstr(why, "older than version 2"));
    assert_int_equal(council_policy_version_gate(&c, "p", 2, "d2", &hi, why, sizeof why), FG_OK);
    assert_int_equal(council_policy_version_gate(&c, "p", 2, "dX", &hi, why, sizeof why),
                     FG_ERR_DENIED);
    assert_non_null(strstr(why, "other content"));
    assert_int_equal(council_policy_version_gate(&c, "p", 3, "d3", &hi, why, sizeof why), FG_OK);
    /* an old signed policy under another name is no way back either */
    assert_int_equal(council_policy_version_gate(&c, "pilot", 2, "dp", &hi, why, sizeof why),
                     FG_ERR_DENIED);
    assert_int_equal(council_policy_version_gate(&c, "pilot", 3, "dp", &hi, why, sizeof why),
                     FG_ERR_DENIED);
    /* the state file lost: the log remembers */
    char f[700];
    snprintf(f, sizeof f, "%s/policy-highest.json", st);
    assert_int_equal(unlink(f), 0);
    snprintf(f, sizeof f, "%s/audit.log", st);
    const char *log = "{\"seq\":5,\"time\":\"2026-01-01T00:00:00.000Z\",\"actor\":\"gateway\","
                      "\"action\":\"policy.loaded\",\"object\":{\"policy\":\"p\",\"version\":3,"
                      "\"digest\":\"d3\"},\"prev\":\"00\"}\n";
    assert_int_equal(fg_write_file_atomic(f, log, strlen(log), 0600), FG_OK);
    assert_int_equal(council_policy_version_gate(&c, "p", 2, "d2", &hi, why, sizeof why),
                     FG_ERR_DENIED);
    assert_int_equal(council_policy_version_gate(&c, "p", 3, "d3", &hi, why, sizeof why), FG_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(role_is_certified_not_written),
        cmocka_unit_test(same_key_refused_in_two_slots),
        cmocka_unit_test(one_fingerprint_format),
        cmocka_unit_test(weakenings_found),
        cmocka_unit_test(versions_only_go_up),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
