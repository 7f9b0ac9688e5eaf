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

/* What the walk over the verified log carries: the hand-over chain, the genesis lines,
 * the current key and the first checkpoint at or after the cut. */
struct prune_walk {
    cJSON *handovers;
    cJSON *genesis; /* lines 1-2: the sealing bounds and their first seal */
    char log_id[33], pkhex[65];
    uint64_t epoch, nevents;
    const char *keep;
    cJSON *kept_cp;
    size_t lineno;
};

/* Lock first, then read and verify once: what is rewritten is what was verified. */
static fg_err prune_lock_and_verify(const char *log_path, const unsigned char pubkey[32], int *fdp,
                                    struct audit_verify_result *vr, char **buf, size_t *len,
                                    char *why, size_t why_len)
{
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
    fg_err e = audit_verify_file_text(log_path, pubkey, NULL, vr, buf, len);
    if (e != FG_OK) {
        close(fd);
        snprintf(why, why_len, "cannot read %s: %s", log_path, fg_strerror(e));
        return e;
    }
    if (!vr->ok && vr->damage != AUDIT_LEGACY) { /* a legacy log stays legacy */
        free(*buf);
        *buf = NULL;
        close(fd);
        snprintf(why, why_len, "%s does not verify (line %zu: %s); refusing to prune", log_path,
                 vr->bad_line, audit_damage_str(vr->damage));
        return FG_ERR_SIGNATURE;
    }
    *fdp = fd;
    return FG_OK;
}

/* Line 1 of an already pruned log: take over its key, hand-overs and genesis. */
static void prune_walk_anchor(struct prune_walk *w, const char *p, size_t n)
{
    cJSON *j = cJSON_ParseWithLength(p, n);
    cJSON *an = cJSON_GetObjectItemCaseSensitive(j, "anchor");
    const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(an, "log_id"));
    const char *pk = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(an, "pubkey"));
    cJSON *ho = cJSON_GetObjectItemCaseSensitive(an, "handovers");
    if (id && pk && strlen(id) == 32 && strlen(pk) == 64) {
        memcpy(w->log_id, id, 33);
        memcpy(w->pkhex, pk, 65);
        w->epoch = (uint64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(an, "epoch"));
    }
    cJSON *h;
    cJSON_ArrayForEach(h, ho) cJSON_AddItemToArray(w->handovers, cJSON_Duplicate(h, 1));
    cJSON *g = cJSON_GetObjectItemCaseSensitive(an, "genesis");
    if (g)
        w->genesis = cJSON_Duplicate(g, 1);
    cJSON_Delete(j);
}

/* One event line: keep the genesis lines, follow the key, stop at the first checkpoint. */
static void prune_walk_event(struct prune_walk *w, const cJSON *ev, const char *p, size_t n,
                             int64_t before_ms, bool legacy)
{
    const char *act = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ev, "action"));
    cJSON *o = cJSON_GetObjectItemCaseSensitive(ev, "object");
    const char *t = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ev, "time"));
    int64_t ms = 0;
    fg_parse_time(t, strlen(t), &ms);
    if (w->lineno <= 2 && !w->genesis && !legacy)
        w->genesis = cJSON_CreateArray();
    if (w->lineno <= 2 && w->genesis && cJSON_GetArraySize(w->genesis) == (int)w->lineno - 1) {
        char *copy = strndup(p, n);
        cJSON_AddItemToArray(w->genesis, cJSON_CreateString(copy ? copy : ""));
        free(copy);
    }
    if (strcmp(act, "log.created") == 0) {
        snprintf(w->log_id, sizeof w->log_id, "%s",
                 cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "log_id")));
        snprintf(w->pkhex, sizeof w->pkhex, "%s",
                 cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "pubkey")));
    } else if (strcmp(act, "key.handover") == 0) {
        cJSON *h = cJSON_CreateObject();
        cJSON_AddItemToObject(h, "seq",
                              cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(ev, "seq"), 0));
        cJSON_AddItemToObject(h, "prev",
                              cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(ev, "prev"), 0));
        cJSON *c;
        cJSON_ArrayForEach(c, o) cJSON_AddItemToObject(h, c->string, cJSON_Duplicate(c, 1));
        cJSON_AddItemToArray(w->handovers, h);
        w->epoch = (uint64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o, "epoch"));
        snprintf(w->pkhex, sizeof w->pkhex, "%s",
                 cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "pubkey")));
    } else if (strcmp(act, "checkpoint") == 0 && ms >= before_ms && w->nevents > 0) {
        w->keep = p;
        w->kept_cp = cJSON_Duplicate(o, 1);
    }
    if (!w->keep)
        w->nevents++;
}

