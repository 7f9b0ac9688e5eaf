/* Audit events as sentences a works council member reads without a manual:
 * who did what, in the reader's language; pseudonyms named as such. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/report_internal.h"

static bool starts(const char *s, const char *prefix)
{
    return !strncmp(s, prefix, strlen(prefix));
}

/* A weakening of co-determination is its own event (`weakening`, or an object
 * flagged with "weakening": true); a policy that took effect without the works
 * council's signature is one too. */
static bool signed_by_council(const cJSON *signers)
{
    const cJSON *s;
    cJSON_ArrayForEach(s, signers)
    {
        const char *role = cJSON_IsString(s) ? s->valuestring : rp_str(s, "role");
        if (!strcmp(role, "works-council"))
            return true;
    }
    return false;
}

enum rp_mark rp_mark_of(const char *act, const cJSON *ob)
{
    const char *result = rp_str(ob, "result");
    if (!strcmp(act, "trust.weakened") || !strcmp(act, "weakening") || starts(act, "weakening.") ||
        cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ob, "weakening")))
        return RP_WEAKENING;
    if ((!strcmp(act, "policy.loaded") || !strcmp(act, "policy.reloaded")) &&
        !signed_by_council(cJSON_GetObjectItemCaseSensitive(ob, "signers")))
        return RP_WEAKENING;
    if (!strcmp(act, "policy.refused"))
        return RP_REFUSED;
    if ((!strcmp(act, "reidentify") || !strcmp(act, "subject_report")) &&
        (starts(result, "refused") || starts(result, "denied")))
        return RP_REFUSED;
    if (!strcmp(act, "policy.expired") || !strcmp(act, "audit.pruned") ||
        !strcmp(act, "trust.accepted") || !strcmp(act, "audit.repaired") ||
        !strcmp(act, "certificate.expiring") ||
        (!strcmp(act, "config.changed") && rp_str(ob, "previous")[0]) ||
        (!strcmp(act, "reidentify") && (starts(result, "not found") || starts(result, "failed"))))
        return RP_ATTENTION;
    return RP_PLAIN;
}

void rp_join(fg_lang l, const cJSON *arr, bool cats, char *buf, size_t len)
{
    size_t n = (size_t)cJSON_GetArraySize(arr), i = 0, at = 0;
    buf[0] = '\0';
    const cJSON *x;
    cJSON_ArrayForEach(x, arr)
    {
        const char *s = cJSON_IsString(x) ? x->valuestring : rp_str(x, "role");
        char item[128];
        if (cats)
            snprintf(item, sizeof item, "%s", fg_i18n_category(l, s));
        else {
            char k[96];
            snprintf(k, sizeof k, "actor.%s", s);
            const char *t = fg_tr(l, k);
            snprintf(item, sizeof item, "%s", t == k ? s : t);
        }
        const char *sep = i == 0 ? "" : i + 1 == n ? " " : ", ";
        int w = snprintf(buf + at, len - at, "%s%s%s%s", sep,
                         i && i + 1 == n ? fg_tr(l, "and") : "", i && i + 1 == n ? " " : "", item);
        if (w < 0 || (size_t)w >= len - at)
            break;
        at += (size_t)w;
        i++;
    }
}

static const char *actor(fg_lang l, const char *a, char *k, size_t klen)
{
    snprintf(k, klen, "actor.%s", a);
    const char *t = fg_tr(l, k);
    return t == k ? a : t;
}

static const char *outcome(fg_lang l, const char *result)
{
    if (starts(result, "revealed") || starts(result, "granted") || starts(result, "produced"))
        return fg_tr(l, "res.revealed");
    if (strstr(result, "not the works council"))
        return fg_tr(l, "res.not_council");
    if (strstr(result, "cannot be read"))
        return fg_tr(l, "res.unreadable_key");
    if (starts(result, "not found"))
        return fg_tr(l, "res.not_found");
    return result[0] ? result : "?";
}

static void rejected_list(fg_lang l, const cJSON *ob, char *buf, size_t len)
{
    size_t at = 0;
    buf[0] = '\0';
    const cJSON *x;
    cJSON_ArrayForEach(x, ob)
    {
        if (!cJSON_IsNumber(x) || !x->string || !strcmp(x->string, "count"))
            continue;
        char k[96], n[32];
        snprintf(k, sizeof k, "reject.%s", x->string);
        const char *t = fg_tr(l, k);
        fg_i18n_count(l, x->valuedouble, n, sizeof n);
        int w = snprintf(buf + at, len - at, "%s%s %s", at ? "; " : "", n, t == k ? x->string : t);
        if (w < 0 || (size_t)w >= len - at)
            break;
        at += (size_t)w;
    }
    if (!at && cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(ob, "count"))) {
        char n[32];
        fg_i18n_count(l, rp_num(ob, "count"), n, sizeof n);
        snprintf(buf, len, "%s %s", n, rp_str(ob, "reason"));
    }
}

