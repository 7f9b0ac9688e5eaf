/* Private to audit/report*.c: what the works council report gathers from the
 * verified log (report.c), and how it is written (report_page.c: first page and
 * charts; report_events.c: the events in words). */
#ifndef AUDIT_REPORT_INTERNAL_H
#define AUDIT_REPORT_INTERNAL_H

#include <stdbool.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "audit/audit.h"
#include "common/fg_i18n.h"

/* A tiny ordered tally; report cardinalities are small (categories, routes, days). */
struct rp_item {
    char *key, *extra;
    double n;
};
struct rp_tally {
    struct rp_item *v;
    size_t n, cap;
};
bool rp_tally_add(struct rp_tally *t, const char *key, double n, const char *extra);
void rp_tally_free(struct rp_tally *t);
const struct rp_item *rp_tally_get(const struct rp_tally *t, const char *key);

/* How an event is shown: refused and weakening events stand out. */
enum rp_mark { RP_PLAIN = 0, RP_REFUSED, RP_WEAKENING, RP_ATTENTION };

struct rp_data {
    fg_lang lang;
    const struct audit_report_options *opt;
    const struct audit_verify_result *vr;
    struct rp_tally cats, dests, purposes, days, routes, route_days, rejected, purged_routes;
    cJSON *events; /* everything but flow summaries and seals, in log order */
    cJSON *gaps;   /* {from_ms, to_ms, kind: "silence"|"restart"|"crash"} */
    cJSON *weak;   /* trust.weakened objects in force at the last start; NULL: no trust events */
    double total, purged, rejected_total;
    size_t nflows, nseals, nhandovers;
    size_t nrefused, nweak, nreid, nsubject, nreads, nattention;
    int64_t first_ms, last_ms;
    char pruned_before[40]; /* the anchor's date if the log was pruned */
};

/* Classifies an event (action and object). */
enum rp_mark rp_mark_of(const char *action, const cJSON *object);
/* A trust.weakened object in words. */
void rp_weakening_sentence(fg_lang l, const cJSON *object, char *buf, size_t len);
/* One event as a sentence in the reader's language (plain text, not escaped). */
void rp_event_sentence(fg_lang l, const cJSON *ev, char *buf, size_t len);
/* A list "a, b and c" of the strings of a JSON array, in the reader's words for
 * categories when cats is set. */
void rp_join(fg_lang l, const cJSON *arr, bool cats, char *buf, size_t len);

void rp_write_page(FILE *f, const struct rp_data *d);
/* report_charts.c: charts over time, tables with exact numbers, the event list. */
void rp_write_charts(FILE *f, const struct rp_data *d);
void rp_write_events(FILE *f, const struct rp_data *d);

static inline const char *rp_str(const cJSON *o, const char *k)
{
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
    return s ? s : "";
}
static inline double rp_num(const cJSON *o, const char *k)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(j) ? j->valuedouble : 0;
}

/* A catalogue sentence with its arguments, HTML-escaped as a whole. */
void rp_say(FILE *f, const struct rp_data *d, const char *key, ...);

#endif
