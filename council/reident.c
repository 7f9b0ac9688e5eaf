#include "council/reident.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fg_log.h"
#include "common/fg_util.h"

#define ROUTE_MAX 64
#define VALUE_MAX 1024
#define QUEUE_MAX 65536 /* pending entries; past it a sighting is dropped, counted */

/* A sighting waiting for the main thread: the raw identifier lives here, in
 * memory only, until it is sealed; the node is wiped when freed. */
struct pending {
    struct pending *next;
    int64_t epoch, seen_ms;
    char route[ROUTE_MAX];
    char pseudonym[32];
    size_t len;
    char value[];
};

/* A seen set: 64-bit keyed hashes of (route, pseudonym) for one epoch. */
struct seen {
    int64_t epoch;
    uint64_t *set;
    size_t cap, n;
};

struct reident {
    char *dir;
    unsigned char x_pk[crypto_box_PUBLICKEYBYTES];
    unsigned char salt[16];
    pthread_mutex_t lock; /* guards hot and the queue */
    struct seen hot;      /* queued this run: sightings are queued once */
    struct pending *head, **tail;
    size_t queued;
    struct seen disk; /* main thread only: what the epoch's file already holds */
    struct reident_stats st;
};

static void epoch_path(const char *dir, int64_t epoch, char *buf, size_t len)
{
    snprintf(buf, len, "%s/epoch-%lld.sealed", dir, (long long)epoch);
}

static uint64_t key_of(const struct reident *r, const char *route, const char *pseudonym)
{
    unsigned char h[8];
    crypto_generichash_state st;
    crypto_generichash_init(&st, r->salt, sizeof r->salt, sizeof h);
    crypto_generichash_update(&st, (const unsigned char *)route, strlen(route) + 1);
    crypto_generichash_update(&st, (const unsigned char *)pseudonym, strlen(pseudonym));
    crypto_generichash_final(&st, h, sizeof h);
    uint64_t k;
    memcpy(&k, h, sizeof k);
    return k ? k : 1; /* 0 marks an empty slot */
}

static bool seen_has(const struct seen *s, uint64_t k)
{
    if (!s->cap)
        return false;
    size_t j = k & (s->cap - 1);
    while (s->set[j]) {
        if (s->set[j] == k)
            return true;
        j = (j + 1) & (s->cap - 1);
    }
    return false;
}

/* False only when out of memory (then the key is not remembered). */
static bool seen_add(struct seen *s, uint64_t k)
{
    if ((s->n + 1) * 2 > s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 1024;
        uint64_t *ns = calloc(ncap, sizeof *ns);
        if (!ns)
            return false;
        for (size_t i = 0; i < s->cap; i++)
            if (s->set[i]) {
                size_t j = s->set[i] & (ncap - 1);
                while (ns[j])
                    j = (j + 1) & (ncap - 1);
                ns[j] = s->set[i];
            }
        free(s->set);
        s->set = ns;
        s->cap = ncap;
    }
    size_t j = k & (s->cap - 1);
    while (s->set[j]) {
        if (s->set[j] == k)
            return true;
        j = (j + 1) & (s->cap - 1);
    }
    s->set[j] = k;
    s->n++;
    return true;
}

static void seen_reset(struct seen *s, int64_t epoch)
{
    if (s->set)
        memset(s->set, 0, s->cap * sizeof *s->set);
    s->n = 0;
    s->epoch = epoch;
}

/* Main thread: the seen set of an epoch from its file (after a restart). */
static void load_disk_epoch(struct reident *r, int64_t epoch)
{
    seen_reset(&r->disk, epoch);
    char path[4096], *text = NULL;
    epoch_path(r->dir, epoch, path, sizeof path);
    if (fg_read_file(path, 1u << 30, &text, NULL) != FG_OK)
        return;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char route[ROUTE_MAX], ps[32];
        if (sscanf(line, "%63s %31s", route, ps) == 2 && !seen_add(&r->disk, key_of(r, route, ps)))
            break; /* out of memory: at worst a sighting is sealed twice */
    }
    free(text);
}

