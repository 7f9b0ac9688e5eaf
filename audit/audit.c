/* Audit log writer: append, checkpoint, epoch hand-over, torn-tail repair, prune.
 * Out-of-memory policy: return FG_ERR_NOMEM, never abort (the gateway keeps running
 * and reports that it cannot audit). */
#include "audit/audit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "audit/audit_format.h"
#include "common/fg_log.h"
#include "common/fg_util.h"

#define COMP "audit"
#define AUDIT_MAX_LINE (64 * 1024)
#define SK_LEN crypto_sign_SECRETKEYBYTES

struct audit {
    pthread_mutex_t mu;
    int fd;
    char *log_path, *state_dir;
    int cp_events, cp_ms, fsync_ms;
    enum audit_fsync fsync_mode;
    struct audit_bounds bounds; /* what this writer guarantees (<= the log's stated bounds) */
    bool log_bounds_known;      /* the log states bounds (false: a legacy log) */
    int64_t run_start_ms;       /* log time of the first line after the last checkpoint */
    int64_t epoch_start_ms;     /* log time of the current epoch's hand-over */
    char log_id[33];
    uint64_t seq;           /* seq of the last line written */
    unsigned char head[32]; /* BLAKE2b-256 of the last line */
    uint64_t epoch;
    unsigned char *sk; /* sodium_malloc'd; sodium_free wipes it */
    unsigned char pk[32], first_pk[32];
    bool last_is_checkpoint;
    uint64_t since_cp;
    int64_t last_cp_ms, last_fsync_ms;
    bool dirty;
    off_t size;
};

/* ---- small helpers -------------------------------------------------------------- */

static void to_hex(char *out, size_t out_len, const unsigned char *bin, size_t len)
{
    sodium_bin2hex(out, out_len, bin, len);
}

static void key_path(char *out, size_t len, const char *dir, uint64_t epoch)
{
    snprintf(out, len, "%s/audit-epoch-%06llu.key", dir, (unsigned long long)epoch);
}

/* The bounds a configuration asks for: 0 means the default, < 0 the loosest bound
 * (a log without any bound could not be checked for stripped seals). */
static struct audit_bounds bounds_of(const struct audit_options *o)
{
    struct audit_bounds b = {
        .events = o->checkpoint_every_events > 0   ? (uint64_t)o->checkpoint_every_events
                  : o->checkpoint_every_events < 0 ? AUDIT_BOUND_MAX_EVENTS
                                                   : 1000,
        .interval_ms = o->checkpoint_every_ms > 0   ? o->checkpoint_every_ms
                       : o->checkpoint_every_ms < 0 ? AUDIT_BOUND_MAX_INTERVAL_MS
                                                    : 300000,
        .rotate_ms = o->rotate_every_ms > 0   ? o->rotate_every_ms
                     : o->rotate_every_ms < 0 ? AUDIT_BOUND_MAX_ROTATE_MS
                                              : 86400000,
    };
    if (b.events > AUDIT_BOUND_MAX_EVENTS)
        b.events = AUDIT_BOUND_MAX_EVENTS;
    if (b.interval_ms > AUDIT_BOUND_MAX_INTERVAL_MS)
        b.interval_ms = AUDIT_BOUND_MAX_INTERVAL_MS;
    if (b.rotate_ms > AUDIT_BOUND_MAX_ROTATE_MS)
        b.rotate_ms = AUDIT_BOUND_MAX_ROTATE_MS;
    return b;
}

/* ---- writing -------------------------------------------------------------------- */

