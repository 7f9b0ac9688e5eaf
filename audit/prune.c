/* Audit log retention: prune the events before a date and put an anchor line on top,
 * so that the first public key still verifies the rest (docs/audit.md, "prune"). */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "audit/audit.h"
#include "common/fg_util.h"

/* ---- prune -------------------------------------------------------------------- */

/* The anchor line (takes handovers and genesis). */
static char *anchor_line(const char *log_id, const cJSON *kept_cp, uint64_t epoch,
                         const char *pkhex, cJSON *handovers, cJSON *genesis, const char *before)
{
    char nowb[32];
    fg_format_time(fg_now_ms(), nowb, sizeof nowb);
    cJSON *root = cJSON_CreateObject(), *an = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "anchor", an);
    cJSON_AddStringToObject(an, "log_id", log_id);
    cJSON_AddItemToObject(an, "seq",
                          cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(kept_cp, "seq"), 0));
    cJSON_AddItemToObject(an, "head",
                          cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(kept_cp, "head"), 0));
    cJSON_AddNumberToObject(an, "epoch", (double)epoch);
    cJSON_AddStringToObject(an, "pubkey", pkhex);
    cJSON_AddItemToObject(an, "handovers", handovers);
    if (genesis)
        cJSON_AddItemToObject(an, "genesis", genesis);
    cJSON_AddStringToObject(an, "pruned_before", before);
    cJSON_AddStringToObject(an, "pruned_at", nowb);
    char *aline = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return aline;
}