fg_err reident_open(const char *dir, const unsigned char wc_pk[32], struct reident **out, char *why,
                    size_t why_len)
{
    *out = NULL;
    if (sodium_init() < 0)
        return FG_ERR_CRYPTO;
    if (fg_mkdirs(dir, 0700) != FG_OK) {
        snprintf(why, why_len, "cannot create %s: %s", dir, strerror(errno));
        return FG_ERR_IO;
    }
    struct reident *r = calloc(1, sizeof *r);
    if (!r || !(r->dir = strdup(dir))) {
        free(r);
        return FG_ERR_NOMEM;
    }
    if (crypto_sign_ed25519_pk_to_curve25519(r->x_pk, wc_pk) != 0) {
        snprintf(why, why_len, "the works council key cannot be used for sealing");
        free(r->dir);
        free(r);
        return FG_ERR_CRYPTO;
    }
    randombytes_buf(r->salt, sizeof r->salt);
    pthread_mutex_init(&r->lock, NULL);
    r->hot.epoch = r->disk.epoch = -1;
    r->tail = &r->head;
    *out = r;
    return FG_OK;
}

static void pending_free(struct pending *p)
{
    sodium_memzero(p->value, p->len);
    free(p);
}

/* Counted and said once per kind: the pseudonym went upstream but nobody
 * will be able to re-identify it. */
static void dropped(uint64_t *counter, const char *why)
{
    if ((*counter)++ == 0)
        fg_error("reident",
                 "a pseudonym cannot be re-identified: %s (counted; the stats line "
                 "gives the totals; said once)",
                 why);
}

void reident_record(struct reident *r, int64_t epoch, const char *route, const char *value,
                    size_t len, const char *pseudonym)
{
    size_t rl = strlen(route), pl = strlen(pseudonym);
    if (rl >= ROUTE_MAX || strchr(route, ' ') || len > VALUE_MAX || pl >= 32) {
        pthread_mutex_lock(&r->lock);
        dropped(&r->st.dropped_too_long, "route name or identifier too long for the table");
        pthread_mutex_unlock(&r->lock);
        return;
    }
    uint64_t k = key_of(r, route, pseudonym);
    pthread_mutex_lock(&r->lock);
    if (epoch != r->hot.epoch)
        seen_reset(&r->hot, epoch);
    if (seen_has(&r->hot, k)) {
        pthread_mutex_unlock(&r->lock);
        return;
    }
    struct pending *p = NULL;
    if (r->queued >= QUEUE_MAX)
        dropped(&r->st.dropped_queue_full, "too many sightings wait to be written");
    else if (!(p = malloc(sizeof *p + len)) || !seen_add(&r->hot, k)) {
        free(p);
        p = NULL;
        dropped(&r->st.dropped_nomem, "out of memory");
    }
    if (p) {
        p->next = NULL;
        p->epoch = epoch;
        p->seen_ms = fg_now_ms();
        memcpy(p->route, route, rl + 1);
        memcpy(p->pseudonym, pseudonym, pl + 1);
        memcpy(p->value, value, len);
        p->len = len;
        *r->tail = p;
        r->tail = &p->next;
        r->queued++;
    }
    pthread_mutex_unlock(&r->lock);
}

/* {"id": VALUE} sealed to the works council, base64: the file holds no
 * readable identifier. NULL when out of memory. */
static char *seal_line(const struct reident *r, const struct pending *p)
{
    cJSON *o = cJSON_CreateObject();
    char *idcopy = malloc(p->len + 1);
    char *plain = NULL, *line = NULL;
    if (o && idcopy) {
        memcpy(idcopy, p->value, p->len);
        idcopy[p->len] = '\0';
        cJSON_AddStringToObject(o, "id", idcopy);
        sodium_memzero(idcopy, p->len);
        plain = cJSON_PrintUnformatted(o);
    }
    free(idcopy);
    cJSON_Delete(o);
    size_t pl = plain ? strlen(plain) : 0;
    unsigned char *sealed = plain ? malloc(pl + crypto_box_SEALBYTES) : NULL;
    size_t b64len =
        sodium_base64_ENCODED_LEN(pl + crypto_box_SEALBYTES, sodium_base64_VARIANT_ORIGINAL);
    size_t cap = b64len + ROUTE_MAX + 32 + 32;
    line = sealed ? malloc(cap) : NULL;
    if (line && crypto_box_seal(sealed, (unsigned char *)plain, pl, r->x_pk) == 0) {
        int n = snprintf(line, cap, "%s %s %lld ", p->route, p->pseudonym, (long long)p->seen_ms);
        sodium_bin2base64(line + n, cap - (size_t)n, sealed, pl + crypto_box_SEALBYTES,
                          sodium_base64_VARIANT_ORIGINAL);
        strcat(line, "\n");
    } else {
        free(line);
        line = NULL;
    }
    if (plain) {
        sodium_memzero(plain, pl);
        free(plain);
    }
    free(sealed);
    return line;
}

