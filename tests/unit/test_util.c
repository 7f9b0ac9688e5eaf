/* fg_write_file_atomic: the temp file is created exclusively under a random name and
 * never through a link, so a local user who can write to the directory cannot make
 * fairgate write a key into a file they own or point a link at another file. */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/fg_util.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/fg-util-XXXXXX");
    assert_non_null(mkdtemp(dir));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd);
}

static const char *in(const char *name)
{
    static char buf[4][256];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

static void assert_content(const char *path, const char *want)
{
    char *got;
    size_t len;
    assert_int_equal(fg_read_file(path, 1 << 16, &got, &len), FG_OK);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(got, want, len);
    free(got);
}

static size_t entries(void)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static void secret_is_0600_and_leaves_no_temp(void **state)
{
    (void)state;
    assert_int_equal(fg_write_file_atomic(in("a.key"), "secret", 6, 0600), FG_OK);
    struct stat st;
    assert_int_equal(lstat(in("a.key"), &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_content(in("a.key"), "secret");
    assert_int_equal(fg_write_file_atomic(in("a.crt"), "public", 6, 0644), FG_OK);
    assert_int_equal(lstat(in("a.crt"), &st), 0);
    assert_int_equal(st.st_mode & 07777, 0644);
    assert_int_equal(entries(), 2); /* no temp file left behind */
}

/* The old predictable names PATH.tmp.PID: an attacker plants a link there to a file
 * of theirs, and a file they own and may read. Neither may receive the key. */
static void planted_temp_names_are_not_used(void **state)
{
    (void)state;
    assert_int_equal(fg_write_file_atomic(in("victim"), "theirs", 6, 0644), FG_OK);
    char name[128];
    snprintf(name, sizeof name, "b.key.tmp.%ld", (long)getpid());
    assert_int_equal(symlink(in("victim"), in(name)), 0);
    snprintf(name, sizeof name, "b.key.tmp.%ld", (long)getpid() + 1);
    int fd = open(in(name), O_WRONLY | O_CREAT | O_EXCL, 0666);
    assert_true(fd >= 0);
    close(fd);
    chmod(in(name), 0666);
    assert_int_equal(fg_write_file_atomic(in("b.key"), "secret", 6, 0600), FG_OK);
    assert_content(in("victim"), "theirs");
    struct stat st;
    assert_int_equal(stat(in(name), &st), 0);
    assert_int_equal(st.st_size, 0);
    assert_content(in("b.key"), "secret");
    assert_int_equal(lstat(in("b.key"), &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
}

/* A symlink at the destination is replaced by the file, never written through. */
static void symlink_at_destination_is_replaced(void **state)
{
    (void)state;
    assert_int_equal(fg_write_file_atomic(in("victim"), "theirs", 6, 0644), FG_OK);
    assert_int_equal(symlink(in("victim"), in("c.key")), 0);
    assert_int_equal(fg_write_file_atomic(in("c.key"), "secret", 6, 0600), FG_OK);
    struct stat st;
    assert_int_equal(lstat(in("c.key"), &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_content(in("c.key"), "secret");
    assert_content(in("victim"), "theirs");
}

/* A directory where the temp file cannot be created fails with an error. */
static void unwritable_directory_fails(void **state)
{
    (void)state;
    assert_int_not_equal(fg_write_file_atomic("/proc/fg-no-such-dir/x.key", "s", 1, 0600), FG_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(secret_is_0600_and_leaves_no_temp, setup, teardown),
        cmocka_unit_test_setup_teardown(planted_temp_names_are_not_used, setup, teardown),
        cmocka_unit_test_setup_teardown(symlink_at_destination_is_replaced, setup, teardown),
        cmocka_unit_test_setup_teardown(unwritable_directory_fails, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
