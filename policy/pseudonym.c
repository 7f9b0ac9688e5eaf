#include "policy/pseudonym.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fg_log.h"
#include "common/fg_util.h"

#define MAX_EPOCHS 512

struct epoch_key {
    int64_t epoch;
    int64_t end_ms;     /* when the epoch ends: the key is destroyed at end_ms + keep_ms */
    unsigned char *key; /* sodium_malloc'd */
};

struct pseudonym_keyring {
    char *dir;
    _Atomic int64_t rotate_ms; /* read without the lock by pseudonym_epoch_of */
    int64_t keep_ms;
    int64_t current;
    struct epoch_key keys[MAX_EPOCHS];
    size_t nkeys;
    pseudonym_event_fn hook;
    void *hook_ctx;
    pseudonym_observer_fn observer;
    void *observer_ctx;
    pthread_mutex_t lock;
};

static void key_path(const struct pseudonym_keyring *k, int64_t epoch, char *buf, size_t len)
{
    snprintf(buf, len, "%s/pseudonym-%lld.key", k->dir, (long long)epoch);
}

int64_t pseudonym_epoch_of(const struct pseudonym_keyring *k, int64_t now_ms)
{
    return now_ms / k->rotate_ms;
}

/* STATE/keys/deadlines: "EPOCH END_MS DESTROY_AT_MS" per kept key, rewritten on every
 * change, so that `reidentify` can destroy what is due while the daemon is stopped and
 * a restart with another rotation still knows when each older epoch ended. */
static void save_deadlines(const struct pseudonym_keyring *k)
{
    char path[4096], *buf = malloc(k->nkeys * 64 + 1);
    size_t off = 0;
    if (!buf)
        return;
    buf[0] = '\0';
    for (size_t i = 0; i < k->nkeys; i++)
        off += (size_t)snprintf(buf + off, 64, "%lld %lld %lld\n", (long long)k->keys[i].epoch,
                                (long long)k->keys[i].end_ms,
                                (long long)(k->keys[i].end_ms + k->keep_ms));
    snprintf(path, sizeof path, "%s/deadlines", k->dir);
    if (fg_write_file_atomic(path, buf, off, 0600) != FG_OK)
        fg_warn("pseudonym", "cannot write %s: key deadlines are not known offline", path);
    free(buf);
}

/* End of epoch as recorded, or -1. */
static int64_t recorded_end(const char *dir, int64_t epoch)
{
    char path[4096], *text = NULL;
    snprintf(path, sizeof path, "%s/deadlines", dir);
    if (fg_read_file(path, 1 << 20, &text, NULL) != FG_OK)
        return -1;
    int64_t end = -1;
    char *save = NULL;
    for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        long long e, en, d;
        if (sscanf(l, "%lld %lld %lld", &e, &en, &d) == 3 && e == epoch)
            end = en;
    }
    free(text);
    return end;
}

static struct epoch_key *find(const struct pseudonym_keyring *k, int64_t epoch)
{
    for (size_t i = 0; i < k->nkeys; i++)
        if (k->keys[i].epoch == epoch)
            return (struct epoch_key *)&k->keys[i];
    return NULL;
}

int pseudonym_has_epoch(const struct pseudonym_keyring *k, int64_t epoch)
{
    return find(k, epoch) != NULL;
}

/* Overwrite then unlink: on flash the overwrite may not reach the same cells,
 * which is why keys also never enter backups or swap (sodium_malloc locks them). */
static void destroy_file(const char *path)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
        unsigned char zero[PSEUDONYM_KEY_BYTES] = {0};
        if (write(fd, zero, sizeof zero) < 0)
            fg_warn("pseudonym", "could not overwrite a destroyed key file");
        fsync(fd);
        close(fd);
    }
    unlink(path);
}