/* Writes one entry; false if the file cannot be written (the caller keeps it). */
static bool write_one(struct reident *r, const struct pending *p)
{
    if (p->epoch != r->disk.epoch)
        load_disk_epoch(r, p->epoch);
    uint64_t k = key_of(r, p->route, p->pseudonym);
    if (seen_has(&r->disk, k))
        return true; /* sealed by an earlier run */
    char *line = seal_line(r, p);
    if (!line) {
        pthread_mutex_lock(&r->lock);
        dropped(&r->st.dropped_nomem, "out of memory");
        pthread_mutex_unlock(&r->lock);
        return true;
    }
    char path[4096];
    epoch_path(r->dir, p->epoch, path, sizeof path);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    size_t ll = strlen(line);
    bool ok = fd >= 0 && write(fd, line, ll) == (ssize_t)ll;
    int err = errno;
    if (fd >= 0 && close(fd) != 0)
        ok = false;
    free(line);
    pthread_mutex_lock(&r->lock);
    bool first = !ok && r->st.write_errors++ == 0;
    if (ok)
        r->st.written++;
    pthread_mutex_unlock(&r->lock);
    if (!ok) {
        if (first)
            fg_error("reident",
                     "cannot write the sealed table %s: %s; sightings wait in memory "
                     "and are retried",
                     path, strerror(err));
        return false;
    }
    if (!seen_add(&r->disk, k))
        r->disk.epoch = -1; /* reloaded next time */
    return true;
}

size_t reident_flush(struct reident *r)
{
    if (!r)
        return 0;
    pthread_mutex_lock(&r->lock);
    struct pending *list = r->head;
    r->head = NULL;
    r->tail = &r->head;
    size_t n = r->queued;
    r->queued = 0;
    pthread_mutex_unlock(&r->lock);
    size_t done = 0;
    while (list) {
        struct pending *p = list;
        if (!write_one(r, p))
            break;
        list = p->next;
        pending_free(p);
        done++;
    }
    if (list) {
        /* The disk refused: put the rest back in front, in order. */
        struct pending *last = list;
        while (last->next)
            last = last->next;
        pthread_mutex_lock(&r->lock);
        last->next = r->head;
        if (!r->head)
            r->tail = &last->next;
        r->head = list;
        r->queued += n - done;
        pthread_mutex_unlock(&r->lock);
    }
    return done;
}

void reident_get_stats(struct reident *r, struct reident_stats *st)
{
    pthread_mutex_lock(&r->lock);
    *st = r->st;
    st->queued = r->queued;
    pthread_mutex_unlock(&r->lock);
}

void reident_destroy_epoch(struct reident *r, int64_t epoch)
{
    char path[4096];
    epoch_path(r->dir, epoch, path, sizeof path);
    /* Sightings of that epoch still queued go with it. */
    pthread_mutex_lock(&r->lock);
    struct pending **pp = &r->head;
    while (*pp) {
        struct pending *p = *pp;
        if (p->epoch == epoch) {
            *pp = p->next;
            pending_free(p);
            r->queued--;
        } else
            pp = &p->next;
    }
    r->tail = pp;
    pthread_mutex_unlock(&r->lock);
    if (unlink(path) == 0)
        fg_info("reident", "deleted the re-identification table of epoch %lld", (long long)epoch);
}

void reident_close(struct reident *r)
{
    if (!r)
        return;
    (void)reident_flush(r);
    while (r->head) {
        struct pending *p = r->head;
        r->head = p->next;
        pending_free(p);
    }
    pthread_mutex_destroy(&r->lock);
    free(r->hot.set);
    free(r->disk.set);
    free(r->dir);
    free(r);
}

/* ---- offline, with the works council's key ------------------------------ */

static fg_err open_entry(const char *b64, const unsigned char *x_pk, const unsigned char *x_sk,
                         char *id, size_t id_len)
{
    size_t blen = strlen(b64), bin = 0;
    unsigned char *sealed = malloc(blen);
    if (!sealed)
        return FG_ERR_NOMEM;
    fg_err e = FG_ERR_PARSE;
    if (sodium_base642bin(sealed, blen, b64, blen, NULL, &bin, NULL,
                          sodium_base64_VARIANT_ORIGINAL) == 0 &&
        bin > crypto_box_SEALBYTES) {
        unsigned char *plain = sodium_malloc(bin - crypto_box_SEALBYTES + 1);
        if (plain && crypto_box_seal_open(plain, sealed, bin, x_pk, x_sk) == 0) {
            plain[bin - crypto_box_SEALBYTES] = '\0';
            cJSON *o = cJSON_Parse((char *)plain);
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "id");
            if (cJSON_IsString(v)) {
                snprintf(id, id_len, "%s", v->valuestring);
                e = FG_OK;
            }
            cJSON_Delete(o);
        } else
            e = FG_ERR_CRYPTO;
        if (plain)
            sodium_free(plain);
    }
    free(sealed);
    return e;
}

