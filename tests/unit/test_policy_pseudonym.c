/* Pseudonyms: stable within an epoch and domain, different across epochs and
 * domains, unlinkable after key destruction (the key file is gone, make fails). */
#include <sys/stat.h>

#include "test_policy_util.h"

#define DAY 86400000LL

static void test_stable_and_separated(void **state)
{
    (void)state;
    char dir[256];
    struct pseudonym_keyring *k = test_keys(dir, sizeof dir, DAY, 2 * DAY, T0);
    int64_t e0 = pseudonym_epoch_of(k, T0);
    char a[PSEUDONYM_HEX_LEN + 1], b[PSEUDONYM_HEX_LEN + 1], c[PSEUDONYM_HEX_LEN + 1],
        d[PSEUDONYM_HEX_LEN + 1];
    assert_int_equal(pseudonym_make(k, e0, "route-a", "B-1", 3, a), FG_OK);
    assert_int_equal(pseudonym_make(k, e0, "route-a", "B-1", 3, b), FG_OK);
    assert_string_equal(a, b);
    assert_int_equal(strlen(a), PSEUDONYM_HEX_LEN);
    assert_int_equal(pseudonym_make(k, e0, "route-b", "B-1", 3, c), FG_OK);
    assert_string_not_equal(a, c);
    /* "route-a" + "B-1" must not equal "route-aB" + "-1": the domain is delimited */
    assert_int_equal(pseudonym_make(k, e0, "route-aB", "-1", 2, d), FG_OK);
    assert_string_not_equal(a, d);
    /* next epoch: a fresh random key, an unrelated pseudonym */
    assert_int_equal(pseudonym_keyring_tick(k, T0 + DAY), FG_OK);
    assert_int_equal(pseudonym_make(k, e0 + 1, "route-a", "B-1", 3, d), FG_OK);
    assert_string_not_equal(a, d);
    /* the key file is private */
    char path[512];
    struct stat st;
    snprintf(path, sizeof path, "%s/pseudonym-%lld.key", dir, (long long)e0);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    /* reopening reloads the kept keys: the same pseudonym */
    pseudonym_keyring_close(k);
    char why[256];
    assert_int_equal(pseudonym_keyring_open(dir, DAY, 2 * DAY, &k, why, sizeof why), FG_OK);
    assert_int_equal(pseudonym_make(k, e0, "route-a", "B-1", 3, b), FG_OK);
    assert_string_equal(a, b);
    pseudonym_keyring_close(k);
    rm_dir(dir);
}

static int destroyed_events;
static void hook(void *ctx, const char *action, int64_t epoch)
{
    (void)ctx;
    (void)epoch;
    if (!strcmp(action, "pseudonym.key_destroyed"))
        destroyed_events++;
}

static void test_unlinkable_after_destruction(void **state)
{
    (void)state;
    char dir[256], path[512], why[256];
    struct pseudonym_keyring *k = test_keys(dir, sizeof dir, DAY, 2 * DAY, T0);
    pseudonym_keyring_set_hook(k, hook, NULL);
    int64_t e0 = pseudonym_epoch_of(k, T0);
    char a[PSEUDONYM_HEX_LEN + 1];
    assert_int_equal(pseudonym_make(k, e0, "r", "B-1", 3, a), FG_OK);
    snprintf(path, sizeof path, "%s/pseudonym-%lld.key", dir, (long long)e0);
    /* kept through keep_keys after the epoch ends */
    assert_int_equal(pseudonym_keyring_tick(k, T0 + 2 * DAY), FG_OK);
    assert_true(pseudonym_has_epoch(k, e0));
    assert_int_equal(access(path, F_OK), 0);
    /* then destroyed: file gone, make fails, even after a restart */
    assert_int_equal(pseudonym_keyring_tick(k, (e0 + 1) * DAY + 2 * DAY), FG_OK);
    assert_false(pseudonym_has_epoch(k, e0));
    assert_int_equal(access(path, F_OK), -1);
    assert_int_equal(pseudonym_make(k, e0, "r", "B-1", 3, a), FG_ERR_NOT_FOUND);
    assert_int_equal(destroyed_events, 1);
    pseudonym_keyring_close(k);
    assert_int_equal(pseudonym_keyring_open(dir, DAY, 2 * DAY, &k, why, sizeof why), FG_OK);
    assert_int_equal(pseudonym_make(k, e0, "r", "B-1", 3, a), FG_ERR_NOT_FOUND);
    pseudonym_keyring_close(k);
    rm_dir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stable_and_separated),
        cmocka_unit_test(test_unlinkable_after_destruction),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
