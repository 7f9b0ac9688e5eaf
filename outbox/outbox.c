/* The outbox index: a FIFO ring of entries with in-flight marks, mirrored to
 * the segment log (outbox/segment_log.c) when a directory is given. Acks may
 * come out of order; acknowledged entries leave holes that the head skips. */
#include "outbox/outbox.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fg_log.h"
#include "outbox/segment_log.h"

enum { ST_QUEUED = 0, ST_INFLIGHT = 1, ST_DONE = 2 };

struct slot {
    uint64_t id; /* kept after the entry is freed, so the ring stays sorted for find() */
    struct outbox_entry *e;
    uint32_t seg; /* segment of its PUT record */
    uint8_t state;
    bool unsaved; /* the write failed: in memory only until a retry succeeds */
};

struct outbox {
    pthread_mutex_t lock;
    struct outbox_options opt;
    struct outbox_log *log;
    struct slot *ring;
    size_t cap, head, count; /* count = slots between head and tail, holes included */
    size_t send_pos;         /* offset from head where queued entries may start */
    uint64_t live, bytes, inflight, next_id, purged, recovered, write_errors, unsaved;
    bool recover_failed;
    atomic_bool full; /* live or bytes at their bound; written under the lock */
};

static struct slot *slot_at(struct outbox *o, size_t i)
{
    return &o->ring[(o->head + i) % o->cap];
}

static struct outbox_entry *entry_new(const struct fg_message *m, uint64_t id, int64_t now)
{
    size_t lt = strlen(m->topic) + 1, lr = strlen(m->route) + 1, lp = strlen(m->purpose) + 1,
           ln = strlen(m->policy_name) + 1;
    struct outbox_entry *e = malloc(sizeof *e + lt + lr + lp + ln + m->len + 1);
    if (!e)
        return NULL;
    char *s = (char *)(e + 1);
    e->topic = memcpy(s, m->topic, lt);
    e->route = memcpy(s += lt, m->route, lr);
    e->purpose = memcpy(s += lr, m->purpose, lp);
    e->policy = memcpy(s += lp, m->policy_name, ln);
    e->payload = memcpy(s += ln, m->payload, m->len);
    e->payload[m->len] = '\0';
    e->len = m->len;
    e->id = id;
    e->created_ms = now;
    e->deadline_ms = m->retention_ms > 0 ? now + m->retention_ms : 0;
    e->categories = m->categories;
    e->batch_max = m->batch_max;
    e->batch_delay_ms = m->batch_delay_ms;
    return e;
}

static struct outbox_entry *entry_copy(const struct outbox_entry *src)
{
    struct fg_message m = {.route = src->route,
                           .purpose = src->purpose,
                           .topic = src->topic,
                           .payload = src->payload,
                           .len = src->len,
                           .policy_name = src->policy,
                           .batch_max = src->batch_max,
                           .batch_delay_ms = src->batch_delay_ms};
    struct outbox_entry *e = entry_new(&m, src->id, src->created_ms);
    if (e) {
        e->deadline_ms = src->deadline_ms;
        e->categories = src->categories;
    }
    return e;
}

void outbox_entry_free(struct outbox_entry *e)
{
    free(e); /* one allocation holds the strings */
}