static void destroy(struct pseudonym_keyring *k, size_t i)
{
    char path[4096];
    key_path(k, k->keys[i].epoch, path, sizeof path);
    destroy_file(path);
    int fd = open(k->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    int64_t epoch = k->keys[i].epoch;
    sodium_free(k->keys[i].key); /* sodium_free wipes before freeing */
    k->keys[i] = k->keys[--k->nkeys];
    fg_info("pseudonym", "destroyed the key of epoch %lld", (long long)epoch);
    if (k->hook)
        k->hook(k->hook_ctx, "pseudonym.key_destroyed", epoch);
}

static bool expired(const struct pseudonym_keyring *k, const struct epoch_key *ek, int64_t now_ms)
{
    return ek->end_ms + k->keep_ms <= now_ms;
}

/* rotate_ms: the rotation a created key belongs to. */
static fg_err load_key(struct pseudonym_keyring *k, int64_t epoch, bool create, int64_t rotate_ms,
                       char *why, size_t why_len)
{
    if (k->nkeys == MAX_EPOCHS) {
        snprintf(why, why_len, "too many pseudonym epochs kept");
        return FG_ERR_FULL;
    }
    char path[4096];
    key_path(k, epoch, path, sizeof path);
    unsigned char *key;
    fg_err e = fg_load_secret(path, PSEUDONYM_KEY_BYTES, create, &key, why, why_len);
    if (e)
        return e;
    k->keys[k->nkeys].epoch = epoch;
    k->keys[k->nkeys].key = key;
    /* A key made before deadlines were recorded (or whose record is lost) is taken to
     * belong to the current rotation; if that puts it in the future it was made under
     * a shorter one, and ending it now is the safe side. */
    int64_t end = create ? (epoch + 1) * rotate_ms : recorded_end(k->dir, epoch);
    if (end < 0) {
        end = (epoch + 1) * k->rotate_ms;
        if (epoch * k->rotate_ms > fg_now_ms() + k->rotate_ms)
            end = 0;
    }
    k->keys[k->nkeys].end_ms = end;
    k->nkeys++;
    return FG_OK;
}

fg_err pseudonym_keyring_open(const char *dir, int64_t rotate_ms, int64_t keep_ms,
                              struct pseudonym_keyring **out, char *why, size_t why_len)
{
    *out = NULL;
    if (rotate_ms <= 0 || keep_ms < 0) {
        snprintf(why, why_len, "pseudonym rotation must be positive");
        return FG_ERR_CONFIG;
    }
    if (sodium_init() < 0)
        return FG_ERR_CRYPTO;
    if (fg_mkdirs(dir, 0700) != FG_OK) {
        snprintf(why, why_len, "cannot create key directory %s: %s", dir, strerror(errno));
        return FG_ERR_IO;
    }
    struct pseudonym_keyring *k = calloc(1, sizeof *k);
    if (!k || !(k->dir = strdup(dir))) {
        free(k);
        return FG_ERR_NOMEM;
    }
    k->rotate_ms = rotate_ms;
    k->keep_ms = keep_ms;
    k->current = -1;
    pthread_mutex_init(&k->lock, NULL);
    /* Load every kept epoch key so older pseudonyms stay re-identifiable
     * (through the sealed table) until their keys are destroyed. */
    DIR *d = opendir(dir);
    fg_err e = FG_OK;
    if (d) {
        struct dirent *de;
        while (!e && (de = readdir(d))) {
            long long epoch;
            char tail[8];
            if (sscanf(de->d_name, "pseudonym-%lld.ke%1s", &epoch, tail) == 2 &&
                strcmp(tail, "y") == 0)
                e = load_key(k, epoch, false, rotate_ms, why, why_len);
        }
        closedir(d);
    }
    if (e) {
        pseudonym_keyring_close(k);
        return e;
    }
    *out = k;
    return FG_OK;
}

void pseudonym_keyring_set_observer(struct pseudonym_keyring *k, pseudonym_observer_fn fn,
                                    void *ctx)
{
    k->observer = fn;
    k->observer_ctx = ctx;
}

void pseudonym_keyring_set_hook(struct pseudonym_keyring *k, pseudonym_event_fn fn, void *ctx)
{
    k->hook = fn;
    k->hook_ctx = ctx;
}

/* Creates the key of an epoch if it is missing; caller holds the lock. */
static fg_err ensure_key(struct pseudonym_keyring *k, int64_t epoch, int64_t rotate_ms,
                         bool *changed)
{
    if (find(k, epoch))
        return FG_OK;
    char why[256];
    fg_err e = load_key(k, epoch, true, rotate_ms, why, sizeof why);
    if (e)
        fg_error("pseudonym", "%s", why);
    else
        *changed = true;
    return e;
}

fg_err pseudonym_keyring_tick(struct pseudonym_keyring *k, int64_t now_ms)
{
    pthread_mutex_lock(&k->lock);
    int64_t epoch = pseudonym_epoch_of(k, now_ms);
    bool changed = false;
    /* The current key, and already the next one: an input that arrives just after
     * the boundary, before this tick, finds its key (never "not found"). */
    fg_err e = ensure_key(k, epoch, k->rotate_ms, &changed);
    if (!e && ensure_key(k, epoch + 1, k->rotate_ms, &changed) != FG_OK)
        fg_warn("pseudonym", "cannot make the next epoch's key ahead of time");
    if (!e && epoch != k->current) {
        fg_info("pseudonym", "new pseudonym epoch %lld", (long long)epoch);
        if (k->hook)
            k->hook(k->hook_ctx, "pseudonym.rotated", epoch);
        k->current = epoch;
    }
    /* A key of another rotation (the policy changed it) is used no more: its epoch
     * ends now, whatever its old end was. */
    for (size_t i = 0; i < k->nkeys; i++)
        if (k->keys[i].epoch != epoch && k->keys[i].epoch != epoch + 1 &&
            k->keys[i].end_ms > now_ms) {
            k->keys[i].end_ms = now_ms;
            changed = true;
        }
    /* Exactly at its deadline (end of its epoch + keep_keys), not at the next rotation. */
    for (size_t i = 0; i < k->nkeys;)
        if (k->keys[i].epoch != epoch && expired(k, &k->keys[i], now_ms)) {
            destroy(k, i);
            changed = true;
        } else
            i++;
    if (changed)
        save_deadlines(k);
    pthread_mutex_unlock(&k->lock);
    return e;
}

void pseudonym_keyring_configure(struct pseudonym_keyring *k, int64_t rotate_ms, int64_t keep_ms,
                                 int64_t now_ms)
{
    if (rotate_ms <= 0 || keep_ms < 0)
        return;
    pthread_mutex_lock(&k->lock);
    bool same = k->rotate_ms == rotate_ms && k->keep_ms == keep_ms;
    if (!same)
        fg_info("pseudonym", "key lifetimes follow the active policy: rotate %lld ms, keep %lld ms",
                (long long)rotate_ms, (long long)keep_ms);
    /* The new rotation's keys exist before an input can ask for them. */
    int64_t cur = now_ms / rotate_ms;
    bool made = false;
    if (!same && (ensure_key(k, cur, rotate_ms, &made) != FG_OK ||
                  ensure_key(k, cur + 1, rotate_ms, &made) != FG_OK))
        fg_warn("pseudonym", "cannot make the new rotation's keys ahead of time");
    k->rotate_ms = rotate_ms;
    k->keep_ms = keep_ms;
    /* The pre-made next key of the old rotation belongs to no epoch any more. */
    for (size_t i = 0; i < k->nkeys && !same;)
        if (k->keys[i].epoch > k->current && k->keys[i].epoch != cur &&
            k->keys[i].epoch != cur + 1 && k->keys[i].end_ms > now_ms)
            destroy(k, i);
        else
            i++;
    if (!same)
        save_deadlines(k);
    pthread_mutex_unlock(&k->lock);
}

int64_t pseudonym_keyring_next_deadline(struct pseudonym_keyring *k)
{
    pthread_mutex_lock(&k->lock);
    int64_t next = (k->current + 1) * k->rotate_ms; /* the next boundary */
    for (size_t i = 0; i < k->nkeys; i++)
        if (k->keys[i].epoch != k->current && k->keys[i].end_ms + k->keep_ms < next)
            next = k->keys[i].end_ms + k->keep_ms;
    pthread_mutex_unlock(&k->lock);
    return next;
}

fg_err pseudonym_expire_offline(const char *dir, int64_t now_ms, pseudonym_event_fn fn, void *ctx)
{
    char path[4096], *text = NULL;
    snprintf(path, sizeof path, "%s/deadlines", dir);
    fg_err e = fg_read_file(path, 1 << 20, &text, NULL);
    if (e)
        return e;
    char *save = NULL;
    for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        long long ep, end, at;
        if (sscanf(l, "%lld %lld %lld", &ep, &end, &at) != 3 || at > now_ms)
            continue;
        char kp[4200];
        snprintf(kp, sizeof kp, "%s/pseudonym-%lld.key", dir, ep);
        if (access(kp, F_OK) != 0)
            continue;
        destroy_file(kp);
        fg_info("pseudonym", "destroyed the key of epoch %lld (its deadline has passed)", ep);
        if (fn)
            fn(ctx, "pseudonym.key_destroyed", ep);
    }
    free(text);
    return FG_OK;
}