struct scan {
    const char *route, *pseudonym, *id;
    char *out;
    size_t out_len;
    struct reident_hit *hit;
    reident_hit_fn fn;
    void *ctx;
    size_t opened, failed;
    bool found;
};

static fg_err scan_dir(const char *dir, const unsigned char *wc_sk, struct scan *s)
{
    unsigned char x_pk[crypto_box_PUBLICKEYBYTES], pk[32];
    unsigned char *x_sk = sodium_malloc(crypto_box_SECRETKEYBYTES);
    if (!x_sk)
        return FG_ERR_NOMEM;
    crypto_sign_ed25519_sk_to_pk(pk, wc_sk);
    if (crypto_sign_ed25519_pk_to_curve25519(x_pk, pk) != 0 ||
        crypto_sign_ed25519_sk_to_curve25519(x_sk, wc_sk) != 0) {
        sodium_free(x_sk);
        return FG_ERR_CRYPTO;
    }
    DIR *d = opendir(dir);
    if (!d) {
        sodium_free(x_sk);
        return FG_ERR_NOT_FOUND;
    }
    struct dirent *de;
    while ((de = readdir(d)) && !(s->found && s->out)) {
        long long epoch;
        if (sscanf(de->d_name, "epoch-%lld.sealed", &epoch) != 1)
            continue;
        char path[4096], *text = NULL;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        if (fg_read_file(path, 1u << 30, &text, NULL) != FG_OK)
            continue;
        char *save = NULL;
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
            char route[64], ps[32], b64[2048];
            long long first;
            if (sscanf(line, "%63s %31s %lld %2047s", route, ps, &first, b64) != 4)
                continue;
            if (s->route && (strcmp(route, s->route) || strcmp(ps, s->pseudonym)))
                continue;
            char id[1100];
            fg_err e = open_entry(b64, x_pk, x_sk, id, sizeof id);
            if (e) {
                s->failed++;
                continue;
            }
            s->opened++;
            struct reident_hit hit = {.epoch = epoch, .first_seen_ms = first};
            snprintf(hit.route, sizeof hit.route, "%s", route);
            snprintf(hit.pseudonym, sizeof hit.pseudonym, "%s", ps);
            if (s->out) {
                snprintf(s->out, s->out_len, "%s", id);
                if (s->hit)
                    *s->hit = hit;
                s->found = true;
            } else if (s->id && !strcmp(id, s->id)) {
                s->found = true;
                s->fn(s->ctx, &hit);
            }
            sodium_memzero(id, sizeof id);
            if (s->found && s->out)
                break;
        }
        free(text);
    }
    closedir(d);
    sodium_free(x_sk);
    return FG_OK;
}

fg_err reident_lookup(const char *dir, const unsigned char *wc_sk, const char *route,
                      const char *pseudonym, char *id, size_t id_len, struct reident_hit *hit)
{
    struct scan s = {
        .route = route, .pseudonym = pseudonym, .out = id, .out_len = id_len, .hit = hit};
    fg_err e = scan_dir(dir, wc_sk, &s);
    if (e && e != FG_ERR_NOT_FOUND)
        return e;
    if (s.found)
        return FG_OK;
    return s.failed ? FG_ERR_CRYPTO : FG_ERR_NOT_FOUND;
}

fg_err reident_subject(const char *dir, const unsigned char *wc_sk, const char *id,
                       reident_hit_fn fn, void *ctx, size_t *opened, size_t *failed)
{
    struct scan s = {.id = id, .fn = fn, .ctx = ctx};
    fg_err e = scan_dir(dir, wc_sk, &s);
    *opened = s.opened;
    *failed = s.failed;
    if (e == FG_ERR_NOT_FOUND)
        return FG_OK; /* no tables kept: nothing about anyone */
    if (e)
        return e;
    return s.failed && !s.opened ? FG_ERR_CRYPTO : FG_OK;
}

void reident_destroy_epoch_offline(const char *dir, int64_t epoch)
{
    char path[4096];
    epoch_path(dir, epoch, path, sizeof path);
    if (unlink(path) == 0)
        fg_info("reident", "deleted the re-identification table of epoch %lld", (long long)epoch);
}
