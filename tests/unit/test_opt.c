/* The option parser every command uses (common/fg_opt): values land where the
 * table says, in any order with the arguments; a misspelt option is refused
 * with the nearest valid name; bad values are refused; --help prints every
 * option of the table and nothing hidden. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/fg_opt.h"

struct o {
    const char *policy, *lang, *level;
    struct fg_opt_list dirs;
    bool dry;
    int port;
    long long count;
    double rate;
    int64_t every;
};

static const struct fg_opt table[] = {
    FG_OPT_STR(struct o, policy, "policy", 'p', "FILE", "the policy"),
    FG_OPT_CHOICE(struct o, lang, "lang", 0, "en|nl", "language"),
    FG_OPT_LIST(struct o, dirs, "sensors", 0, "DIR", "add sensor types"),
    FG_OPT_LIST(struct o, dirs, "dir", 0, "DIR", NULL), /* hidden alias */
    FG_OPT_FLAG(struct o, dry, "dry-run", 0, "print only"),
    FG_OPT_INT(struct o, port, "port", 0, "P", "port", 1, 65535),
    FG_OPT_LONG(struct o, count, "count", 0, "N", "count", 1, 1000),
    FG_OPT_DOUBLE(struct o, rate, "rate", 0, "R", "rate"),
    FG_OPT_DURATION(struct o, every, "every", 0, "D", "interval"),
    FG_OPT_OPTSTR(struct o, level, "help-level", "markdown", "level help"),
};
static const struct fg_opt_cmd cmd = {
    "fg test", "FILE [--policy FILE]", "About the test.", table, FG_OPT_N(table), 1, 2};

/* Runs the parser on a NULL-terminated word list with stdout and stderr captured. */
static char out[8192], err[8192];
static int run(struct o *o, char ***args, int *nargs, ...)
{
    static char *argv[32];
    static char words[32][128];
    va_list ap;
    va_start(ap, nargs);
    int argc = 0;
    argv[argc++] = "test";
    for (const char *w; (w = va_arg(ap, const char *));) {
        snprintf(words[argc], sizeof words[argc], "%s", w);
        argv[argc] = words[argc];
        argc++;
    }
    va_end(ap);
    memset(o, 0, sizeof *o);
    FILE *fo = tmpfile(), *fe = tmpfile();
    fflush(stdout);
    fflush(stderr);
    int so = dup(1), se = dup(2);
    dup2(fileno(fo), 1);
    dup2(fileno(fe), 2);
    int rc = fg_opt_parse(&cmd, argc, argv, o, args, nargs);
    fflush(stdout);
    fflush(stderr);
    dup2(so, 1);
    dup2(se, 2);
    close(so);
    close(se);
    rewind(fo);
    rewind(fe);
    size_t n = fread(out, 1, sizeof out - 1, fo);
    out[n] = '\0';
    n = fread(err, 1, sizeof err - 1, fe);
    err[n] = '\0';
    fclose(fo);
    fclose(fe);
    return rc;
}

static void test_values_land_in_the_struct(void **state)
{
    (void)state;
    struct o o;
    char **args;
    int n;
    int rc = run(&o, &args, &n, "a.yaml", "--policy", "p.yaml", "--lang=nl", "--sensors", "d1",
                 "--dir", "d2", "--dry-run", "--port", "8883", "--count", "7", "--rate", "2.5",
                 "--every", "15m", "b.yaml", NULL);
    assert_int_equal(rc, FG_OPT_OK);
    assert_string_equal(o.policy, "p.yaml");
    assert_string_equal(o.lang, "nl");
    assert_int_equal(o.dirs.n, 2);
    assert_string_equal(o.dirs.v[0], "d1");
    assert_string_equal(o.dirs.v[1], "d2");
    assert_true(o.dry);
    assert_int_equal(o.port, 8883);
    assert_int_equal(o.count, 7);
    assert_true(o.rate > 2.49 && o.rate < 2.51);
    assert_int_equal(o.every, 15 * 60 * 1000);
    assert_int_equal(n, 2); /* arguments in order, wherever they stood */
    assert_string_equal(args[0], "a.yaml");
    assert_string_equal(args[1], "b.yaml");
}

static void test_short_name_and_double_dash(void **state)
{
    (void)state;
    struct o o;
    char **args;
    int n;
    assert_int_equal(run(&o, &args, &n, "-p", "x.yaml", "--", "--not-an-option", NULL), FG_OPT_OK);
    assert_string_equal(o.policy, "x.yaml");
    assert_int_equal(n, 1);
    assert_string_equal(args[0], "--not-an-option");
}