/* Takes ownership of obj. ms < 0 means now. Caller holds the mutex. */
static fg_err append_locked(struct audit *a, const char *actor, const char *action, cJSON *obj,
                            int64_t ms)
{
    char tbuf[32], prev[65];
    const char *time_str = tbuf;
    if (ms < 0)
        ms = fg_now_ms();
    fg_format_time(ms, tbuf, sizeof tbuf);
    to_hex(prev, sizeof prev, a->head, 32);
    cJSON *ev = cJSON_CreateObject();
    if (!ev) {
        cJSON_Delete(obj);
        return FG_ERR_NOMEM;
    }
    bool ok = cJSON_AddNumberToObject(ev, "seq", (double)(a->seq + 1)) &&
              cJSON_AddStringToObject(ev, "time", time_str) &&
              cJSON_AddStringToObject(ev, "actor", actor) &&
              cJSON_AddStringToObject(ev, "action", action);
    if (ok)
        ok = cJSON_AddItemToObject(ev, "object", obj);
    else
        cJSON_Delete(obj);
    ok = ok && cJSON_AddStringToObject(ev, "prev", prev);
    char *line = ok ? cJSON_PrintUnformatted(ev) : NULL;
    cJSON_Delete(ev);
    if (!line)
        return FG_ERR_NOMEM;
    size_t n = strlen(line);
    if (n > AUDIT_MAX_LINE) {
        free(line);
        return FG_ERR_TOO_BIG;
    }
    /* One writev: a kill -9 cannot split it; a full disk can, so undo partial lines. */
    struct iovec iov[2] = {{line, n}, {"\n", 1}};
    size_t total = n + 1, done = 0;
    while (done < total) {
        ssize_t w;
        if (done == 0)
            w = writev(a->fd, iov, 2);
        else if (done < n)
            w = write(a->fd, line + done, n - done);
        else
            w = write(a->fd, "\n", 1);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int err = errno;
            if (ftruncate(a->fd, a->size) != 0)
                fg_error(COMP, "cannot undo a partial write: %s", strerror(errno));
            free(line);
            fg_error(COMP, "cannot append to %s: %s", a->log_path, strerror(err));
            return FG_ERR_IO;
        }
        done += (size_t)w;
    }
    crypto_generichash(a->head, 32, (const unsigned char *)line, n, NULL, 0);
    free(line);
    a->seq++;
    a->size += (off_t)total;
    a->dirty = true;
    a->last_is_checkpoint = false;
    if (a->since_cp++ == 0)
        a->run_start_ms = ms;
    if (a->fsync_mode == AUDIT_FSYNC_ALWAYS) {
        if (fdatasync(a->fd) != 0)
            return FG_ERR_IO;
        a->dirty = false;
    }
    return FG_OK;
}

static fg_err checkpoint_locked(struct audit *a)
{
    if (a->last_is_checkpoint || a->seq == 0)
        return FG_OK;
    char t[32], head[65], sighex[2 * crypto_sign_BYTES + 1], msg[512];
    unsigned char sig[crypto_sign_BYTES];
    int64_t now = fg_now_ms();
    fg_format_time(now, t, sizeof t);
    to_hex(head, sizeof head, a->head, 32);
    size_t mlen = audit_checkpoint_message(msg, sizeof msg, a->log_id, a->seq, head, a->epoch, t);
    if (!mlen || crypto_sign_detached(sig, NULL, (unsigned char *)msg, mlen, a->sk) != 0)
        return FG_ERR_CRYPTO;
    to_hex(sighex, sizeof sighex, sig, sizeof sig);
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddNumberToObject(o, "seq", (double)a->seq) ||
        !cJSON_AddStringToObject(o, "head", head) ||
        !cJSON_AddNumberToObject(o, "epoch", (double)a->epoch) ||
        !cJSON_AddStringToObject(o, "sig", sighex)) {
        cJSON_Delete(o);
        return FG_ERR_NOMEM;
    }
    fg_err e = append_locked(a, "gateway", "checkpoint", o, now);
    if (e != FG_OK)
        return e;
    a->last_is_checkpoint = true;
    a->since_cp = 0;
    a->last_cp_ms = fg_monotonic_ms();
    return FG_OK;
}

