/* See reident_queue.h. */
#include "plugin/reident_queue.h"

#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/pseudonym.h"

#define RQ_CAP 4096
#define RQ_VALUE_MAX 256

struct rq_entry {
    int64_t epoch;
    size_t len;
    char route[64];
    char pseudonym[PSEUDONYM_HEX_LEN + 1];
    char value[RQ_VALUE_MAX];
};

struct fgp_rq {
    struct reident *r;
    pthread_mutex_t lock;
    struct rq_entry *ring;
    size_t head, n;
    atomic_uint_fast64_t overflows;
    /* broker thread only: (route, pseudonym) already queued in seen_epoch */
    uint64_t *seen;
    size_t seen_cap, seen_n;
    int64_t seen_epoch;
};

fg_err fgp_rq_new(struct reident *r, struct fgp_rq **out)
{
    struct fgp_rq *q = calloc(1, sizeof *q);
    if (!q)
        return FG_ERR_NOMEM;
    q->r = r;
    q->ring = calloc(RQ_CAP, sizeof *q->ring);
    q->seen_cap = 1024;
    q->seen = calloc(q->seen_cap, sizeof *q->seen);
    if (!q->ring || !q->seen) {
        free(q->ring);
        free(q->seen);
        free(q);
        return FG_ERR_NOMEM;
    }
    pthread_mutex_init(&q->lock, NULL);
    q->seen_epoch = INT64_MIN;
    *out = q;
    return FG_OK;
}

static uint64_t key_of(const char *route, const char *pseudonym)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a: pseudonyms are already uniform */
    for (const char *s = route; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    h = (h ^ 0xff) * 1099511628211ULL;
    for (const char *s = pseudonym; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h ? h : 1;
}

/* True if newly inserted. On allocation failure says "new": sealing twice
 * is harmless (reident dedupes too), skipping would not be. */
static bool seen_insert(struct fgp_rq *q, uint64_t k)
{
    if ((q->seen_n + 1) * 2 > q->seen_cap) {
        size_t ncap = q->seen_cap * 2;
        uint64_t *ns = calloc(ncap, sizeof *ns);
        if (!ns)
            return true;
        for (size_t i = 0; i < q->seen_cap; i++)
            if (q->seen[i])
                for (size_t j = q->seen[i] & (ncap - 1);; j = (j + 1) & (ncap - 1))
                    if (!ns[j]) {
                        ns[j] = q->seen[i];
                        break;
                    }
        free(q->seen);
        q->seen = ns;
        q->seen_cap = ncap;
    }
    for (size_t j = k & (q->seen_cap - 1);; j = (j + 1) & (q->seen_cap - 1)) {
        if (q->seen[j] == k)
            return false;
        if (!q->seen[j]) {
            q->seen[j] = k;
            q->seen_n++;
            return true;
        }
    }
}

void fgp_rq_observe(void *ctx, int64_t epoch, const char *domain, const char *value, size_t len,
                    const char *pseudonym)
{
    struct fgp_rq *q = ctx;
    if (epoch != q->seen_epoch) {
        memset(q->seen, 0, q->seen_cap * sizeof *q->seen);
        q->seen_n = 0;
        q->seen_epoch = epoch;
    }
    if (!seen_insert(q, key_of(domain, pseudonym)))
        return;
    bool queued = false;
    if (len < RQ_VALUE_MAX && strlen(domain) < sizeof q->ring[0].route) {
        pthread_mutex_lock(&q->lock);
        if (q->n < RQ_CAP) {
            struct rq_entry *e = &q->ring[(q->head + q->n) % RQ_CAP];
            e->epoch = epoch;
            e->len = len;
            memcpy(e->value, value, len);
            snprintf(e->route, sizeof e->route, "%s", domain);
            snprintf(e->pseudonym, sizeof e->pseudonym, "%s", pseudonym);
            q->n++;
            queued = true;
        }
        pthread_mutex_unlock(&q->lock);
    }
    if (!queued) {
        atomic_fetch_add(&q->overflows, 1);
        reident_record(q->r, epoch, domain, value, len, pseudonym); /* blocks, never drops */
    }
}

size_t fgp_rq_drain(struct fgp_rq *q)
{
    size_t done = 0;
    struct rq_entry e;
    for (;;) {
        pthread_mutex_lock(&q->lock);
        if (!q->n) {
            pthread_mutex_unlock(&q->lock);
            break;
        }
        struct rq_entry *src = &q->ring[q->head];
        e = *src;
        sodium_memzero(src->value, sizeof src->value);
        q->head = (q->head + 1) % RQ_CAP;
        q->n--;
        pthread_mutex_unlock(&q->lock);
        reident_record(q->r, e.epoch, e.route, e.value, e.len, e.pseudonym);
        sodium_memzero(e.value, sizeof e.value);
        done++;
    }
    return done;
}

uint64_t fgp_rq_overflows(const struct fgp_rq *q)
{
    return q ? atomic_load(&q->overflows) : 0;
}

void fgp_rq_free(struct fgp_rq *q)
{
    if (!q)
        return;
    fgp_rq_drain(q);
    sodium_memzero(q->ring, RQ_CAP * sizeof *q->ring);
    free(q->ring);
    free(q->seen);
    pthread_mutex_destroy(&q->lock);
    free(q);
}