void rp_weakening_sentence(fg_lang l, const cJSON *ob, char *buf, size_t len)
{
    const char *kind = rp_str(ob, "kind");
    char k[96], list[256];
    if (!strcmp(kind, "trust_key_changed")) {
        snprintf(k, sizeof k, "actor.%s", rp_str(ob, "role"));
        const char *w = fg_tr(l, k);
        fg_trf(buf, len, l, "wk.trust_key_changed", w == k ? rp_str(ob, "role") : w,
               rp_str(ob, "accepted"), rp_str(ob, "current"));
    } else if (!strcmp(kind, "required_roles_reduced")) {
        rp_join(l, cJSON_GetObjectItemCaseSensitive(ob, "no_longer_required"), false, list,
                sizeof list);
        fg_trf(buf, len, l, "wk.required_roles_reduced", list);
    } else if (!strcmp(kind, "codetermination_off")) {
        snprintf(k, sizeof k, "actor.%s", rp_str(ob, "not_required"));
        const char *w = fg_tr(l, k);
        fg_trf(buf, len, l, "wk.codetermination_off", w == k ? rp_str(ob, "not_required") : w);
    } else if (!strcmp(kind, "no_hostname_check")) {
        fg_trf(buf, len, l,
               !strcmp(rp_str(ob, "link"), "local") ? "wk.no_hostname_check.local"
                                                    : "wk.no_hostname_check.upstream");
    } else if (!strcmp(kind, "upstream_tls_off")) {
        fg_trf(buf, len, l, "wk.upstream_tls_off");
    } else {
        char *s = cJSON_PrintUnformatted(ob);
        fg_trf(buf, len, l, "wk.other", s ? s : kind);
        free(s);
    }
}

static void generic(const cJSON *ev, const cJSON *ob, char *buf, size_t len)
{
    size_t at = (size_t)snprintf(buf, len, "%s", rp_str(ev, "action"));
    const cJSON *c;
    cJSON_ArrayForEach(c, ob)
    {
        if (at >= len || !strcmp(c->string, "digest") || !strcmp(c->string, "sig"))
            continue;
        char *v = cJSON_IsString(c) ? NULL : cJSON_PrintUnformatted(c);
        int w = snprintf(buf + at, len - at, "%s%s: %s", at ? "; " : "", c->string,
                         cJSON_IsString(c) ? c->valuestring
                         : v               ? v
                                           : "");
        free(v);
        if (w < 0)
            break;
        at += (size_t)w;
    }
}

static void count_text(fg_lang l, const cJSON *ob, const char *k, char *buf, size_t len)
{
    fg_i18n_count(l, rp_num(ob, k), buf, len);
}