fg_err audit_prune(const char *log_path, const char *state_dir, int64_t before_ms,
                   const unsigned char pubkey[32], uint64_t *removed, char *why, size_t why_len)
{
    *removed = 0;
    /* Lock first, then read and verify once: what is rewritten is what was verified. */
    int fd = open(log_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fg_err oe = errno == ENOENT ? FG_ERR_NOT_FOUND : FG_ERR_IO;
        snprintf(why, why_len, "cannot read %s: %s", log_path, fg_strerror(oe));
        return oe;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        snprintf(why, why_len, "%s cannot be locked (is the daemon running?)", log_path);
        close(fd);
        return FG_ERR_IO;
    }
    struct audit_verify_result vr;
    char *buf = NULL;
    size_t len = 0;
    fg_err e = audit_verify_file_text(log_path, pubkey, NULL, &vr, &buf, &len);
    if (e != FG_OK) {
        close(fd);
        snprintf(why, why_len, "cannot read %s: %s", log_path, fg_strerror(e));
        return e;
    }
    if (!vr.ok && vr.damage != AUDIT_LEGACY) { /* a legacy log stays legacy */
        free(buf);
        close(fd);
        snprintf(why, why_len, "%s does not verify (line %zu: %s); refusing to prune", log_path,
                 vr.bad_line, audit_damage_str(vr.damage));
        return FG_ERR_SIGNATURE;
    }
    /* Walk the lines: carry the hand-over chain, find the first checkpoint >= before. */
    cJSON *handovers = cJSON_CreateArray();
    cJSON *genesis = NULL; /* lines 1-2: the sealing bounds and their first seal */
    char log_id[33] = "", pkhex[65] = "";
    uint64_t epoch = 1, nevents = 0;
    const char *keep = NULL;
    cJSON *kept_cp = NULL;
    char *p = buf, *end = buf + len;
    size_t lineno = 0;
    while (p < end && !keep) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            break;
        lineno++;
        if (lineno == 1 && strncmp(p, "{\"anchor\":", 10) == 0) {
            cJSON *j = cJSON_ParseWithLength(p, (size_t)(nl - p));
            cJSON *an = cJSON_GetObjectItemCaseSensitive(j, "anchor");
            const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(an, "log_id"));
            const char *pk = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(an, "pubkey"));
            cJSON *ho = cJSON_GetObjectItemCaseSensitive(an, "handovers");
            if (id && pk && strlen(id) == 32 && strlen(pk) == 64) {
                memcpy(log_id, id, 33);
                memcpy(pkhex, pk, 65);
                epoch =
                    (uint64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(an, "epoch"));
            }
            cJSON *h;
            cJSON_ArrayForEach(h, ho) cJSON_AddItemToArray(handovers, cJSON_Duplicate(h, 1));
            cJSON *g = cJSON_GetObjectItemCaseSensitive(an, "genesis");
            if (g)
                genesis = cJSON_Duplicate(g, 1);
            cJSON_Delete(j);
            p = nl + 1;
            continue;
        }
        cJSON *ev = audit_parse_line(p, (size_t)(nl - p));
        if (!ev) {
            e = FG_ERR_PARSE;
            break;
        }
        const char *act = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ev, "action"));
        cJSON *o = cJSON_GetObjectItemCaseSensitive(ev, "object");
        const char *t = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ev, "time"));
        int64_t ms = 0;
        fg_parse_time(t, strlen(t), &ms);
        if (lineno <= 2 && !genesis && !vr.legacy)
            genesis = cJSON_CreateArray();
        if (lineno <= 2 && genesis && cJSON_GetArraySize(genesis) == (int)lineno - 1) {
            char *copy = strndup(p, (size_t)(nl - p));
            cJSON_AddItemToArray(genesis, cJSON_CreateString(copy ? copy : ""));
            free(copy);
        }
        if (strcmp(act, "log.created") == 0) {
            snprintf(log_id, sizeof log_id, "%s",
                     cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "log_id")));
            snprintf(pkhex, sizeof pkhex, "%s",
                     cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "pubkey")));
        } else if (strcmp(act, "key.handover") == 0) {
            cJSON *h = cJSON_CreateObject();
            cJSON_AddItemToObject(h, "seq",
                                  cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(ev, "seq"), 0));
            cJSON_AddItemToObject(h, "prev",
                                  cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(ev, "prev"), 0));
            cJSON *c;
            cJSON_ArrayForEach(c, o) cJSON_AddItemToObject(h, c->string, cJSON_Duplicate(c, 1));
            cJSON_AddItemToArray(handovers, h);
            epoch = (uint64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o, "epoch"));
            snprintf(pkhex, sizeof pkhex, "%s",
                     cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "pubkey")));
        } else if (strcmp(act, "checkpoint") == 0 && ms >= before_ms && nevents > 0) {
            keep = p;
            kept_cp = cJSON_Duplicate(o, 1);
        }
        if (!keep)
            nevents++;
        cJSON_Delete(ev);
        p = nl + 1;
    }
    if (e != FG_OK || !keep) {
        if (e == FG_OK) {
            snprintf(why, why_len, "no checkpoint at or after that date: nothing to prune");
            e = FG_ERR_NOT_FOUND;
        } else {
            snprintf(why, why_len, "line %zu of %s is not a valid event", lineno, log_path);
        }
        cJSON_Delete(handovers);
        cJSON_Delete(genesis);
        free(buf);
        close(fd);
        return e;
    }
    char tb[32];
    fg_format_time(before_ms, tb, sizeof tb);
    char *aline = anchor_line(log_id, kept_cp, epoch, pkhex, handovers, genesis, tb);
    cJSON_Delete(kept_cp);
    size_t alen = aline ? strlen(aline) : 0, rest = (size_t)(end - keep);
    char *nbuf = aline ? malloc(alen + 1 + rest) : NULL;
    if (!nbuf) {
        free(aline);
        free(buf);
        close(fd);
        return FG_ERR_NOMEM;
    }
    memcpy(nbuf, aline, alen);
    nbuf[alen] = '\n';
    memcpy(nbuf + alen + 1, keep, rest);
    free(aline);
    e = fg_write_file_atomic(log_path, nbuf, alen + 1 + rest, 0640);
    free(nbuf);
    free(buf);
    close(fd); /* lock released: the new file is in place */
    if (e != FG_OK) {
        snprintf(why, why_len, "cannot write %s", log_path);
        return e;
    }
    *removed = nevents;
    struct audit_options opt = {.log_path = log_path, .state_dir = state_dir};
    struct audit *a;
    e = audit_open(&opt, &a, why, why_len);
    if (e != FG_OK)
        return e;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "before", tb);
    cJSON_AddNumberToObject(o, "removed_events", (double)nevents);
    e = audit_append(a, "operator", "audit.pruned", o);
    cJSON_Delete(o);
    audit_close(a);
    return e;
}