static fg_err rotate_locked(struct audit *a)
{
    fg_err e = checkpoint_locked(a);
    if (e != FG_OK)
        return e;
    unsigned char *nsk = sodium_malloc(SK_LEN);
    unsigned char npk[32], sig[crypto_sign_BYTES];
    if (!nsk)
        return FG_ERR_NOMEM;
    crypto_sign_keypair(npk, nsk);
    uint64_t ne = a->epoch + 1;
    char npath[4096], opath[4096], pkhex[65], prev[65], sighex[129], msg[512];
    key_path(npath, sizeof npath, a->state_dir, ne);
    key_path(opath, sizeof opath, a->state_dir, a->epoch);
    /* New key durable first: a crash before the hand-over line leaves a stray key
     * file that the next open wipes; the log still names the old epoch. */
    e = fg_write_file_atomic(npath, nsk, SK_LEN, 0600);
    if (e != FG_OK) {
        sodium_free(nsk);
        return e;
    }
    to_hex(pkhex, sizeof pkhex, npk, 32);
    to_hex(prev, sizeof prev, a->head, 32);
    size_t mlen = audit_handover_message(msg, sizeof msg, a->log_id, a->seq + 1, prev, ne, pkhex);
    cJSON *o = NULL;
    if (!mlen || crypto_sign_detached(sig, NULL, (unsigned char *)msg, mlen, a->sk) != 0) {
        e = FG_ERR_CRYPTO;
    } else {
        to_hex(sighex, sizeof sighex, sig, sizeof sig);
        o = cJSON_CreateObject();
        if (!o || !cJSON_AddNumberToObject(o, "epoch", (double)ne) ||
            !cJSON_AddStringToObject(o, "pubkey", pkhex) ||
            !cJSON_AddStringToObject(o, "sig", sighex)) {
            cJSON_Delete(o);
            e = FG_ERR_NOMEM;
        } else {
            e = append_locked(a, "gateway", "key.handover", o, -1);
        }
    }
    if (e == FG_OK && fdatasync(a->fd) != 0)
        e = FG_ERR_IO;
    if (e != FG_OK) {
        audit_wipe_file(npath);
        sodium_free(nsk);
        return e;
    }
    a->dirty = false;
    sodium_free(a->sk); /* sodium_free zeroes before unmapping */
    audit_wipe_file(opath);
    a->sk = nsk;
    a->epoch = ne;
    a->epoch_start_ms = a->run_start_ms; /* the hand-over line opened this run */
    memcpy(a->pk, npk, 32);
    fg_info(COMP, "epoch %llu started", (unsigned long long)ne);
    return FG_OK;
}

/* ---- open: scan, repair, continue ----------------------------------------------- */

struct scan {
    bool have_id;
    off_t torn_off;
    size_t torn_len;
    unsigned char torn_hash[32];
    size_t bad_last; /* line number of the last line if it is not an event */
    size_t lines;
    bool has_bounds; /* log.created (or the anchor's copy of it) states sealing bounds */
    struct audit_bounds bounds;
};

static void scan_bounds(struct scan *s, const cJSON *created_obj)
{
    s->has_bounds =
        audit_bounds_from_json(cJSON_GetObjectItemCaseSensitive(created_obj, "seal"), &s->bounds);
}

static bool scan_anchor(struct audit *a, struct scan *s, const char *line, size_t len)
{
    cJSON *j = cJSON_ParseWithLength(line, len);
    const cJSON *an = cJSON_GetObjectItemCaseSensitive(j, "anchor");
    const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(an, "log_id"));
    const cJSON *seq = cJSON_GetObjectItemCaseSensitive(an, "seq");
    const cJSON *ep = cJSON_GetObjectItemCaseSensitive(an, "epoch");
    bool ok = id && strlen(id) == 32 && audit_is_uint(seq) && audit_is_uint(ep) &&
              audit_from_hex(a->head, 32,
                             cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(an, "head"))) &&
              audit_from_hex(a->pk, 32,
                             cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(an, "pubkey")));
    if (ok) {
        memcpy(a->log_id, id, 33);
        a->seq = (uint64_t)seq->valuedouble;
        a->epoch = (uint64_t)ep->valuedouble;
        /* the pruned log keeps its first two lines (the sealed bounds) in the anchor */
        const char *g0 = cJSON_GetStringValue(
            cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(an, "genesis"), 0));
        cJSON *created = g0 ? audit_parse_line(g0, strlen(g0)) : NULL;
        scan_bounds(s, cJSON_GetObjectItemCaseSensitive(created, "object"));
        cJSON_Delete(created);
    }
    cJSON_Delete(j);
    return ok;
}

