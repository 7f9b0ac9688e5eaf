/* Segment files seg-<first id>.log, each a sequence of records:
 *   u32 magic | u8 type | u8 0 | u16 0 | u32 body length | u64 id | body | 16-byte BLAKE2b
 * The checksum covers header and body, so a torn or bit-rotted record is
 * recognised and never replayed as a message. */
#include "outbox/segment_log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fg_log.h"
#include "common/fg_util.h"

#define MAGIC 0x31524746u /* "FGR1" */
#define HDR 20
#define SUM 16
#define MAX_BODY (1u << 21)
#define MAX_SEGS 4096
#define MARK_BUF 4096

struct segment {
    uint64_t first_id;
    uint64_t live; /* PUT records not yet acknowledged or purged */
};

struct outbox_log {
    char *dir;
    outbox_sync_mode sync;
    int64_t segment_bytes;
    int fd; /* active segment */
    int64_t active_size;
    struct segment segs[MAX_SEGS];
    uint32_t base;  /* segment number of segs[0] */
    uint32_t nsegs; /* segs[nsegs-1] is the active one */
    bool dirty;     /* written since the last fsync */
    unsigned char marks[MARK_BUF];
    size_t nmarks;
#ifdef FAIRGATE_TEST_HOOKS
    const char *fault_flag; /* tests: while this file exists, writes fail with ENOSPC */
#endif
    uint64_t reserved; /* ids below this are durably reserved */
};

#define ID_BLOCK 100000

static void seg_path(const struct outbox_log *l, uint64_t first_id, char *buf, size_t len)
{
    snprintf(buf, len, "%s/seg-%020llu.log", l->dir, (unsigned long long)first_id);
}

