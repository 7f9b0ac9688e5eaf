/* Quarantine of refused messages (quarantine.h). Small and rare: whole-file
 * rewrites under flock are fine here. */
#include "outbox/quarantine.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "common/fg_util.h"

#define MAX_FILE (64u << 20)

static void path_of(const char *dir, const char *name, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s", dir, name);
}

/* Opens (creating 0600) and locks a file; -1 on error. */
static int open_locked(const char *path, int flags)
{
    int fd = open(path, flags | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    if (flock(fd, LOCK_EX) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static bool write_all(int fd, const char *s, size_t n)
{
    while (n) {
        ssize_t w = write(fd, s, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        s += w;
        n -= (size_t)w;
    }
    return true;
}

static char *item_line(const struct outbox_entry *e, const char *reason, int64_t now)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddNumberToObject(o, "id", (double)e->id);
    cJSON_AddNumberToObject(o, "time", (double)now);
    cJSON_AddStringToObject(o, "reason", reason);
    cJSON_AddStringToObject(o, "topic", e->topic);
    cJSON_AddStringToObject(o, "payload", e->payload);
    cJSON_AddStringToObject(o, "route", e->route);
    cJSON_AddStringToObject(o, "purpose", e->purpose);
    cJSON_AddStringToObject(o, "policy", e->policy);
    cJSON_AddNumberToObject(o, "created", (double)e->created_ms);
    cJSON_AddNumberToObject(o, "deadline", (double)e->deadline_ms);
    cJSON_AddNumberToObject(o, "categories", (double)e->categories);
    char *line = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return line;
}

static fg_err append_line(const char *path, const char *line)
{
    int fd = open_locked(path, O_WRONLY | O_CREAT | O_APPEND);
    if (fd < 0)
        return FG_ERR_IO;
    bool ok = write_all(fd, line, strlen(line)) && write_all(fd, "\n", 1) && fsync(fd) == 0;
    close(fd);
    return ok ? FG_OK : FG_ERR_IO;
}

fg_err quarantine_put(const char *dir, const struct outbox_entry *e, const char *reason,
                      int64_t now_ms)
{
    char path[4200];
    path_of(dir, "quarantine.jsonl", path, sizeof path);
    char *line = item_line(e, reason, now_ms);
    if (!line)
        return FG_ERR_NOMEM;
    fg_err err = append_line(path, line);
    free(line);
    return err;
}

static bool parse_item(cJSON *o, struct quarantine_item *it)
{
    const cJSON *f[11];
    static const char *const names[11] = {"id",      "time",     "reason",    "topic",
                                          "payload", "route",    "purpose",   "policy",
                                          "created", "deadline", "categories"};
    for (int i = 0; i < 11; i++)
        if (!(f[i] = cJSON_GetObjectItemCaseSensitive(o, names[i])))
            return false;
    for (int i = 2; i < 8; i++)
        if (!cJSON_IsString(f[i]))
            return false;
    it->id = (uint64_t)f[0]->valuedouble;
    it->time_ms = (int64_t)f[1]->valuedouble;
    it->reason = f[2]->valuestring;
    it->topic = f[3]->valuestring;
    it->payload = f[4]->valuestring;
    it->len = strlen(it->payload);
    it->route = f[5]->valuestring;
    it->purpose = f[6]->valuestring;
    it->policy = f[7]->valuestring;
    it->created_ms = (int64_t)f[8]->valuedouble;
    it->deadline_ms = (int64_t)f[9]->valuedouble;
    it->categories = (uint32_t)f[10]->valuedouble;
    return true;
}

/* Reads the locked file fd whole; NULL with *len 0 if empty. */
static char *read_fd(int fd, size_t *len)
{
    *len = 0;
    off_t size = lseek(fd, 0, SEEK_END);
    if (size <= 0 || size > (off_t)MAX_FILE || lseek(fd, 0, SEEK_SET) != 0)
        return NULL;
    char *buf = malloc((size_t)size + 1);
    if (!buf)
        return NULL;
    size_t got = 0;
    while (got < (size_t)size) {
        ssize_t r = read(fd, buf + got, (size_t)size - got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    buf[got] = '\0';
    *len = got;
    return buf;
}

/* keep(ctx, item) decides per line: true keeps it in the file. Lines kept are
 * rewritten (temp file + rename) when any went away. */
typedef bool (*keep_fn)(void *ctx, const struct quarantine_item *it, const char *line);

static fg_err filter(const char *dir, const char *name, keep_fn keep, void *ctx, bool truncate_all)
{
    char path[4200], tmp[4300];
    path_of(dir, name, path, sizeof path);
    int fd = open_locked(path, O_RDWR | O_CREAT);
    if (fd < 0)
        return errno == ENOENT ? FG_OK : FG_ERR_IO;
    size_t len;
    char *text = read_fd(fd, &len);
    fg_err err = FG_OK;
    char *out = text ? malloc(len + 1) : NULL;
    size_t olen = 0;
    bool changed = false;
    if (text && !out)
        err = FG_ERR_NOMEM;
    char *save = NULL;
    for (char *line = text && out ? strtok_r(text, "\n", &save) : NULL; line;
         line = strtok_r(NULL, "\n", &save)) {
        cJSON *o = cJSON_Parse(line);
        struct quarantine_item it;
        bool k = true;
        if (o && parse_item(o, &it))
            k = keep(ctx, &it, line);
        cJSON_Delete(o);
        if (k && !truncate_all) {
            size_t l = strlen(line);
            memcpy(out + olen, line, l);
            out[olen + l] = '\n';
            olen += l + 1;
        } else
            changed = true;
    }
    if (!err && changed) {
        snprintf(tmp, sizeof tmp, "%s.tmp", path);
        int t = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (t < 0 || !write_all(t, out, olen) || fsync(t) != 0 || close(t) != 0 ||
            rename(tmp, path) != 0) {
            if (t >= 0)
                close(t);
            unlink(tmp);
            err = FG_ERR_IO;
        }
    }
    free(out);
    free(text);
    close(fd); /* the lock goes with it */
    return err;
}

struct list_ctx {
    quarantine_fn fn;
    void *ctx;
    size_t n;
};

static bool list_keep(void *ctx, const struct quarantine_item *it, const char *line)
{
    struct list_ctx *l = ctx;
    (void)line;
    if (l->fn)
        l->fn(l->ctx, it);
    l->n++;
    return true;
}

fg_err quarantine_list(const char *dir, quarantine_fn fn, void *ctx, size_t *count)
{
    struct list_ctx l = {fn, ctx, 0};
    fg_err e = filter(dir, "quarantine.jsonl", list_keep, &l, false);
    if (count)
        *count = l.n;
    return e;
}

struct take_ctx {
    uint64_t id;
    bool all, retry;
    size_t moved;
    char retry_path[4200];
    fg_err err;
};

static bool take_keep(void *ctx, const struct quarantine_item *it, const char *line)
{
    struct take_ctx *t = ctx;
    if (!t->all && it->id != t->id)
        return true;
    if (t->retry && append_line(t->retry_path, line) != FG_OK) {
        t->err = FG_ERR_IO;
        return true; /* not lost: stays quarantined */
    }
    t->moved++;
    return false;
}

fg_err quarantine_take(const char *dir, uint64_t id, bool all, bool retry, size_t *moved)
{
    struct take_ctx t = {.id = id, .all = all, .retry = retry};
    path_of(dir, "retry.jsonl", t.retry_path, sizeof t.retry_path);
    fg_err e = filter(dir, "quarantine.jsonl", take_keep, &t, false);
    *moved = t.moved;
    return e ? e : t.err;
}

struct expire_ctx {
    int64_t now;
    quarantine_fn fn;
    void *ctx;
    size_t n;
};

static bool expire_keep(void *ctx, const struct quarantine_item *it, const char *line)
{
    struct expire_ctx *x = ctx;
    (void)line;
    if (!it->deadline_ms || it->deadline_ms > x->now)
        return true;
    if (x->fn)
        x->fn(x->ctx, it);
    x->n++;
    return false;
}

fg_err quarantine_expire(const char *dir, int64_t now_ms, quarantine_fn fn, void *ctx,
                         size_t *deleted)
{
    struct expire_ctx x = {now_ms, fn, ctx, 0};
    fg_err e = filter(dir, "quarantine.jsonl", expire_keep, &x, false);
    *deleted = x.n;
    return e;
}

fg_err quarantine_retries(const char *dir, quarantine_fn fn, void *ctx, size_t *count)
{
    char path[4200];
    path_of(dir, "retry.jsonl", path, sizeof path);
    if (access(path, F_OK) != 0) {
        *count = 0;
        return FG_OK;
    }
    struct list_ctx l = {fn, ctx, 0};
    fg_err e = filter(dir, "retry.jsonl", list_keep, &l, true);
    *count = l.n;
    return e;
}