static fg_err scan_log(struct audit *a, struct scan *s)
{
    int fd2 = dup(a->fd);
    FILE *f = fd2 >= 0 ? fdopen(fd2, "r") : NULL;
    if (!f) {
        if (fd2 >= 0)
            close(fd2);
        return FG_ERR_IO;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    off_t off = 0;
    memset(s, 0, sizeof *s);
    s->torn_off = -1;
    while ((n = getline(&line, &cap, f)) > 0) {
        if (line[n - 1] != '\n') {
            s->torn_off = off;
            s->torn_len = (size_t)n;
            crypto_generichash(s->torn_hash, 32, (unsigned char *)line, (size_t)n, NULL, 0);
            break;
        }
        size_t len = (size_t)n - 1;
        s->lines++;
        off += n;
        if (s->lines == 1 && strncmp(line, "{\"anchor\":", 10) == 0) {
            s->have_id = scan_anchor(a, s, line, len);
            s->bad_last = s->have_id ? 0 : s->lines;
            a->last_is_checkpoint = false;
            continue;
        }
        crypto_generichash(a->head, 32, (unsigned char *)line, len, NULL, 0);
        cJSON *ev = audit_parse_line(line, len);
        if (!ev) {
            fg_warn(COMP, "line %zu of %s is not a valid event; run fairgate audit verify",
                    s->lines, a->log_path);
            s->bad_last = s->lines;
            continue;
        }
        s->bad_last = 0;
        a->seq = (uint64_t)cJSON_GetObjectItemCaseSensitive(ev, "seq")->valuedouble;
        const char *act = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ev, "action"));
        const cJSON *o = cJSON_GetObjectItemCaseSensitive(ev, "object");
        const cJSON *ep = cJSON_GetObjectItemCaseSensitive(o, "epoch");
        const char *pk = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "pubkey"));
        const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "log_id"));
        if (strcmp(act, "log.created") == 0 && id && strlen(id) == 32 &&
            audit_from_hex(a->pk, 32, pk)) {
            memcpy(a->log_id, id, 33);
            memcpy(a->first_pk, a->pk, 32);
            a->epoch = 1;
            s->have_id = true;
            scan_bounds(s, o);
        } else if (strcmp(act, "key.handover") == 0 && audit_is_uint(ep) &&
                   audit_from_hex(a->pk, 32, pk)) {
            a->epoch = (uint64_t)ep->valuedouble;
        }
        a->last_is_checkpoint = strcmp(act, "checkpoint") == 0;
        a->since_cp = a->last_is_checkpoint ? 0 : a->since_cp + 1;
        cJSON_Delete(ev);
    }
    free(line);
    fclose(f);
    a->size = off;
    return FG_OK;
}

/* Wipes every audit-epoch-* key file but the current one: leftovers of a crash
 * mid-rotation. */
static void wipe_stale_keys(struct audit *a)
{
    DIR *d = opendir(a->state_dir);
    if (!d)
        return;
    char keep[64], path[4096];
    snprintf(keep, sizeof keep, "audit-epoch-%06llu.key", (unsigned long long)a->epoch);
    struct dirent *de;
    while ((de = readdir(d))) {
        /* also "*.key.tmp.PID" left by a kill during an atomic write: it holds a secret */
        if (strncmp(de->d_name, "audit-epoch-", 12) == 0 && strstr(de->d_name, ".key") &&
            strcmp(de->d_name, keep) != 0) {
            snprintf(path, sizeof path, "%s/%s", a->state_dir, de->d_name);
            fg_warn(COMP, "wiping stale key file %s", path);
            audit_wipe_file(path);
        }
    }
    closedir(d);
}

