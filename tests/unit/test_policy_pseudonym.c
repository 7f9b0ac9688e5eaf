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

/* issue 14: the next epoch's key exists before the boundary, so an input that
 * arrives right after it (before the next tick) is never rejected. */
static void test_next_key_ready_before_boundary(void **state)
{
    (void)state;
    char dir[256];
    struct pseudonym_keyring *k = test_keys(dir, sizeof dir, 5000, 2000, T0 + 10);
    int64_t e0 = pseudonym_epoch_of(k, T0 + 10);
    char a[PSEUDONYM_HEX_LEN + 1];
    /* 10 ms into the next epoch, no tick in between */
    assert_int_equal(pseudonym_epoch_of(k, T0 + 5010), e0 + 1);
    assert_int_equal(pseudonym_make(k, e0 + 1, "r", "B-1", 3, a), FG_OK);
    pseudonym_keyring_close(k);
    rm_dir(dir);
}

static int destroyed_at;
static void count_destroyed(void *ctx, const char *action, int64_t epoch)
{
    (void)ctx;
    (void)epoch;
    if (!strcmp(action, "pseudonym.key_destroyed"))
        destroyed_at++;
}

/* issue 14: destroyed at end of epoch + keep_keys exactly (rotate 5 s, keep 2 s:
 * 2 s after the epoch, not at the next rotation 3 s later); a shorter keep_keys
 * from a reloaded policy applies at once. */
static void test_destroyed_at_exact_deadline(void **state)
{
    (void)state;
    char dir[256];
    struct pseudonym_keyring *k = test_keys(dir, sizeof dir, 5000, 2000, T0);
    pseudonym_keyring_set_hook(k, count_destroyed, NULL);
    int64_t e0 = pseudonym_epoch_of(k, T0);
    int64_t end = (e0 + 1) * 5000;
    assert_int_equal(pseudonym_keyring_tick(k, end), FG_OK); /* epoch e0 + 1 begins */
    assert_int_equal(pseudonym_keyring_next_deadline(k), end + 2000);
    assert_int_equal(pseudonym_keyring_tick(k, end + 1999), FG_OK);
    assert_true(pseudonym_has_epoch(k, e0));
    assert_int_equal(pseudonym_keyring_tick(k, end + 2000), FG_OK);
    assert_false(pseudonym_has_epoch(k, e0));
    /* reload: keep_keys 2 s -> 0: the epoch that just ended goes at once */
    destroyed_at = 0;
    assert_int_equal(pseudonym_keyring_tick(k, end + 5000), FG_OK); /* e0 + 2 begins */
    assert_true(pseudonym_has_epoch(k, e0 + 1));
    pseudonym_keyring_configure(k, 5000, 0, end + 5001);
    assert_int_equal(pseudonym_keyring_tick(k, end + 5001), FG_OK);
    assert_false(pseudonym_has_epoch(k, e0 + 1));
    assert_int_equal(destroyed_at, 1);
    pseudonym_keyring_close(k);
    rm_dir(dir);
}

/* issue 14: with the daemon stopped, reidentify destroys what is due; and a restart
 * with a longer rotation still destroys the keys of the shorter epochs. */
static void test_deadlines_survive_restart_and_offline(void **state)
{
    (void)state;
    char dir[256], path[512], why[256];
    struct pseudonym_keyring *k = test_keys(dir, sizeof dir, 1000, 1000, T0);
    int64_t e0 = pseudonym_epoch_of(k, T0);
    pseudonym_keyring_close(k);
    snprintf(path, sizeof path, "%s/pseudonym-%lld.key", dir, (long long)e0);
    assert_int_equal(access(path, F_OK), 0);
    /* offline, before and after the deadline (end T0 + 1 s, keep 1 s) */
    destroyed_at = 0;
    assert_int_equal(pseudonym_expire_offline(dir, T0 + 1999, count_destroyed, NULL), FG_OK);
    assert_int_equal(access(path, F_OK), 0);
    assert_int_equal(pseudonym_expire_offline(dir, T0 + 2000, count_destroyed, NULL), FG_OK);
    assert_int_equal(access(path, F_OK), -1);
    assert_int_equal(destroyed_at, 1);
    /* restart with rotate 1 day (keep 1 s): the next key of the 1 s rotation is still
     * destroyed at the end of its own epoch + keep (T0 + 3 s), not a day later */
    assert_int_equal(pseudonym_keyring_open(dir, DAY, 1000, &k, why, sizeof why), FG_OK);
    assert_true(pseudonym_has_epoch(k, e0 + 1));
    assert_int_equal(pseudonym_keyring_tick(k, T0 + 3000), FG_OK);
    assert_false(pseudonym_has_epoch(k, e0 + 1));
    pseudonym_keyring_close(k);
    rm_dir(dir);
}

/* issue 14: a reload that changes the rotation makes the new rotation's keys before
 * inputs ask for them, and the old rotation's keys end at the switch. */
static void test_rotation_change_on_reload(void **state)
{
    (void)state;
    char dir[256];
    struct pseudonym_keyring *k = test_keys(dir, sizeof dir, DAY, 2000, T0);
    int64_t old = pseudonym_epoch_of(k, T0);
    int64_t t = T0 + 3600000;
    pseudonym_keyring_configure(k, 5000, 2000, t);
    int64_t e = pseudonym_epoch_of(k, t);
    char a[PSEUDONYM_HEX_LEN + 1];
    assert_int_equal(pseudonym_make(k, e, "r", "B-1", 3, a), FG_OK); /* no tick yet */
    assert_int_equal(pseudonym_make(k, e + 1, "r", "B-1", 3, a), FG_OK);
    assert_int_equal(pseudonym_keyring_tick(k, t), FG_OK);
    assert_true(pseudonym_has_epoch(k, old));
    assert_int_equal(pseudonym_keyring_tick(k, t + 2000), FG_OK); /* switch + keep */
    assert_false(pseudonym_has_epoch(k, old));
    pseudonym_keyring_close(k);
    rm_dir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stable_and_separated),
        cmocka_unit_test(test_unlinkable_after_destruction),
        cmocka_unit_test(test_next_key_ready_before_boundary),
        cmocka_unit_test(test_destroyed_at_exact_deadline),
        cmocka_unit_test(test_deadlines_survive_restart_and_offline),
        cmocka_unit_test(test_rotation_change_on_reload),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
