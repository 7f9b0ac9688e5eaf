/* The message catalogue: every sentence a works council member or a worker
 * reads (policy explain and diff, the audit report, the subject report) in
 * English, Dutch and German. One key, one text per language; the texts of a key
 * take the same printf conversions in the same order (tests/unit/test_i18n.c
 * checks every key in every language and the conversions). Texts are written
 * for the reader, not translated word for word: only the conversions match. */
#ifndef FG_I18N_H
#define FG_I18N_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum { FG_LANG_EN = 0, FG_LANG_NL, FG_LANG_DE, FG_LANG__COUNT } fg_lang;

struct fg_msg {
    const char *key;
    const char *text[FG_LANG__COUNT];
};

/* "en", "nl", "de" (case-insensitive); false for anything else. */
bool fg_lang_parse(const char *code, fg_lang *out);
const char *fg_lang_code(fg_lang l); /* "en", "nl", "de" */
/* The language a worker reads by default: FAIRGATE_LANG, else LANG/LC_ALL
 * ("nl_NL.UTF-8" -> nl), else English. */
fg_lang fg_lang_from_env(void);

/* The text of key in language l. Never NULL: an unknown key comes back as
 * itself, so a missing text shows instead of crashing (the unit test fails). */
const char *fg_tr(fg_lang l, const char *key);
/* printf with the catalogue text as format. */
int fg_trf(char *buf, size_t len, fg_lang l, const char *key, ...);
void fg_trp(FILE *f, fg_lang l, const char *key, ...);

/* "23 Nov 2026" / "23 nov 2026" / "23. Nov. 2026"; with_time adds ", 08:15 UTC". */
void fg_i18n_date(fg_lang l, int64_t ms, bool with_time, char *buf, size_t len);
/* Whole numbers with the reader's thousands separator: 12,345 / 12.345. */
void fg_i18n_count(fg_lang l, double n, char *buf, size_t len);
/* "15 minutes", "24 hours", "30 days": the largest unit that divides evenly
 * (a day only from two days on: "24 hours" reads better than "1 day"). */
void fg_i18n_duration(fg_lang l, int64_t ms, char *buf, size_t len);
/* A data category ("worker-id") in words; the name itself if unknown. */
const char *fg_i18n_category(fg_lang l, const char *category);

/* For tests: the catalogue, one entry at a time (i < fg_i18n_size()). */
size_t fg_i18n_size(void);
const struct fg_msg *fg_i18n_at(size_t i);

#endif