static bool add_bounds(cJSON *o, const struct audit_bounds *b)
{
    cJSON *s = cJSON_AddObjectToObject(o, "seal");
    return s && cJSON_AddNumberToObject(s, "events", (double)b->events) &&
           cJSON_AddNumberToObject(s, "interval_ms", (double)b->interval_ms) &&
           cJSON_AddNumberToObject(s, "rotate_ms", (double)b->rotate_ms);
}

static fg_err create_log(struct audit *a, char *why, size_t why_len)
{
    unsigned char id[16];
    char pkhex[65], fp[32], path[4096];
    randombytes_buf(id, sizeof id);
    to_hex(a->log_id, sizeof a->log_id, id, sizeof id);
    a->sk = sodium_malloc(SK_LEN);
    if (!a->sk)
        return FG_ERR_NOMEM;
    crypto_sign_keypair(a->pk, a->sk);
    memcpy(a->first_pk, a->pk, 32);
    a->epoch = 1;
    wipe_stale_keys(a);
    key_path(path, sizeof path, a->state_dir, 1);
    fg_err e = fg_write_file_atomic(path, a->sk, SK_LEN, 0600);
    if (e != FG_OK) {
        snprintf(why, why_len, "cannot write %s: %s", path, strerror(errno));
        return e;
    }
    to_hex(pkhex, sizeof pkhex, a->pk, 32);
    audit_fingerprint(a->pk, fp, sizeof fp);
    char line[80];
    int n = snprintf(line, sizeof line, "%s\n", pkhex);
    snprintf(path, sizeof path, "%s/audit-first.pub", a->state_dir);
    e = fg_write_file_atomic(path, line, (size_t)n, 0644);
    if (e != FG_OK) {
        snprintf(why, why_len, "cannot write %s", path);
        return e;
    }
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddStringToObject(o, "log_id", a->log_id) ||
        !cJSON_AddNumberToObject(o, "epoch", 1) || !cJSON_AddStringToObject(o, "pubkey", pkhex) ||
        !cJSON_AddStringToObject(o, "fingerprint", fp) || !add_bounds(o, &a->bounds)) {
        cJSON_Delete(o);
        return FG_ERR_NOMEM;
    }
    a->log_bounds_known = true;
    e = append_locked(a, "gateway", "log.created", o, -1);
    a->epoch_start_ms = a->run_start_ms;
    /* The first key seals the bounds at once: line 2 is always a checkpoint. */
    if (e == FG_OK)
        e = checkpoint_locked(a);
    if (e == FG_OK && fdatasync(a->fd) != 0)
        e = FG_ERR_IO;
    if (e != FG_OK)
        snprintf(why, why_len, "cannot write %s", a->log_path);
    fg_info(COMP, "new audit log %s, first key fingerprint %s", a->log_path, fp);
    return e;
}

/* A torn last line is removed, and recorded as audit.repaired after the hand-over (in
 * the new epoch, so its late time breaks no sealing bound). The record is made durable
 * in STATE/audit-repair.pending before the cut, so a kill in between loses nothing. */
static void pending_path(const struct audit *a, char *out, size_t len)
{
    snprintf(out, len, "%s/audit-repair.pending", a->state_dir);
}

static fg_err cut_torn_line(struct audit *a, const struct scan *s, char *why, size_t why_len)
{
    if (s->torn_off < 0)
        return FG_OK;
    char dig[65], path[4200], rec[256], *old = NULL, *all;
    size_t oldlen = 0;
    to_hex(dig, sizeof dig, s->torn_hash, 32);
    int n = snprintf(rec, sizeof rec, "{\"torn_bytes\":%zu,\"line\":%zu,\"digest\":\"%s\"}\n",
                     s->torn_len, s->lines + 1, dig);
    pending_path(a, path, sizeof path);
    if (fg_read_file(path, 1 << 16, &old, &oldlen) != FG_OK)
        oldlen = 0;
    all = malloc(oldlen + (size_t)n + 1);
    if (!all) {
        free(old);
        return FG_ERR_NOMEM;
    }
    memcpy(all, old ? old : "", oldlen);
    memcpy(all + oldlen, rec, (size_t)n);
    free(old);
    fg_err e = fg_write_file_atomic(path, all, oldlen + (size_t)n, 0600);
    free(all);
    if (e == FG_OK && (ftruncate(a->fd, s->torn_off) != 0 || fsync(a->fd) != 0))
        e = FG_ERR_IO;
    if (e != FG_OK) {
        snprintf(why, why_len, "cannot remove the torn last line of %s: %s", a->log_path,
                 strerror(errno));
        return e;
    }
    a->size = s->torn_off;
    fg_warn(COMP, "removed a torn last line (%zu bytes) from %s", s->torn_len, a->log_path);
    return FG_OK;
}

