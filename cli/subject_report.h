/* What `fairgate subject-report` gathers, and how it is written for the worker
 * (cli/subject_render.c), in the worker's language. */
#ifndef CLI_SUBJECT_REPORT_H
#define CLI_SUBJECT_REPORT_H

#include <stdio.h>

#include "common/fg_i18n.h"
#include "council/reident.h"

#define SUBJECT_MAX_HITS 512

struct subject_flow {
    size_t hit;
    int64_t since_ms, until_ms;
    char destination[160], purpose[200], categories[200];
    double count;
};

/* A re-identification of one of the worker's pseudonyms (from the audit log). */
struct subject_reid {
    size_t hit;
    int64_t when_ms;
    char actor[64], reason[300], result[200];
};

struct subject_report {
    fg_lang lang;
    struct reident_hit hits[SUBJECT_MAX_HITS];
    size_t nhits;
    struct subject_flow *flows;
    size_t nflows;
    struct subject_reid *reids;
    size_t nreids;
    int64_t rotate_ms, keep_keys_ms; /* from the policy in force; 0 if unknown */
    int64_t made_ms;
};

void subject_write_text(FILE *f, const struct subject_report *r);
void subject_write_html(FILE *f, const struct subject_report *r);

#endif
