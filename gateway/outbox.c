/* In-memory outbox: a FIFO of entries with in-flight marks. Acks may come
 * out of order; acked entries leave holes that the head skips. */
#include "gateway/outbox.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

enum { ST_QUEUED = 0, ST_INFLIGHT = 1, ST_DONE = 2 };

struct slot {
    uint64_t id; /* kept after the entry is freed, so the ring stays sorted for find() */
    struct outbox_entry *e;
    int state;
};

struct outbox {
    pthread_mutex_t lock;
    struct outbox_options opt;
    struct slot *ring;
    size_t cap, head, count; /* count = slots between head and tail, holes included */
    size_t send_pos;         /* offset from head where queued entries may start */
    uint64_t live, bytes, inflight, next_id, purged;
};

fg_err outbox_open(const struct outbox_options *opt, struct outbox **out)
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
    *out = o;
    return FG_OK;
}

void outbox_entry_free(struct outbox_entry *e)
{
    free(e); /* one allocation holds the strings */
}

void outbox_close(struct outbox *o)
{
    if (!o)
        return;
    for (size_t i = 0; i < o->count; i++)
        outbox_entry_free(o->ring[(o->head + i) % o->cap].e); /* NULL for done slots */
    pthread_mutex_destroy(&o->lock);
    free(o->ring);
    free(o);
}

static struct outbox_entry *entry_new(const struct policy_output *m, uint64_t id, int64_t now)
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
    return e;
}

static struct outbox_entry *entry_copy(const struct outbox_entry *src)
{
    struct policy_output m = {.route = src->route,
                              .purpose = src->purpose,
                              .topic = src->topic,
                              .payload = src->payload,
                              .len = src->len,
                              .policy_name = src->policy};
    struct outbox_entry *e = entry_new(&m, src->id, src->created_ms);
    if (e) {
        e->deadline_ms = src->deadline_ms;
        e->categories = src->categories;
    }
    return e;
}

fg_err outbox_put(struct outbox *o, const struct policy_output *msg, int64_t now_ms)
{
    pthread_mutex_lock(&o->lock);
    if (o->count + 1 >= o->cap ||
        o->bytes + msg->len > (uint64_t)o->opt.max_bytes + (uint64_t)o->opt.slack_messages * 4096) {
        pthread_mutex_unlock(&o->lock);
        return FG_ERR_FULL;
    }
    struct outbox_entry *e = entry_new(msg, o->next_id, now_ms);
    if (!e) {
        pthread_mutex_unlock(&o->lock);
        return FG_ERR_NOMEM;
    }
    o->next_id++;
    struct slot *s = &o->ring[(o->head + o->count) % o->cap];
    s->id = e->id;
    s->e = e;
    s->state = ST_QUEUED;
    o->count++;
    o->live++;
    o->bytes += msg->len;
    pthread_mutex_unlock(&o->lock);
    return FG_OK;
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

size_t outbox_take(struct outbox *o, struct outbox_entry **out, size_t max)
{
    size_t n = 0;
    pthread_mutex_lock(&o->lock);
    for (size_t i = o->send_pos; i < o->count && n < max; i++) {
        struct slot *s = &o->ring[(o->head + i) % o->cap];
        if (s->state != ST_QUEUED)
            continue;
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

static struct slot *find(struct outbox *o, uint64_t id)
{
    /* ids are increasing along the ring: binary search over live slots */
    size_t lo = 0, hi = o->count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        struct slot *s = &o->ring[(o->head + mid) % o->cap];
        if (s->id == id)
            return s;
        if (s->id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static void finish(struct outbox *o, struct slot *s)
{
    if (s->state == ST_INFLIGHT)
        o->inflight--;
    s->state = ST_DONE;
    o->live--;
    o->bytes -= s->e->len;
    outbox_entry_free(s->e);
    s->e = NULL;
}

void outbox_ack(struct outbox *o, uint64_t id)
{
    pthread_mutex_lock(&o->lock);
    struct slot *s = find(o, id);
    if (s && s->state != ST_DONE) {
        finish(o, s);
        compact(o);
    }
    pthread_mutex_unlock(&o->lock);
}

void outbox_requeue(struct outbox *o, uint64_t id)
{
    pthread_mutex_lock(&o->lock);
    for (size_t i = 0; i < o->count; i++) {
        struct slot *s = &o->ring[(o->head + i) % o->cap];
        if (s->id == id && s->state == ST_INFLIGHT) {
            s->state = ST_QUEUED;
            o->inflight--;
            if (i < o->send_pos)
                o->send_pos = i;
            break;
        }
    }
    pthread_mutex_unlock(&o->lock);
}

void outbox_requeue_all(struct outbox *o)
{
    pthread_mutex_lock(&o->lock);
    for (size_t i = 0; i < o->count; i++) {
        struct slot *s = &o->ring[(o->head + i) % o->cap];
        if (s->state == ST_INFLIGHT)
            s->state = ST_QUEUED;
    }
    o->inflight = 0;
    o->send_pos = 0;
    pthread_mutex_unlock(&o->lock);
}

uint64_t outbox_purge_expired(struct outbox *o, int64_t now_ms, outbox_purge_fn fn, void *ctx)
{
    uint64_t total = 0;
    pthread_mutex_lock(&o->lock);
    for (size_t i = 0; i < o->count; i++) {
        struct slot *s = &o->ring[(o->head + i) % o->cap];
        if (s->state != ST_QUEUED || !s->e->deadline_ms || s->e->deadline_ms > now_ms)
            continue;
        if (fn)
            fn(ctx, s->e->route, 1);
        finish(o, s);
        total++;
    }
    o->purged += total;
    compact(o);
    pthread_mutex_unlock(&o->lock);
    return total;
}

void outbox_get_stats(struct outbox *o, struct outbox_stats *st)
{
    pthread_mutex_lock(&o->lock);
    st->depth = o->live;
    st->bytes = o->bytes;
    st->inflight = o->inflight;
    st->purged = o->purged;
    st->oldest_ms = 0;
    for (size_t i = 0; i < o->count; i++) {
        struct slot *s = &o->ring[(o->head + i) % o->cap];
        if (s->state != ST_DONE) {
            st->oldest_ms = s->e->created_ms;
            break;
        }
    }
    pthread_mutex_unlock(&o->lock);
}

bool outbox_full(struct outbox *o)
{
    pthread_mutex_lock(&o->lock);
    bool full = o->live >= (uint64_t)o->opt.max_messages || o->bytes >= (uint64_t)o->opt.max_bytes;
    pthread_mutex_unlock(&o->lock);
    return full;
}