/* Says so, with a digest, never content. */
static fg_err record_repairs(struct audit *a)
{
    char path[4200], *text = NULL;
    pending_path(a, path, sizeof path);
    if (fg_read_file(path, 1 << 16, &text, NULL) != FG_OK)
        return FG_OK;
    fg_err e = FG_OK;
    char *save = NULL;
    for (char *l = strtok_r(text, "\n", &save); l && e == FG_OK; l = strtok_r(NULL, "\n", &save)) {
        cJSON *o = cJSON_Parse(l);
        if (cJSON_IsObject(o))
            e = append_locked(a, "gateway", "audit.repaired", o, -1);
        else
            cJSON_Delete(o);
    }
    free(text);
    /* the record is durable first; a lost unlink only records it twice */
    if (e == FG_OK && fdatasync(a->fd) == 0 && unlink(path) != 0)
        fg_warn(COMP, "cannot remove %s: %s", path, strerror(errno));
    return e;
}

static fg_err continue_log(struct audit *a, const struct scan *s, char *why, size_t why_len)
{
    char path[4096];
    if (!s->have_id) {
        snprintf(why, why_len, "%s has no log.created line or anchor: not a fairgate audit log",
                 a->log_path);
        return FG_ERR_PARSE;
    }
    if (s->bad_last) {
        snprintf(why, why_len,
                 "line %zu of %s is not a valid event, so the chain cannot be continued; run "
                 "fairgate audit verify",
                 s->bad_last, a->log_path);
        return FG_ERR_PARSE;
    }
    key_path(path, sizeof path, a->state_dir, a->epoch);
    fg_err e = fg_load_secret(path, SK_LEN, false, &a->sk, why, why_len);
    if (e != FG_OK)
        return e;
    unsigned char pk[32];
    crypto_sign_ed25519_sk_to_pk(pk, a->sk);
    if (sodium_memcmp(pk, a->pk, 32) != 0) {
        snprintf(why, why_len, "%s does not match the key of epoch %llu named in %s", path,
                 (unsigned long long)a->epoch, a->log_path);
        return FG_ERR_CRYPTO;
    }
    wipe_stale_keys(a);
    snprintf(path, sizeof path, "%s/audit-first.pub", a->state_dir);
    unsigned char first[32];
    if (audit_load_pubkey(path, first) == FG_OK)
        memcpy(a->first_pk, first, 32);
    /* A line cut off by a crash goes first; the tail it leaves is sealed at once by
     * the hand-over below (checkpoint with this epoch's key, then a new epoch). */
    e = cut_torn_line(a, s, why, why_len);
    if (e != FG_OK)
        return e;
    /* Every run is a new epoch: the secret of a previous run never has to survive it. */
    e = rotate_locked(a);
    if (e != FG_OK) {
        snprintf(why, why_len, "cannot start a new epoch in %s: %s", a->log_path, fg_strerror(e));
        return e;
    }
    return record_repairs(a);
}