/* Walk the lines: carry the hand-over chain, find the first checkpoint >= before. */
static fg_err prune_walk_lines(struct prune_walk *w, char *buf, size_t len, int64_t before_ms,
                               bool legacy)
{
    char *p = buf, *end = buf + len;
    while (p < end && !w->keep) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            break;
        w->lineno++;
        if (w->lineno == 1 && strncmp(p, "{\"anchor\":", 10) == 0) {
            prune_walk_anchor(w, p, (size_t)(nl - p));
            p = nl + 1;
            continue;
        }
        cJSON *ev = audit_parse_line(p, (size_t)(nl - p));
        if (!ev)
            return FG_ERR_PARSE;
        prune_walk_event(w, ev, p, (size_t)(nl - p), before_ms, legacy);
        cJSON_Delete(ev);
        p = nl + 1;
    }
    return FG_OK;
}

/* Put the anchor line on top of the kept lines and replace the log atomically. */
static fg_err prune_rewrite(const char *log_path, struct prune_walk *w, const char *end,
                            const char *tb, char *why, size_t why_len)
{
    char *aline =
        anchor_line(w->log_id, w->kept_cp, w->epoch, w->pkhex, w->handovers, w->genesis, tb);
    cJSON_Delete(w->kept_cp);
    size_t alen = aline ? strlen(aline) : 0, rest = (size_t)(end - w->keep);
    char *nbuf = aline ? malloc(alen + 1 + rest) : NULL;
    if (!nbuf) {
        free(aline);
        return FG_ERR_NOMEM;
    }
    memcpy(nbuf, aline, alen);
    nbuf[alen] = '\n';
    memcpy(nbuf + alen + 1, w->keep, rest);
    free(aline);
    fg_err e = fg_write_file_atomic(log_path, nbuf, alen + 1 + rest, 0640);
    free(nbuf);
    if (e != FG_OK)
        snprintf(why, why_len, "cannot write %s", log_path);
    return e;
}

/* The pruned log records that it was pruned. */
static fg_err prune_record(const char *log_path, const char *state_dir, const char *tb,
                           uint64_t nevents, char *why, size_t why_len)
{
    struct audit_options opt = {.log_path = log_path, .state_dir = state_dir};
    struct audit *a;
    fg_err e = audit_open(&opt, &a, why, why_len);
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

fg_err audit_prune(const char *log_path, const char *state_dir, int64_t before_ms,
                   const unsigned char pubkey[32], uint64_t *removed, char *why, size_t why_len)
{
    *removed = 0;
    int fd = -1;
    struct audit_verify_result vr;
    char *buf = NULL;
    size_t len = 0;
    fg_err e = prune_lock_and_verify(log_path, pubkey, &fd, &vr, &buf, &len, why, why_len);
    if (e != FG_OK)
        return e;
    struct prune_walk w = {.handovers = cJSON_CreateArray(), .epoch = 1};
    e = prune_walk_lines(&w, buf, len, before_ms, vr.legacy);
    if (e != FG_OK || !w.keep) {
        if (e == FG_OK) {
            snprintf(why, why_len, "no checkpoint at or after that date: nothing to prune");
            e = FG_ERR_NOT_FOUND;
        } else {
            snprintf(why, why_len, "line %zu of %s is not a valid event", w.lineno, log_path);
        }
        cJSON_Delete(w.handovers);
        cJSON_Delete(w.genesis);
        free(buf);
        close(fd);
        return e;
    }
    char tb[32];
    fg_format_time(before_ms, tb, sizeof tb);
    e = prune_rewrite(log_path, &w, buf + len, tb, why, why_len);
    free(buf);
    close(fd); /* lock released: the new file is in place */
    if (e != FG_OK)
        return e;
    *removed = w.nevents;
    return prune_record(log_path, state_dir, tb, w.nevents, why, why_len);
}
