/* The weakenings section of the report (issue 14): which `trust.weakened` events the
 * last `trust` event of the log came with, shown in red at the top. Self-contained so
 * that a rebuilt report keeps it with two calls. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "common/fg_util.h"

cJSON *audit_weakenings_collect(const char *buf, size_t len)
{
    cJSON *out = NULL; /* NULL until a trust event is seen: older logs have none */
    const char *end = buf + len;
    for (const char *p = buf; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        const char *line = p;
        p += n + 1;
        bool is_trust = memmem(line, n, "\"action\":\"trust\"", 16) != NULL;
        bool is_weak = memmem(line, n, "\"action\":\"trust.weakened\"", 25) != NULL;
        if (!is_trust && !is_weak)
            continue;
        cJSON *ev = audit_parse_line(line, n);
        if (!ev)
            continue;
        const char *act = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ev, "action"));
        if (!strcmp(act, "trust")) {
            cJSON_Delete(out); /* only what the latest start or reload found */
            out = cJSON_CreateArray();
        } else if (!strcmp(act, "trust.weakened") && out) {
            cJSON *w = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(ev, "object"), 1);
            cJSON_AddStringToObject(
                w, "since", cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ev, "time")));
            cJSON_AddItemToArray(out, w);
        }
        cJSON_Delete(ev);
    }
    return out;
}