/* The writer never loosens the bounds its log states; a legacy log has none. */
static void adopt_bounds(struct audit *a, const struct scan *s)
{
    if (!s->has_bounds) {
        fg_warn(COMP,
                "%s states no sealing bounds (written by an older fairgate): verification "
                "cannot tell stripped seals from an unsealed tail; start a new log to get "
                "that guarantee",
                a->log_path);
        return;
    }
    a->log_bounds_known = true;
    const struct audit_bounds *l = &s->bounds;
    struct audit_bounds *b = &a->bounds;
    if (b->events > l->events || b->interval_ms > l->interval_ms || b->rotate_ms > l->rotate_ms)
        fg_warn(COMP, "%s was created with stricter sealing bounds than configured; keeping them",
                a->log_path);
    b->events = b->events < l->events ? b->events : l->events;
    b->interval_ms = b->interval_ms < l->interval_ms ? b->interval_ms : l->interval_ms;
    b->rotate_ms = b->rotate_ms < l->rotate_ms ? b->rotate_ms : l->rotate_ms;
    a->cp_events = (int)b->events;
    a->cp_ms = (int)b->interval_ms;
}

fg_err audit_open(const struct audit_options *opt, struct audit **out, char *why, size_t why_len)
{
    *out = NULL;
    if (sodium_init() < 0)
        return FG_ERR_CRYPTO;
    if (!opt || !opt->log_path || !opt->state_dir) {
        snprintf(why, why_len, "audit needs a log path and a state directory");
        return FG_ERR_CONFIG;
    }
    struct audit *a = calloc(1, sizeof *a);
    if (!a)
        return FG_ERR_NOMEM;
    pthread_mutex_init(&a->mu, NULL);
    a->fd = -1;
    a->log_path = strdup(opt->log_path);
    a->state_dir = strdup(opt->state_dir);
    a->bounds = bounds_of(opt);
    a->cp_events = (int)a->bounds.events;
    a->cp_ms = (int)a->bounds.interval_ms;
    a->fsync_ms = opt->fsync_interval_ms > 0 ? opt->fsync_interval_ms : 1000;
    a->fsync_mode = opt->fsync_mode;
    a->last_cp_ms = a->last_fsync_ms = fg_monotonic_ms();
    fg_err e = FG_OK;
    if (!a->log_path || !a->state_dir) {
        e = FG_ERR_NOMEM;
        goto fail;
    }
    if (fg_mkdirs(a->state_dir, 0700) != FG_OK) {
        snprintf(why, why_len, "cannot create state directory %s: %s", a->state_dir,
                 strerror(errno));
        e = FG_ERR_IO;
        goto fail;
    }
    a->fd = open(a->log_path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (a->fd < 0) {
        snprintf(why, why_len, "cannot open %s: %s", a->log_path, strerror(errno));
        e = FG_ERR_IO;
        goto fail;
    }
    if (flock(a->fd, LOCK_EX | LOCK_NB) != 0) {
        snprintf(why, why_len, "%s is in use by another process (the daemon?)", a->log_path);
        e = FG_ERR_IO;
        goto fail;
    }
    struct scan s;
    e = scan_log(a, &s);
    if (e != FG_OK) {
        snprintf(why, why_len, "cannot read %s", a->log_path);
        goto fail;
    }
    if (s.lines == 0) {
        if (s.torn_off >= 0 && ftruncate(a->fd, 0) != 0) {
            e = FG_ERR_IO;
            goto fail;
        }
        a->size = 0;
        e = create_log(a, why, why_len);
    } else {
        adopt_bounds(a, &s);
        e = continue_log(a, &s, why, why_len);
    }
    if (e != FG_OK)
        goto fail;
    *out = a;
    return FG_OK;
fail:
    if (a->fd >= 0)
        close(a->fd);
    if (a->sk)
        sodium_free(a->sk);
    pthread_mutex_destroy(&a->mu);
    free(a->log_path);
    free(a->state_dir);
    free(a);
    return e;
}

/* The bounds the log states are kept by construction, before a line is written
 * (a timer alone could be late): the verifier demands exactly these. */
static fg_err seal_due_locked(struct audit *a, int64_t now)
{
    if (now - a->epoch_start_ms >= a->bounds.rotate_ms)
        return rotate_locked(a); /* checkpoint, then hand-over */
    if (a->since_cp > 0 &&
        (a->since_cp >= a->bounds.events || now - a->run_start_ms >= a->bounds.interval_ms))
        return checkpoint_locked(a);
    return FG_OK;
}

fg_err audit_append(struct audit *a, const char *actor, const char *action, const cJSON *object)
{
    if (!a || !audit_valid_name(actor) || !audit_valid_name(action) ||
        strcmp(action, "checkpoint") == 0 || strcmp(action, "key.handover") == 0 ||
        strcmp(action, "log.created") == 0)
        return FG_ERR_CONFIG; /* reserved actions only come from this module */
    if (object && !cJSON_IsObject(object))
        return FG_ERR_TYPE;
    cJSON *o = object ? cJSON_Duplicate(object, 1) : cJSON_CreateObject();
    if (!o)
        return FG_ERR_NOMEM;
    pthread_mutex_lock(&a->mu);
    int64_t now = fg_now_ms();
    uint64_t seq = a->seq;
    fg_err e = seal_due_locked(a, now);
    if (e == FG_OK)
        e = append_locked(a, actor, action, o, a->seq == seq ? now : fg_now_ms());
    else
        cJSON_Delete(o);
    if (e == FG_OK && a->since_cp >= a->bounds.events)
        e = checkpoint_locked(a);
    pthread_mutex_unlock(&a->mu);
    return e;
}

fg_err audit_append_json(struct audit *a, const char *actor, const char *action,
                         const char *object_json)
{
    cJSON *o = object_json ? cJSON_Parse(object_json) : NULL;
    if (object_json && !o)
        return FG_ERR_PARSE;
    fg_err e = audit_append(a, actor, action, o);
    cJSON_Delete(o);
    return e;
}

fg_err audit_checkpoint(struct audit *a)
{
    pthread_mutex_lock(&a->mu);
    fg_err e = checkpoint_locked(a);
    pthread_mutex_unlock(&a->mu);
    return e;
}

fg_err audit_rotate_epoch(struct audit *a)
{
    pthread_mutex_lock(&a->mu);
    fg_err e = rotate_locked(a);
    pthread_mutex_unlock(&a->mu);
    return e;
}

void audit_tick(struct audit *a, int64_t now_ms)
{
    if (!a)
        return;
    pthread_mutex_lock(&a->mu);
    int64_t wall = fg_now_ms();
    if (a->cp_ms > 0 && !a->last_is_checkpoint &&
        (now_ms - a->last_cp_ms >= a->cp_ms || wall - a->run_start_ms >= a->cp_ms)) {
        fg_err e = checkpoint_locked(a);
        if (e != FG_OK)
            fg_error(COMP, "checkpoint failed: %s", fg_strerror(e));
        a->last_cp_ms = now_ms;
    }
    if (wall - a->epoch_start_ms >= a->bounds.rotate_ms) {
        fg_err e = rotate_locked(a);
        if (e != FG_OK)
            fg_error(COMP, "key hand-over failed: %s", fg_strerror(e));
    }
    if (a->fsync_mode == AUDIT_FSYNC_INTERVAL && a->dirty &&
        now_ms - a->last_fsync_ms >= a->fsync_ms) {
        if (fdatasync(a->fd) != 0)
            fg_error(COMP, "fsync of %s failed: %s", a->log_path, strerror(errno));
        else
            a->dirty = false;
        a->last_fsync_ms = now_ms;
    }
    pthread_mutex_unlock(&a->mu);
}

void audit_close(struct audit *a)
{
    if (!a)
        return;
    pthread_mutex_lock(&a->mu);
    fg_err e = checkpoint_locked(a);
    if (e != FG_OK)
        fg_error(COMP, "final checkpoint failed: %s", fg_strerror(e));
    if (fsync(a->fd) != 0)
        fg_error(COMP, "fsync of %s failed: %s", a->log_path, strerror(errno));
    sodium_free(a->sk); /* the key file stays: the next run hands over from it */
    close(a->fd);
    pthread_mutex_unlock(&a->mu);
    pthread_mutex_destroy(&a->mu);
    free(a->log_path);
    free(a->state_dir);
    free(a);
}

void audit_first_pubkey(const struct audit *a, unsigned char pk[32])
{
    memcpy(pk, a->first_pk, 32);
}
