/* The weakenings section of the report (issue 14): which `trust.weakened` events the
 * last `trust` event of the log came with, shown in red at the top. Self-contained so
 * that a rebuilt report keeps it with two calls. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"

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

static void esc(FILE *f, const char *s)
{
    for (; s && *s; s++)
        switch (*s) {
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '&':
            fputs("&amp;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        default:
            fputc(*s, f);
        }
}

static const char *plain(const char *kind)
{
    return !strcmp(kind, "trust_key_changed")        ? "a trusted role key was replaced"
           : !strcmp(kind, "required_roles_reduced") ? "fewer roles must sign the policy"
           : !strcmp(kind, "codetermination_off")    ? "a role no longer has to sign the policy"
           : !strcmp(kind, "no_hostname_check")      ? "TLS hostname check switched off (lab mode)"
           : !strcmp(kind, "upstream_tls_off")       ? "data leaves without TLS"
                                                     : "weakened";
}

void audit_weakenings_html(FILE *f, const cJSON *w)
{
    if (!w)
        return;
    int n = cJSON_GetArraySize(w);
    if (n == 0) {
        fputs("<p class=\"ok\" id=\"weakenings\" data-count=\"0\">No weakening of "
              "co-determination is in force (trust keys, required roles, TLS checks as "
              "accepted).</p>\n",
              f);
        return;
    }
    fprintf(f,
            "<div class=\"bad\" id=\"weakenings\" data-count=\"%d\" style=\"color:#b3261e\">"
            "<b>WEAKENED: %d weakening(s) of co-determination in force at the last start</b>"
            "<ul>",
            n, n);
    const cJSON *e;
    cJSON_ArrayForEach(e, w)
    {
        const char *kind = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "kind"));
        fprintf(f, "<li data-kind=\"");
        esc(f, kind);
        fputs("\">", f);
        esc(f, plain(kind ? kind : ""));
        fputs(": <code>", f);
        cJSON *copy = cJSON_Duplicate(e, 1);
        cJSON_DeleteItemFromObject(copy, "since");
        char *s = cJSON_PrintUnformatted(copy);
        esc(f, s);
        free(s);
        cJSON_Delete(copy);
        fputs("</code></li>", f);
    }
    fputs("</ul>Each is recorded in the audit log as <code>trust.weakened</code> at every start "
          "while it lasts.</div>\n",
          f);
}