static struct slot *find(struct outbox *o, uint64_t id)
{
    size_t lo = 0, hi = o->count; /* ids increase along the ring */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        struct slot *s = slot_at(o, mid);
        if (s->id == id)
            return s;
        if (s->id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* Drops done slots at the head. Lock held. */
static void compact(struct outbox *o)
{
    while (o->count && o->ring[o->head].state == ST_DONE) {
        o->ring[o->head].e = NULL;
        o->head = (o->head + 1) % o->cap;
        o->count--;
        if (o->send_pos)
            o->send_pos--;
    }
}

/* The bound is enforced by pausing inputs, not by refusing them: an input
 * already acknowledged must find room, so the ring grows when needed. */
static bool grow(struct outbox *o)
{
    size_t ncap = o->cap * 2;
    struct slot *nr = calloc(ncap, sizeof *nr);
    if (!nr)
        return false;
    for (size_t i = 0; i < o->count; i++)
        nr[i] = *slot_at(o, i);
    free(o->ring);
    o->ring = nr;
    o->cap = ncap;
    o->head = 0;
    return true;
}

/* Lock held. The flag lets the per-message path ask without the lock. */
static void update_full(struct outbox *o)
{
    atomic_store(&o->full, o->live >= (uint64_t)o->opt.max_messages ||
                               o->bytes >= (uint64_t)o->opt.max_bytes);
}

static bool push(struct outbox *o, struct outbox_entry *e, uint32_t seg)
{
    if (o->count + 1 >= o->cap && !grow(o))
        return false;
    struct slot *s = slot_at(o, o->count);
    s->id = e->id;
    s->e = e;
    s->seg = seg;
    s->state = ST_QUEUED;
    s->unsaved = false;
    o->count++;
    o->live++;
    o->bytes += e->len;
    update_full(o);
    return true;
}

static void finish(struct outbox *o, struct slot *s, int type)
{
    if (s->state == ST_INFLIGHT)
        o->inflight--;
    if (o->log && !s->unsaved)
        olog_done(o->log, type, s->id, s->seg);
    if (s->unsaved)
        o->unsaved--;
    s->state = ST_DONE;
    o->live--;
    o->bytes -= s->e->len;
    update_full(o);
    outbox_entry_free(s->e);
    s->e = NULL;
}

/* Recovery: PUTs come in id order; ACK/PURGE remove what they name. */
static void on_recover(void *ctx, int type, uint64_t id, struct outbox_entry *e, uint32_t seg)
{
    struct outbox *o = ctx;
    if (type == OLOG_PUT) {
        if (!push(o, e, seg)) {
            /* out of memory: stop recovering rather than forget it on disk */
            o->recover_failed = true;
            outbox_entry_free(e);
        }
        return;
    }
    struct slot *s = find(o, id);
    if (s && s->state != ST_DONE) {
        finish(o, s, type); /* o->log is not set yet: nothing is written back */
        compact(o);
    }
}

fg_err outbox_open(const struct outbox_options *opt, struct outbox **out, char *why, size_t why_len)
{
    struct outbox *o = calloc(1, sizeof *o);
    if (!o)
        return FG_ERR_NOMEM;
    o->opt = *opt;
    o->cap = (size_t)(opt->max_messages + opt->slack_messages) + 1;
    o->ring = calloc(o->cap, sizeof *o->ring);
    if (!o->ring) {
        free(o);
        return FG_ERR_NOMEM;
    }
    pthread_mutex_init(&o->lock, NULL);
    o->next_id = 1;
    if (opt->dir) {
        fg_err e = olog_open(opt->dir, opt->sync, opt->segment_bytes, on_recover, o, &o->log,
                             &o->next_id, why, why_len);
        if (e) {
            outbox_close(o);
            return e;
        }
        if (o->recover_failed) {
            snprintf(why, why_len, "not enough memory to recover the outbox in %s", opt->dir);
            outbox_close(o);
            return FG_ERR_NOMEM;
        }
        o->recovered = o->live;
        /* Segments are deletable once nothing live is left in them. */
        olog_recount(o->log, NULL);
        for (size_t i = 0; i < o->count; i++)
            if (slot_at(o, i)->state != ST_DONE)
                olog_recount(o->log, &slot_at(o, i)->seg);
    }
    *out = o;
    return FG_OK;
}

uint64_t outbox_recovered(struct outbox *o)
{
    return o->recovered;
}

void outbox_close(struct outbox *o)
{
    if (!o)
        return;
    if (o->log) {
        if (olog_sync(o->log) != FG_OK)
            fg_warn("outbox", "final sync failed");
        olog_close(o->log);
    }
    for (size_t i = 0; i < o->count; i++)
        outbox_entry_free(slot_at(o, i)->e); /* NULL for done slots */
    pthread_mutex_destroy(&o->lock);
    free(o->ring);
    free(o);
}

fg_err outbox_put(struct outbox *o, const struct fg_message *msg, int64_t now_ms)
{
    pthread_mutex_lock(&o->lock);
    /* Past the hard limit only a broker ignoring our pause could bring us. */
    if (o->live >= (uint64_t)(o->opt.max_messages + o->opt.slack_messages) * 4 ||
        o->bytes + msg->len > (uint64_t)o->opt.max_bytes * 4) {
        pthread_mutex_unlock(&o->lock);
        return FG_ERR_FULL;
    }
    if (o->log && olog_reserve(o->log, o->next_id) != FG_OK) {
        pthread_mutex_unlock(&o->lock);
        return FG_ERR_IO;
    }
    struct outbox_entry *e = entry_new(msg, o->next_id, now_ms);
    if (!e) {
        pthread_mutex_unlock(&o->lock);
        return FG_ERR_NOMEM;
    }
    fg_err err = FG_OK;
    uint32_t seg = 0;
    /* Once a write failed, later entries wait in memory too, so the log keeps
     * its order; outbox_sync writes them all when the disk is back. */
    if (o->log && !o->unsaved)
        err = olog_put(o->log, e, &seg);
    o->next_id++;
    if (!push(o, e, seg)) {
        outbox_entry_free(e);
        pthread_mutex_unlock(&o->lock);
        return FG_ERR_NOMEM;
    }
    if (o->log && (err || o->unsaved)) {
        struct slot *s = slot_at(o, o->count - 1);
        s->unsaved = true;
        o->unsaved++;
        if (err) {
            o->write_errors++;
            err = FG_ERR_IO;
        } else
            err = FG_ERR_IO; /* still failing: the caller keeps inputs paused */
    }
    pthread_mutex_unlock(&o->lock);
    return err;
}

size_t outbox_take(struct outbox *o, struct outbox_entry **out, size_t max)
{
    size_t n = 0;
    pthread_mutex_lock(&o->lock);
    for (size_t i = o->send_pos; i < o->count && n < max; i++) {
        struct slot *s = slot_at(o, i);
        if (s->state != ST_QUEUED)
            continue;
        /* Unsaved entries leave only once stored: a crash after sending but
         * before storing would otherwise be indistinguishable from loss. */
        if (s->unsaved)
            break;
        struct outbox_entry *c = entry_copy(s->e);
        if (!c)
            break;
        s->state = ST_INFLIGHT;
        o->inflight++;
        out[n++] = c;
        o->send_pos = i + 1;
    }
    pthread_mutex_unlock(&o->lock);
    return n;
}

size_t outbox_take_run(struct outbox *o, struct outbox_entry **out, size_t max,
                       outbox_join_fn joins, void *ctx)
{
    size_t n = 0, scanned = 0;
    const struct outbox_entry *first = NULL;
    bool skipped = false; /* send_pos may only move past what was taken */
    pthread_mutex_lock(&o->lock);
    for (size_t i = o->send_pos; i < o->count && n < max && scanned < OUTBOX_SCAN_MAX; i++) {
        struct slot *s = slot_at(o, i);
        if (s->state != ST_QUEUED)
            continue;
        if (s->unsaved) /* leaves only once stored (outbox_take) */
            break;
        scanned++;
        enum outbox_join j = joins(ctx, first, s->e, n);
        if (j == OUTBOX_STOP)
            break;
        if (j == OUTBOX_SKIP) {
            skipped = true;
            continue;
        }
        if (!first)
            first = s->e;
        if (out) {
            struct outbox_entry *c = entry_copy(s->e);
            if (!c)
                break;
            s->state = ST_INFLIGHT;
            o->inflight++;
            out[n] = c;
            if (!skipped)
                o->send_pos = i + 1;
        }
        n++;
    }
    pthread_mutex_unlock(&o->lock);
    return n;
}

void outbox_ack(struct outbox *o, uint64_t id)
{
    pthread_mutex_lock(&o->lock);
    struct slot *s = find(o, id);
    if (s && s->state != ST_DONE) {
        finish(o, s, OLOG_ACK);
        compact(o);
    }
    pthread_mutex_unlock(&o->lock);
}

struct outbox_entry *outbox_copy(struct outbox *o, uint64_t id)
{
    pthread_mutex_lock(&o->lock);
    struct slot *s = find(o, id);
    struct outbox_entry *c = s && s->state != ST_DONE ? entry_copy(s->e) : NULL;
    pthread_mutex_unlock(&o->lock);
    return c;
}

void outbox_requeue(struct outbox *o, uint64_t id)
{
    pthread_mutex_lock(&o->lock);
    struct slot *s = find(o, id);
    if (s && s->state == ST_INFLIGHT) {
        s->state = ST_QUEUED;
        o->inflight--;
        size_t i =
            (size_t)((s - o->ring + (ptrdiff_t)o->cap - (ptrdiff_t)o->head) % (ptrdiff_t)o->cap);
        if (i < o->send_pos)
            o->send_pos = i;
    }
    pthread_mutex_unlock(&o->lock);
}

void outbox_requeue_all(struct outbox *o)
{
    pthread_mutex_lock(&o->lock);
    for (size_t i = 0; i < o->count; i++)
        if (slot_at(o, i)->state == ST_INFLIGHT)
            slot_at(o, i)->state = ST_QUEUED;
    o->inflight = 0;
    o->send_pos = 0;
    pthread_mutex_unlock(&o->lock);
}

uint64_t outbox_purge_expired(struct outbox *o, int64_t now_ms, outbox_purge_fn fn, void *ctx)
{
    uint64_t total = 0;
    pthread_mutex_lock(&o->lock);
    for (size_t i = 0; i < o->count; i++) {
        struct slot *s = slot_at(o, i);
        if (s->state != ST_QUEUED || !s->e->deadline_ms || s->e->deadline_ms > now_ms)
            continue;
        if (fn)
            fn(ctx, s->e->route, 1);
        finish(o, s, OLOG_PURGE);
        total++;
    }
    o->purged += total;
    compact(o);
    pthread_mutex_unlock(&o->lock);
    return total;
}

void outbox_sync(struct outbox *o)
{
    if (!o->log)
        return;
    pthread_mutex_lock(&o->lock);
    /* Retry unsaved entries, oldest first. */
    for (size_t i = 0; i < o->count && o->unsaved; i++) {
        struct slot *s = slot_at(o, i);
        if (!s->unsaved || s->state == ST_DONE)
            continue;
        if (olog_put(o->log, s->e, &s->seg) != FG_OK)
            break;
        s->unsaved = false;
        o->unsaved--;
    }
    if (olog_sync(o->log) != FG_OK)
        o->write_errors++;
    pthread_mutex_unlock(&o->lock);
}

bool outbox_write_failing(struct outbox *o)
{
    pthread_mutex_lock(&o->lock);
    bool f = o->unsaved > 0;
    pthread_mutex_unlock(&o->lock);
    return f;
}

void outbox_get_stats(struct outbox *o, struct outbox_stats *st)
{
    pthread_mutex_lock(&o->lock);
    st->depth = o->live;
    st->bytes = o->bytes;
    st->inflight = o->inflight;
    st->purged = o->purged;
    st->write_errors = o->write_errors;
    st->segments = o->log ? olog_segments(o->log) : 0;
    st->oldest_ms = 0;
    for (size_t i = 0; i < o->count; i++)
        if (slot_at(o, i)->state != ST_DONE) {
            st->oldest_ms = slot_at(o, i)->e->created_ms;
            break;
        }
    pthread_mutex_unlock(&o->lock);
}

bool outbox_full(struct outbox *o)
{
    return atomic_load(&o->full);
}

/* ---- read-only listing (fairgate outbox list) ----------------------------- */

struct scan {
    struct outbox_entry **e; /* NULL once acknowledged or purged */
    uint64_t *ids;           /* kept sorted (ids increase along the log) */
    size_t n, cap;
    bool nomem;
};

static void on_scan(void *ctx, int type, uint64_t id, struct outbox_entry *e, uint32_t seg)
{
    struct scan *sc = ctx;
    (void)seg;
    if (type == OLOG_PUT) {
        if (sc->n == sc->cap) {
            size_t cap = sc->cap ? sc->cap * 2 : 256;
            struct outbox_entry **ne = realloc(sc->e, cap * sizeof *ne);
            if (ne)
                sc->e = ne;
            uint64_t *ni = ne ? realloc(sc->ids, cap * sizeof *ni) : NULL;
            if (!ni) {
                sc->nomem = true;
                outbox_entry_free(e);
                return;
            }
            sc->ids = ni;
            sc->cap = cap;
        }
        sc->ids[sc->n] = id;
        sc->e[sc->n++] = e;
        return;
    }
    size_t lo = 0, hi = sc->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (sc->ids[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < sc->n && sc->ids[lo] == id && sc->e[lo]) {
        outbox_entry_free(sc->e[lo]);
        sc->e[lo] = NULL;
    }
}

fg_err outbox_scan(const char *dir, void (*fn)(void *ctx, const struct outbox_entry *e), void *ctx,
                   size_t *count)
{
    struct scan sc = {0};
    fg_err e = olog_scan(dir, on_scan, &sc);
    size_t n = 0;
    for (size_t i = 0; i < sc.n; i++)
        if (sc.e[i]) {
            if (!e && !sc.nomem)
                fn(ctx, sc.e[i]);
            n++;
            outbox_entry_free(sc.e[i]);
        }
    free(sc.e);
    free(sc.ids);
    *count = n;
    return e ? e : sc.nomem ? FG_ERR_NOMEM : FG_OK;
}
