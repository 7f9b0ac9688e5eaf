/* The message catalogue: every key has a text in every language, keys are
 * unique, and the texts of a key take the same printf conversions in the same
 * order (a translation that drops or swaps a %s would print garbage or crash). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/fg_i18n.h"

/* The conversions of a format, e.g. "%s%d%s" for "a %s b %d %% c %s". */
static void conversions(const char *fmt, char *out, size_t len)
{
    size_t at = 0;
    for (const char *p = fmt; *p; p++) {
        if (*p != '%')
            continue;
        p++;
        if (*p == '%')
            continue;
        while (*p && strchr("-+ #0123456789.*lhz", *p))
            p++;
        if (at + 2 < len) {
            out[at++] = '%';
            out[at++] = *p;
        }
        if (!*p)
            break;
    }
    out[at] = '\0';
}

static void test_every_key_in_every_language(void **state)
{
    (void)state;
    size_t n = fg_i18n_size();
    assert_true(n > 150);
    for (size_t i = 0; i < n; i++) {
        const struct fg_msg *m = fg_i18n_at(i);
        assert_non_null(m);
        char ref[64], got[64];
        conversions(m->text[FG_LANG_EN] ? m->text[FG_LANG_EN] : "", ref, sizeof ref);
        for (int l = 0; l < FG_LANG__COUNT; l++) {
            if (!m->text[l] || !m->text[l][0])
                fail_msg("key '%s' has no %s text", m->key, fg_lang_code((fg_lang)l));
            conversions(m->text[l], got, sizeof got);
            if (strcmp(ref, got))
                fail_msg("key '%s': %s text takes '%s', English takes '%s'", m->key,
                         fg_lang_code((fg_lang)l), got, ref);
        }
        for (size_t k = i + 1; k < n; k++)
            if (!strcmp(m->key, fg_i18n_at(k)->key))
                fail_msg("key '%s' appears twice", m->key);
    }
}

/* Dutch and German are not English with other words: a text identical to the
 * English one in a sentence-length key is almost always a forgotten translation. */
static void test_translations_are_not_copies(void **state)
{
    (void)state;
    for (size_t i = 0; i < fg_i18n_size(); i++) {
        const struct fg_msg *m = fg_i18n_at(i);
        if (strlen(m->text[FG_LANG_EN]) < 30)
            continue;
        for (int l = FG_LANG_NL; l < FG_LANG__COUNT; l++)
            if (!strcmp(m->text[l], m->text[FG_LANG_EN]))
                fail_msg("key '%s': the %s text is the English one", m->key,
                         fg_lang_code((fg_lang)l));
    }
}

static void test_lookup_and_formatting(void **state)
{
    (void)state;
    fg_lang l;
    assert_true(fg_lang_parse("NL", &l));
    assert_int_equal(l, FG_LANG_NL);
    assert_false(fg_lang_parse("fr", &l));
    assert_string_equal(fg_tr(FG_LANG_NL, "every.hour"), "elk uur");
    assert_string_equal(fg_tr(FG_LANG_DE, "no.such.key"), "no.such.key");
    char b[64];
    fg_i18n_count(FG_LANG_EN, 1234567, b, sizeof b);
    assert_string_equal(b, "1,234,567");
    fg_i18n_count(FG_LANG_DE, 1234, b, sizeof b);
    assert_string_equal(b, "1.234");
    fg_i18n_count(FG_LANG_NL, 999, b, sizeof b);
    assert_string_equal(b, "999");
    /* 2026-11-23T08:15:00Z */
    fg_i18n_date(FG_LANG_NL, 1795421700000LL, true, b, sizeof b);
    assert_string_equal(b, "23 nov 2026, 08:15 UTC");
    fg_i18n_date(FG_LANG_DE, 1795421700000LL, false, b, sizeof b);
    assert_string_equal(b, "23. Nov. 2026");
    fg_i18n_duration(FG_LANG_NL, 3600000, b, sizeof b);
    assert_string_equal(b, "1 uur");
    fg_i18n_duration(FG_LANG_DE, 30 * 86400000LL, b, sizeof b);
    assert_string_equal(b, "30 Tage");
    fg_i18n_duration(FG_LANG_EN, 86400000, b, sizeof b);
    assert_string_equal(b, "24 hours");
    assert_string_equal(fg_i18n_category(FG_LANG_DE, "worker-id"), "Kennung einer Person");
    assert_string_equal(fg_i18n_category(FG_LANG_DE, "no-such"), "no-such");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_key_in_every_language),
        cmocka_unit_test(test_translations_are_not_copies),
        cmocka_unit_test(test_lookup_and_formatting),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
