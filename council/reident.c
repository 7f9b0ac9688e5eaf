#include "council/reident.h"

#include <cjson/cJSON.h>
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

/* Seen set: 64-bit keyed hashes of (route, pseudonym) for the current epoch. */
struct reident {
    char *dir;
    unsigned char x_pk[crypto_box_PUBLICKEYBYTES];
    pthread_mutex_t lock;
    int64_t epoch;
    uint64_t *set;
    size_t cap, n;
    unsigned char salt[16];
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

static bool set_insert(struct reident *r, uint64_t k)
{
    if ((r->n + 1) * 2 > r->cap) {
        size_t ncap = r->cap ? r->cap * 2 : 1024;
        uint64_t *ns = calloc(ncap, sizeof *ns);
        if (!ns)
            return true; /* out of memory: at worst we seal a duplicate later */
        for (size_t i = 0; i < r->cap; i++)
            if (r->set[i]) {
                size_t j = r->set[i] & (ncap - 1);
                while (ns[j])
                    j = (j + 1) & (ncap - 1);
                ns[j] = r->set[i];
            }
        free(r->set);
        r->set = ns;
        r->cap = ncap;
    }
    size_t j = k & (r->cap - 1);
    while (r->set[j]) {
        if (r->set[j] == k)
            return false;
        j = (j + 1) & (r->cap - 1);
    }
    r->set[j] = k;
    r->n++;
    return true;
}

/* Reloads the seen set of an epoch from its file (after a restart). */
static void load_epoch(struct reident *r, int64_t epoch)
{
    memset(r->set, 0, r->cap * sizeof *r->set);
    r->n = 0;
    r->epoch = epoch;
    char path[4096], *text = NULL;
    epoch_path(r->dir, epoch, path, sizeof path);
    if (fg_read_file(path, 1u << 30, &text, NULL) != FG_OK)
        return;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char route[64], ps[32];
        if (sscanf(line, "%63s %31s", route, ps) == 2)
            set_insert(r, key_of(r, route, ps));
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
    r->epoch = -1;
    *out = r;
    return FG_OK;
}

void reident_record(struct reident *r, int64_t epoch, const char *route, const char *value,
                    size_t len, const char *pseudonym)
{
    if (strlen(route) >= 64 || strchr(route, ' ') || len > 1024)
        return;
    pthread_mutex_lock(&r->lock);
    if (epoch != r->epoch) {
        if (!r->cap) {
            r->cap = 1024;
            r->set = calloc(r->cap, sizeof *r->set);
        }
        if (r->set)
            load_epoch(r, epoch);
    }
    if (!r->set || !set_insert(r, key_of(r, route, pseudonym))) {
        pthread_mutex_unlock(&r->lock);
        return;
    }
    /* {"id": VALUE}: sealed, so the file holds no readable identifier */
    cJSON *o = cJSON_CreateObject();
    char *idcopy = malloc(len + 1);
    if (!o || !idcopy) {
        cJSON_Delete(o);
        free(idcopy);
        pthread_mutex_unlock(&r->lock);
        return;
    }
    memcpy(idcopy, value, len);
    idcopy[len] = '\0';
    cJSON_AddStringToObject(o, "id", idcopy);
    sodium_memzero(idcopy, len);
    free(idcopy);
    char *plain = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    size_t pl = plain ? strlen(plain) : 0;
    unsigned char *sealed = malloc(pl + crypto_box_SEALBYTES);
    size_t b64len =
        sodium_base64_ENCODED_LEN(pl + crypto_box_SEALBYTES, sodium_base64_VARIANT_ORIGINAL);
    char *b64 = malloc(b64len);
    if (plain && sealed && b64 &&
        crypto_box_seal(sealed, (unsigned char *)plain, pl, r->x_pk) == 0) {
        sodium_bin2base64(b64, b64len, sealed, pl + crypto_box_SEALBYTES,
                          sodium_base64_VARIANT_ORIGINAL);
        char path[4096];
        epoch_path(r->dir, epoch, path, sizeof path);
        int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (fd >= 0) {
            dprintf(fd, "%s %s %lld %s\n", route, pseudonym, (long long)fg_now_ms(), b64);
            close(fd);
        } else
            fg_error("reident", "cannot write the sealed table: %s", strerror(errno));
    }
    if (plain) {
        sodium_memzero(plain, pl);
        free(plain);
    }
    free(sealed);
    free(b64);
    pthread_mutex_unlock(&r->lock);
}

void reident_destroy_epoch(struct reident *r, int64_t epoch)
{
    char path[4096];
    epoch_path(r->dir, epoch, path, sizeof path);
    pthread_mutex_lock(&r->lock);
    if (unlink(path) == 0)
        fg_info("reident", "deleted the re-identification table of epoch %lld", (long long)epoch);
    pthread_mutex_unlock(&r->lock);
}

void reident_close(struct reident *r)
{
    if (!r)
        return;
    pthread_mutex_destroy(&r->lock);
    free(r->set);
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