static void put_u16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}
static void put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}
static void put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}
static uint16_t get_u16(const unsigned char *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}
static uint32_t get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t get_u64(const unsigned char *p)
{
    return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

static void checksum(const unsigned char *rec, size_t len, unsigned char out[SUM])
{
    crypto_generichash(out, SUM, rec, len, NULL, 0);
}

static ssize_t write_all(struct outbox_log *l, const void *buf, size_t len)
{
#ifdef FAIRGATE_TEST_HOOKS
    if (l->fault_flag && access(l->fault_flag, F_OK) == 0) {
        errno = ENOSPC;
        return -1;
    }
#endif
    return fg_write_all(l->fd, buf, len) == FG_OK ? (ssize_t)len : -1;
}

/* Appends one whole record or nothing: a short write is cut back off. */
static fg_err append(struct outbox_log *l, const unsigned char *rec, size_t len)
{
    if (write_all(l, rec, len) < 0) {
        int err = errno;
        if (ftruncate(l->fd, l->active_size) != 0 || lseek(l->fd, l->active_size, SEEK_SET) < 0)
            fg_error("outbox", "cannot cut a failed write back off: %s", strerror(errno));
        errno = err;
        return FG_ERR_IO;
    }
    l->active_size += (int64_t)len;
    if (l->sync == OUTBOX_SYNC_ALWAYS && fdatasync(l->fd) != 0)
        return FG_ERR_IO;
    l->dirty = l->sync == OUTBOX_SYNC_INTERVAL;
    return FG_OK;
}

static fg_err open_segment(struct outbox_log *l, uint64_t first_id)
{
    if (l->nsegs == MAX_SEGS)
        return FG_ERR_FULL;
    char path[4096];
    seg_path(l, first_id, path, sizeof path);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0)
        return FG_ERR_IO;
    if (l->fd >= 0) {
        if (l->sync != OUTBOX_SYNC_NEVER)
            fdatasync(l->fd);
        close(l->fd);
    }
    l->fd = fd;
    struct stat st;
    l->active_size = fstat(fd, &st) == 0 ? st.st_size : 0;
    l->segs[l->nsegs].first_id = first_id;
    l->segs[l->nsegs].live = 0;
    l->nsegs++;
    /* the directory entry must be durable too, or the file may vanish */
    int dfd = open(l->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return FG_OK;
}

fg_err olog_put(struct outbox_log *l, const struct outbox_entry *e, uint32_t *seg)
{
    size_t lt = strlen(e->topic), lr = strlen(e->route), lp = strlen(e->purpose),
           ln = strlen(e->policy);
    if (lt > 65535 || lr > 65535 || lp > 65535 || ln > 65535)
        return FG_ERR_TOO_BIG;
    size_t body = 8 + 8 + 4 + 2 * 4 + 4 + lt + lr + lp + ln + e->len;
    if (body > MAX_BODY)
        return FG_ERR_TOO_BIG;
    if (l->active_size >= l->segment_bytes) {
        fg_err e2 = open_segment(l, e->id);
        if (e2)
            return e2;
    }
    unsigned char stackbuf[4096];
    unsigned char *rec = HDR + body + SUM <= sizeof stackbuf ? stackbuf : malloc(HDR + body + SUM);
    if (!rec)
        return FG_ERR_NOMEM;
    memset(rec, 0, HDR);
    put_u32(rec, MAGIC);
    rec[4] = OLOG_PUT;
    put_u32(rec + 8, (uint32_t)body);
    put_u64(rec + 12, e->id);
    unsigned char *b = rec + HDR;
    put_u64(b, (uint64_t)e->created_ms);
    put_u64(b + 8, (uint64_t)e->deadline_ms);
    put_u32(b + 16, e->categories);
    put_u16(b + 20, (uint16_t)lt);
    put_u16(b + 22, (uint16_t)lr);
    put_u16(b + 24, (uint16_t)lp);
    put_u16(b + 26, (uint16_t)ln);
    put_u32(b + 28, (uint32_t)e->len);
    unsigned char *s = b + 32;
    memcpy(s, e->topic, lt);
    memcpy(s += lt, e->route, lr);
    memcpy(s += lr, e->purpose, lp);
    memcpy(s += lp, e->policy, ln);
    memcpy(s += ln, e->payload, e->len);
    checksum(rec, HDR + body, rec + HDR + body);
    fg_err err = append(l, rec, HDR + body + SUM);
    if (rec != stackbuf)
        free(rec);
    if (err)
        return err;
    l->segs[l->nsegs - 1].live++;
    *seg = l->base + l->nsegs - 1;
    return FG_OK;
}

static fg_err flush_marks(struct outbox_log *l)
{
    if (!l->nmarks)
        return FG_OK;
    fg_err e = append(l, l->marks, l->nmarks);
    if (e == FG_OK)
        l->nmarks = 0;
    return e;
}

void olog_done(struct outbox_log *l, int type, uint64_t id, uint32_t seg)
{
    if (l->nmarks + HDR + SUM > MARK_BUF && flush_marks(l) != FG_OK)
        l->nmarks = 0; /* cannot write: the entry may come back as a duplicate, never lost */
    unsigned char *rec = l->marks + l->nmarks;
    memset(rec, 0, HDR);
    put_u32(rec, MAGIC);
    rec[4] = (unsigned char)type;
    put_u64(rec + 12, id);
    checksum(rec, HDR, rec + HDR);
    l->nmarks += HDR + SUM;
    if (seg >= l->base && seg - l->base < l->nsegs && l->segs[seg - l->base].live)
        l->segs[seg - l->base].live--;
}

fg_err olog_sync(struct outbox_log *l)
{
    fg_err e = flush_marks(l);
    if (l->dirty && fdatasync(l->fd) == 0)
        l->dirty = false;
    /* Delete leading segments with nothing live; the ACKs for their entries
     * may sit in later segments, which is harmless once the PUTs are gone. */
    uint32_t dead = 0;
    while (dead + 1 < l->nsegs && l->segs[dead].live == 0) {
        char path[4096];
        seg_path(l, l->segs[dead].first_id, path, sizeof path);
        if (unlink(path) != 0 && errno != ENOENT)
            break;
        dead++;
    }
    if (dead) {
        memmove(l->segs, l->segs + dead, (l->nsegs - dead) * sizeof l->segs[0]);
        l->nsegs -= dead;
        l->base += dead;
    }
    return e;
}

void olog_recount(struct outbox_log *l, const uint32_t *seg)
{
    if (!seg) {
        for (uint32_t i = 0; i < l->nsegs; i++)
            l->segs[i].live = 0;
    } else if (*seg >= l->base && *seg - l->base < l->nsegs)
        l->segs[*seg - l->base].live++;
}

static fg_err write_reservation(struct outbox_log *l, uint64_t upto)
{
    char path[4096], text[32];
    snprintf(path, sizeof path, "%s/ids", l->dir);
    int n = snprintf(text, sizeof text, "%llu\n", (unsigned long long)upto);
    if (fg_write_file_atomic(path, text, (size_t)n, 0600) != FG_OK)
        return FG_ERR_IO;
    l->reserved = upto;
    return FG_OK;
}

fg_err olog_reserve(struct outbox_log *l, uint64_t id)
{
    if (id < l->reserved)
        return FG_OK;
    return write_reservation(l, id + ID_BLOCK);
}

uint64_t olog_segments(const struct outbox_log *l)
{
    return l->nsegs;
}

/* ---- recovery ----------------------------------------------------------- */

static struct outbox_entry *decode_put(const unsigned char *b, uint32_t body, uint64_t id)
{
    if (body < 32)
        return NULL;
    size_t lt = get_u16(b + 20), lr = get_u16(b + 22), lp = get_u16(b + 24), ln = get_u16(b + 26);
    size_t lpay = get_u32(b + 28);
    if (32 + lt + lr + lp + ln + lpay != body)
        return NULL;
    struct outbox_entry *e = malloc(sizeof *e + lt + lr + lp + ln + lpay + 5);
    if (!e)
        return NULL;
    char *s = (char *)(e + 1);
    const unsigned char *src = b + 32;
    e->topic = s;
    memcpy(s, src, lt);
    s[lt] = '\0';
    e->route = s += lt + 1;
    memcpy(s, src += lt, lr);
    s[lr] = '\0';
    e->purpose = s += lr + 1;
    memcpy(s, src += lr, lp);
    s[lp] = '\0';
    e->policy = s += lp + 1;
    memcpy(s, src += lp, ln);
    s[ln] = '\0';
    e->payload = s += ln + 1;
    memcpy(s, src += ln, lpay);
    s[lpay] = '\0';
    e->len = lpay;
    e->id = id;
    e->created_ms = (int64_t)get_u64(b);
    e->deadline_ms = (int64_t)get_u64(b + 8);
    e->categories = get_u32(b + 16);
    e->batch_max = 0; /* not stored: recovered entries go one per publish */
    e->batch_delay_ms = 0;
    return e;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads one segment; returns the offset where valid records end. */
/* A whole record whose checksum verifies starts at off; *body gets its length. */
static bool record_at(const unsigned char *buf, size_t len, size_t off, uint32_t *body)
{
    const unsigned char *r = buf + off;
    *body = get_u32(r + 8);
    if (get_u32(r) != MAGIC || *body > MAX_BODY || off + HDR + *body + SUM > len)
        return false;
    unsigned char sum[SUM];
    checksum(r, HDR + *body, sum);
    return sodium_memcmp(sum, r + HDR + *body, SUM) == 0;
}

static int64_t replay_segment(const char *path, uint32_t seg, olog_recover_fn fn, void *ctx,
                              uint64_t *max_id, bool *bad, size_t *damaged)
{
    char *buf;
    size_t len;
    *bad = false;
    if (fg_read_file(path, (size_t)1 << 31, &buf, &len) != FG_OK) {
        *bad = true;
        return 0;
    }
    size_t off = 0, good_end = 0;
    *damaged = 0;
    uint32_t body = 0;
    while (off + HDR + SUM <= len) {
        const unsigned char *r = (const unsigned char *)buf + off;
        if (!record_at((const unsigned char *)buf, len, off, &body)) {
            /* Damage in the middle must not cost the records after it: look
             * for the next record that verifies; if none, this is the tail. */
            size_t next = off + 1;
            while (next + HDR + SUM <= len &&
                   !record_at((const unsigned char *)buf, len, next, &body))
                next++;
            if (next + HDR + SUM > len)
                break;
            (*damaged)++;
            off = next;
            continue;
        }
        uint64_t id = get_u64(r + 12);
        int type = r[4];
        if (type == OLOG_PUT) {
            struct outbox_entry *e = decode_put(r + HDR, body, id);
            if (!e)
                break;
            if (id > *max_id)
                *max_id = id;
            fn(ctx, type, id, e, seg);
        } else if (type == OLOG_ACK || type == OLOG_PURGE) {
            if (id > *max_id) /* ids never go back, even once every PUT is gone */
                *max_id = id;
            fn(ctx, type, id, NULL, seg);
        } else
            break;
        off += HDR + body + SUM;
        good_end = off;
    }
    *bad = good_end != len;
    free(buf);
    return (int64_t)good_end;
}

fg_err olog_open(const char *dir, outbox_sync_mode sync, int64_t segment_bytes, olog_recover_fn fn,
                 void *ctx, struct outbox_log **out, uint64_t *next_id, char *why, size_t why_len)
{
    *out = NULL;
    if (sodium_init() < 0)
        return FG_ERR_CRYPTO;
    if (fg_mkdirs(dir, 0700) != FG_OK) {
        snprintf(why, why_len, "cannot create outbox directory %s: %s", dir, strerror(errno));
        return FG_ERR_IO;
    }
    struct outbox_log *l = calloc(1, sizeof *l);
    if (!l || !(l->dir = strdup(dir))) {
        free(l);
        return FG_ERR_NOMEM;
    }
    l->fd = -1;
    l->sync = sync;
    l->segment_bytes = segment_bytes > 0 ? segment_bytes : 4 << 20;
#ifdef FAIRGATE_TEST_HOOKS
    /* Test builds only: while this file exists, writes fail with ENOSPC. */
    l->fault_flag = getenv("FAIRGATE_FAULT_OUTBOX_ENOSPC");
#endif
    DIR *d = opendir(dir);
    char *names[MAX_SEGS];
    size_t n = 0;
    struct dirent *de;
    while (d && (de = readdir(d)) && n < MAX_SEGS)
        if (!strncmp(de->d_name, "seg-", 4) && strstr(de->d_name, ".log"))
            names[n++] = strdup(de->d_name);
    if (d)
        closedir(d);
    qsort(names, n, sizeof *names, cmp_names);
    uint64_t max_id = 0;
    fg_err e = FG_OK;
    why[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unsigned long long first = strtoull(names[i] + 4, NULL, 10);
        if (first > 0 && first - 1 > max_id)
            max_id = first - 1;
        l->segs[l->nsegs].first_id = first;
        l->segs[l->nsegs].live = 0;
        l->nsegs++;
        bool bad;
        size_t damaged = 0;
        int64_t good =
            replay_segment(path, l->base + l->nsegs - 1, fn, ctx, &max_id, &bad, &damaged);
        if (damaged) {
            fg_warn("outbox",
                    "%s: skipped %zu damaged record(s); the records after them were "
                    "recovered",
                    path, damaged);
            snprintf(why, why_len, "skipped %zu damaged record(s) in %s", damaged, names[i]);
        }
        if (bad) {
            /* A crash can tear the last record of the last segment; anything
             * else is damage. Either way keep what verifies and say so. */
            fg_warn("outbox", "%s: cut off %s after byte %lld", path,
                    i + 1 == n ? "a torn last record" : "a damaged record", (long long)good);
            if (truncate(path, good) != 0)
                fg_error("outbox", "cannot truncate %s: %s", path, strerror(errno));
            snprintf(why, why_len, "recovered %s up to byte %lld", names[i], (long long)good);
        }
    }
    /* Reopen the last segment for appends, or start one. Live counts are
     * set by the caller from what it recovered (olog_recount). */
    if (l->nsegs) {
        l->nsegs--;
        e = open_segment(l, l->segs[l->nsegs].first_id);
    } else
        e = open_segment(l, max_id + 1);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    if (e) {
        snprintf(why, why_len, "cannot open an outbox segment in %s: %s", dir, strerror(errno));
        olog_close(l);
        return e;
    }
    /* Never reuse an id: start past both the log and the last reservation. */
    char idpath[4096], *idtext = NULL;
    snprintf(idpath, sizeof idpath, "%s/ids", dir);
    uint64_t next = max_id + 1;
    if (fg_read_file(idpath, 64, &idtext, NULL) == FG_OK) {
        unsigned long long r = strtoull(idtext, NULL, 10);
        if (r > next)
            next = r;
        free(idtext);
    }
    if (write_reservation(l, next + ID_BLOCK) != FG_OK) {
        snprintf(why, why_len, "cannot write %s: %s", idpath, strerror(errno));
        olog_close(l);
        return FG_ERR_IO;
    }
    *next_id = next;
    *out = l;
    return FG_OK;
}

fg_err olog_scan(const char *dir, olog_recover_fn fn, void *ctx)
{
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? FG_OK : FG_ERR_IO;
    char *names[MAX_SEGS];
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) && n < MAX_SEGS)
        if (!strncmp(de->d_name, "seg-", 4) && strstr(de->d_name, ".log") &&
            (names[n] = strdup(de->d_name)))
            n++;
    closedir(d);
    qsort(names, n, sizeof *names, cmp_names);
    uint64_t max_id = 0;
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        bool bad;
        size_t damaged;
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        (void)replay_segment(path, (uint32_t)i, fn, ctx, &max_id, &bad, &damaged);
        free(names[i]);
    }
    return FG_OK;
}

void olog_close(struct outbox_log *l)
{
    if (!l)
        return;
    if (l->fd >= 0) {
        if (flush_marks(l) != FG_OK)
            fg_warn("outbox", "could not record the last acknowledgements; they will be resent");
        if (l->sync != OUTBOX_SYNC_NEVER)
            fdatasync(l->fd);
        close(l->fd);
    }
    free(l->dir);
    free(l);
}