void rp_event_sentence(fg_lang l, const cJSON *ev, char *buf, size_t len)
{
    const char *act = rp_str(ev, "action");
    const cJSON *ob = cJSON_GetObjectItemCaseSensitive(ev, "object");
    char ak[96], a[64], b[64], c[64], list[512];
    const char *who = actor(l, rp_str(ev, "actor"), ak, sizeof ak);
    if (!strcmp(act, "log.created")) {
        fg_trf(buf, len, l, "ev.log.created", rp_str(ob, "fingerprint"));
    } else if (!strcmp(act, "gateway.start")) {
        int n = fg_trf(buf, len, l, "ev.gateway.start", rp_str(ob, "version"));
        if (rp_num(ob, "recovered") > 0 && n > 0 && (size_t)n < len) {
            count_text(l, ob, "recovered", a, sizeof a);
            fg_trf(buf + n, len - (size_t)n, l, "ev.gateway.start.recovered", a);
        }
    } else if (!strcmp(act, "gateway.stop")) {
        count_text(l, ob, "inputs", a, sizeof a);
        count_text(l, ob, "delivered", b, sizeof b);
        count_text(l, ob, "left_in_outbox", c, sizeof c);
        fg_trf(buf, len, l, "ev.gateway.stop", a, b, c);
    } else if (!strcmp(act, "policy.loaded") || !strcmp(act, "policy.reloaded")) {
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(ob, "signers");
        rp_join(l, s, false, list, sizeof list);
        snprintf(a, sizeof a, "%.0f", rp_num(ob, "version"));
        fg_trf(buf, len, l,
               !signed_by_council(s) ? "ev.policy.loaded.unsigned"
               : act[7] == 'r'       ? "ev.policy.reloaded"
                                     : "ev.policy.loaded",
               rp_str(ob, "policy"), a, list[0] ? list : "-");
    } else if (!strcmp(act, "policy.refused")) {
        fg_trf(buf, len, l,
               cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(ob, "previous_stays"))
                   ? "ev.policy.refused.none"
                   : "ev.policy.refused",
               rp_str(ob, "reason"));
    } else if (!strcmp(act, "policy.expired")) {
        snprintf(a, sizeof a, "%.0f", rp_num(ob, "version"));
        fg_trf(buf, len, l, "ev.policy.expired", rp_str(ob, "policy"), a);
    } else if (!strcmp(act, "config.changed")) {
        fg_trf(buf, len, l,
               rp_str(ob, "previous")[0] ? "ev.config.changed" : "ev.config.changed.first");
    } else if (!strcmp(act, "outbox.purged")) {
        count_text(l, ob, "count", a, sizeof a);
        fg_trf(buf, len, l, "ev.outbox.purged", a, rp_str(ob, "route"));
    } else if (!strcmp(act, "pseudonym.rotated") || !strcmp(act, "pseudonym.key_destroyed")) {
        fg_trf(buf, len, l, act[10] == 'r' ? "ev.pseudonym.rotated" : "ev.pseudonym.destroyed");
    } else if (!strcmp(act, "reidentify")) {
        const char *ps = rp_str(ob, "pseudonym");
        fg_trf(buf, len, l, "ev.reidentify", who, ps[0] ? ps : "-", rp_str(ob, "route"),
               rp_str(ob, "reason"), outcome(l, rp_str(ob, "result")));
    } else if (!strcmp(act, "subject_report")) {
        if (starts(rp_str(ob, "result"), "refused"))
            fg_trf(buf, len, l, "ev.subject_report.refused", who, outcome(l, rp_str(ob, "result")));
        else {
            count_text(l, ob, "pseudonyms", a, sizeof a);
            count_text(l, ob, "flows", b, sizeof b);
            fg_trf(buf, len, l, "ev.subject_report", who, a, b);
        }
    } else if (!strcmp(act, "audit.read") || !strcmp(act, "audit.export")) {
        fg_trf(buf, len, l, act[6] == 'r' ? "ev.audit.read" : "ev.audit.export", who,
               rp_str(ob, act[6] == 'r' ? "command" : "format"));
    } else if (!strcmp(act, "audit.pruned")) {
        count_text(l, ob, "removed_events", a, sizeof a);
        fg_trf(buf, len, l, "ev.audit.pruned", rp_str(ob, "before"), a);
    } else if (!strcmp(act, "audit.repaired")) {
        count_text(l, ob, "torn_bytes", a, sizeof a);
        fg_trf(buf, len, l, "ev.audit.repaired", a);
    } else if (!strcmp(act, "upstream.connected") || !strcmp(act, "upstream.lost")) {
        const char *host = rp_str(ob, "broker")[0] ? rp_str(ob, "broker") : rp_str(ob, "upstream");
        fg_trf(buf, len, l, act[9] == 'c' ? "ev.upstream.connected" : "ev.upstream.lost", host);
    } else if (!strcmp(act, "input.rejected")) {
        rejected_list(l, ob, list, sizeof list);
        fg_trf(buf, len, l, "ev.input.rejected", list);
    } else if (!strcmp(act, "trust.weakened")) {
        char w[1024];
        rp_weakening_sentence(l, ob, w, sizeof w);
        fg_trf(buf, len, l, "ev.trust.weakened", w);
    } else if (!strcmp(act, "trust") || !strcmp(act, "trust.accepted")) {
        char roles[512] = "";
        size_t at = 0;
        const cJSON *r;
        cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(ob, "roles"))
        {
            char k[96];
            snprintf(k, sizeof k, "actor.%s", r->string);
            const char *w = fg_tr(l, k);
            int n = snprintf(roles + at, sizeof roles - at, "%s%s %s", at ? "; " : "",
                             w == k ? r->string : w, cJSON_IsString(r) ? r->valuestring : "?");
            if (n < 0 || (size_t)n >= sizeof roles - at)
                break;
            at += (size_t)n;
        }
        rp_join(l, cJSON_GetObjectItemCaseSensitive(ob, "required"), false, list, sizeof list);
        fg_trf(buf, len, l, act[5] ? "ev.trust.accepted" : "ev.trust", roles[0] ? roles : "-",
               list[0] ? list : "-");
    } else if (!strcmp(act, "certificate.expiring")) {
        count_text(l, ob, "days_left", a, sizeof a);
        fg_trf(buf, len, l,
               !strcmp(rp_str(ob, "link"), "local") ? "ev.cert.local" : "ev.cert.upstream", a);
    } else {
        generic(ev, ob, buf, len);
    }
    /* a sentence that starts with "the gateway" starts with a capital */
    if (buf[0] >= 'a' && buf[0] <= 'z')
        buf[0] = (char)(buf[0] - 'a' + 'A');
}