static void test_unknown_option_suggests_the_nearest(void **state)
{
    (void)state;
    struct o o;
    assert_int_equal(run(&o, NULL, NULL, "f", "--sensor", "d", NULL), FG_OPT_USAGE);
    assert_non_null(strstr(err, "fg test: unknown option '--sensor' (did you mean '--sensors'?)"));
    assert_int_equal(run(&o, NULL, NULL, "f", "--zzzzzz", NULL), FG_OPT_USAGE);
    assert_non_null(strstr(err, "unknown option '--zzzzzz'"));
    assert_null(strstr(err, "did you mean"));
    assert_int_equal(run(&o, NULL, NULL, "f", "-x", NULL), FG_OPT_USAGE);
}

static void test_bad_values_are_refused(void **state)
{
    (void)state;
    struct o o;
    assert_int_equal(run(&o, NULL, NULL, "f", "--port", "0", NULL), FG_OPT_USAGE);
    assert_non_null(strstr(err, "--port wants a whole number from 1 to 65535, not '0'"));
    assert_int_equal(run(&o, NULL, NULL, "f", "--port", "80x", NULL), FG_OPT_USAGE);
    assert_int_equal(run(&o, NULL, NULL, "f", "--lang", "de", NULL), FG_OPT_USAGE);
    assert_non_null(strstr(err, "--lang must be en|nl, not 'de'"));
    assert_int_equal(run(&o, NULL, NULL, "f", "--rate", "-1", NULL), FG_OPT_USAGE);
    assert_int_equal(run(&o, NULL, NULL, "f", "--every", "soon", NULL), FG_OPT_USAGE);
    assert_int_equal(run(&o, NULL, NULL, "f", "--policy", NULL), FG_OPT_USAGE);
    assert_non_null(strstr(err, "--policy needs a value"));
    assert_int_equal(run(&o, NULL, NULL, "f", "--dry-run=yes", NULL), FG_OPT_USAGE);
}

static void test_argument_count(void **state)
{
    (void)state;
    struct o o;
    assert_int_equal(run(&o, NULL, NULL, NULL), FG_OPT_USAGE);
    assert_int_equal(run(&o, NULL, NULL, "a", "b", "c", NULL), FG_OPT_USAGE);
}

static void test_optional_value(void **state)
{
    (void)state;
    struct o o;
    assert_int_equal(run(&o, NULL, NULL, "f", "--help-level", NULL), FG_OPT_OK);
    assert_string_equal(o.level, "");
    assert_int_equal(run(&o, NULL, NULL, "f", "--help-level=markdown", NULL), FG_OPT_OK);
    assert_string_equal(o.level, "markdown");
}

static void test_help_comes_from_the_table(void **state)
{
    (void)state;
    struct o o;
    assert_int_equal(run(&o, NULL, NULL, "--help", NULL), FG_OPT_HELP);
    assert_int_equal(fg_opt_exit(FG_OPT_HELP), 0);
    assert_non_null(strstr(out, "usage: fg test FILE [--policy FILE]"));
    assert_non_null(strstr(out, "About the test."));
    assert_non_null(strstr(out, "-p, --policy FILE"));
    assert_non_null(strstr(out, "--sensors DIR"));
    assert_non_null(strstr(out, "--help-level[=markdown]"));
    assert_non_null(strstr(out, "-h, --help"));
    assert_null(strstr(out, "--dir")); /* hidden aliases stay hidden */
    assert_int_equal(run(&o, NULL, NULL, "f", "-h", NULL), FG_OPT_HELP);
}

static int sub_ran;
static int sub_main(int argc, char **argv)
{
    (void)argc;
    sub_ran = strcmp(argv[0], "check") == 0;
    return 5;
}

static void test_subcommands(void **state)
{
    (void)state;
    static const struct fg_subcmd subs[] = {{"check", "check it", sub_main},
                                            {"explain", "explain it", sub_main}};
    char *argv[] = {"policy", "check", NULL};
    assert_int_equal(fg_subcmd_run("fg policy", subs, 2, 2, argv), 5);
    assert_true(sub_ran);
    char *bad[] = {"policy", "chek", NULL};
    FILE *fe = tmpfile();
    int se = dup(2);
    dup2(fileno(fe), 2);
    int rc = fg_subcmd_run("fg policy", subs, 2, 2, bad);
    fflush(stderr);
    dup2(se, 2);
    close(se);
    rewind(fe);
    size_t n = fread(err, 1, sizeof err - 1, fe);
    err[n] = '\0';
    fclose(fe);
    assert_int_equal(rc, 2);
    assert_non_null(strstr(err, "unknown command 'chek' (did you mean 'check'?)"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values_land_in_the_struct),
        cmocka_unit_test(test_short_name_and_double_dash),
        cmocka_unit_test(test_unknown_option_suggests_the_nearest),
        cmocka_unit_test(test_bad_values_are_refused),
        cmocka_unit_test(test_argument_count),
        cmocka_unit_test(test_optional_value),
        cmocka_unit_test(test_help_comes_from_the_table),
        cmocka_unit_test(test_subcommands),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