fg_err pseudonym_make(const struct pseudonym_keyring *k, int64_t epoch, const char *domain,
                      const char *value, size_t len, char out[PSEUDONYM_HEX_LEN + 1])
{
    pthread_mutex_t *lock = (pthread_mutex_t *)&k->lock; /* tick may destroy keys meanwhile */
    pthread_mutex_lock(lock);
    const struct epoch_key *ek = find(k, epoch);
    if (!ek) {
        pthread_mutex_unlock(lock);
        return FG_ERR_NOT_FOUND;
    }
    /* H_key(domain || 0x00 || value): the domain separates routes, so the
     * same worker gets unrelated pseudonyms on different routes. */
    crypto_generichash_state st;
    unsigned char h[PSEUDONYM_HEX_LEN / 2];
    crypto_generichash_init(&st, ek->key, PSEUDONYM_KEY_BYTES, sizeof h);
    crypto_generichash_update(&st, (const unsigned char *)domain, strlen(domain) + 1);
    crypto_generichash_update(&st, (const unsigned char *)value, len);
    crypto_generichash_final(&st, h, sizeof h);
    pthread_mutex_unlock(lock);
    sodium_bin2hex(out, PSEUDONYM_HEX_LEN + 1, h, sizeof h);
    sodium_memzero(&st, sizeof st);
    if (k->observer)
        k->observer(k->observer_ctx, epoch, domain, value, len, out);
    return FG_OK;
}

void pseudonym_keyring_close(struct pseudonym_keyring *k)
{
    if (!k)
        return;
    for (size_t i = 0; i < k->nkeys; i++)
        sodium_free(k->keys[i].key);
    pthread_mutex_destroy(&k->lock);
    free(k->dir);
    free(k);
}
