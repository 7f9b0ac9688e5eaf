/* Decoders built outside fairgate's source tree: shared objects exporting
 * `const struct fg_decoder fairgate_decoder` (include/fairgate/sensor_decoder.h),
 * loaded from a directory nobody but root or fairgate's own user can write,
 * and reached through an adapter that gives them a read-only view of the
 * fields and the record's checked setters only. Also the decoder lookup that
 * built-in and loaded decoders share, and the exercise `sensors check` runs. */
#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fg_util.h"
#include "fairgate/sensor_decoder.h"
#include "sensors/sensor_internal.h"

/* The public codes are fg_err's values: a plugin's result passes unchanged. */
_Static_assert(FG_DECODER_ERR_CONFIG == (int)FG_ERR_CONFIG, "ABI: CONFIG");
_Static_assert(FG_DECODER_ERR_PARSE == (int)FG_ERR_PARSE, "ABI: PARSE");
_Static_assert(FG_DECODER_ERR_TYPE == (int)FG_ERR_TYPE, "ABI: TYPE");
_Static_assert(FG_DECODER_ERR_RANGE == (int)FG_ERR_RANGE, "ABI: RANGE");
_Static_assert(FG_DECODER_ERR_TOO_BIG == (int)FG_ERR_TOO_BIG, "ABI: TOO_BIG");
_Static_assert(FG_DECODER_ERR_MISSING == (int)FG_ERR_MISSING, "ABI: MISSING");
_Static_assert(FG_DECODER_ENUM == (int)SENSOR_ENUM &&
                   FG_DECODER_TIMESTAMP == (int)SENSOR_TIMESTAMP &&
                   FG_DECODER_STRING == (int)SENSOR_STRING,
               "ABI: field types");

const struct sensor_decoder *sensor_registry_decoder(const struct sensor_registry *r,
                                                     const char *name)
{
    for (const struct sensor_decoder *const *d = sensor_decoders; *d; d++)
        if (strcmp((*d)->name, name) == 0)
            return *d;
    for (size_t i = 0; r && i < r->nplugins; i++)
        if (strcmp(r->plugins[i]->name, name) == 0)
            return r->plugins[i];
    return NULL;
}

size_t sensor_registry_plugin_count(const struct sensor_registry *r)
{
    return r->nplugins;
}

const struct sensor_decoder *sensor_registry_plugin_at(const struct sensor_registry *r, size_t i)
{
    return i < r->nplugins ? r->plugins[i] : NULL;
}

fg_err sensor_registry_add_plugin(struct sensor_registry *r, struct sensor_decoder *d, void *handle,
                                  char *why, size_t why_len)
{
    if (sensor_registry_decoder(r, d->name)) {
        snprintf(why, why_len, "%s: a decoder named '%s' is already loaded or built in", d->file,
                 d->name);
        return FG_ERR_CONFIG;
    }
    if (r->nplugins == MAX_PLUGINS) {
        snprintf(why, why_len, "%s: more than %d decoders", d->file, MAX_PLUGINS);
        return FG_ERR_CONFIG;
    }
    r->plugins[r->nplugins] = d;
    r->handles[r->nplugins++] = handle;
    return FG_OK;
}

/* A misspelt decoder: the nearest name when it is within half the word's
 * length (decoder names are short: "kv" for "kvv" or "k-v"), or one that
 * starts with the word; and always the list of what exists. */
void sensor_decoder_suggest(const struct sensor_registry *r, const char *want, char *msg,
                            size_t len)
{
    const char *names[64 + MAX_PLUGINS], *best = NULL;
    size_t nn = 0, best_d = (size_t)-1;
    for (const struct sensor_decoder *const *d = sensor_decoders; *d && nn < 64; d++)
        names[nn++] = (*d)->name;
    for (size_t i = 0; r && i < r->nplugins; i++)
        names[nn++] = r->plugins[i]->name;
    size_t wl = strlen(want), limit = wl / 2 > 2 ? wl / 2 : 2;
    for (size_t i = 0; i < nn; i++) {
        size_t d = fg_edit_distance(want, names[i], true);
        if (strncmp(names[i], want, wl) == 0 && d > 0)
            d = 1; /* a prefix: "senm" for "senml" */
        if (d < best_d) {
            best_d = d;
            best = names[i];
        }
    }
    char list[512] = "";
    for (size_t i = 0, o = 0; i < nn && o < sizeof list; i++)
        o += (size_t)snprintf(list + o, sizeof list - o, "%s%s", i ? ", " : "", names[i]);
    if (best && best_d <= limit)
        snprintf(msg, len, "unknown decoder '%s' (did you mean '%s'?); decoders: %s", want, best,
                 list);
    else
        snprintf(msg, len,
                 "unknown decoder '%s'; decoders: %s (a decoder built outside fairgate loads "
                 "from the directory given by --decoders or sensors.decoders)",
                 want, list);
}

/* ---- the host side of the ABI ------------------------------------------------ */

static struct sensor_record *host_rec(struct fg_decoder_record *r, size_t idx, char *why,
                                      size_t why_len)
{
    struct sensor_record *rec = (struct sensor_record *)r;
    if (!rec || idx >= rec->type->nfields) {
        snprintf(why, why_len, "decoder stored a field index outside the type's fields");
        return NULL;
    }
    return rec;
}

static int host_set_string(struct fg_decoder_record *r, size_t idx, const char *s, size_t len,
                           char *why, size_t why_len)
{
    struct sensor_record *rec = host_rec(r, idx, why, why_len);
    if (!rec || (!s && len))
        return rec ? FG_ERR_PARSE : FG_ERR_RANGE;
    return sensor_record_set_string(rec, idx, s ? s : "", len, why, why_len);
}

static int host_set_number(struct fg_decoder_record *r, size_t idx, double v, char *why,
                           size_t why_len)
{
    struct sensor_record *rec = host_rec(r, idx, why, why_len);
    return rec ? (int)sensor_record_set_number(rec, idx, v, why, why_len) : FG_ERR_RANGE;
}

static int host_set_int(struct fg_decoder_record *r, size_t idx, int64_t v, char *why,
                        size_t why_len)
{
    struct sensor_record *rec = host_rec(r, idx, why, why_len);
    return rec ? (int)sensor_record_set_int(rec, idx, v, why, why_len) : FG_ERR_RANGE;
}

static int host_set_bool(struct fg_decoder_record *r, size_t idx, int v, char *why, size_t why_len)
{
    struct sensor_record *rec = host_rec(r, idx, why, why_len);
    if (!rec)
        return FG_ERR_RANGE;
    if (sensor_record_set_bool(rec, idx, v != 0) == FG_OK)
        return FG_OK;
    snprintf(why, why_len, "field '%s' must be %s, got a boolean", rec->type->fields[idx].name,
             sensor_ftype_name(rec->type->fields[idx].type));
    return FG_ERR_TYPE;
}

static int host_set_time_ms(struct fg_decoder_record *r, size_t idx, int64_t ms, char *why,
                            size_t why_len)
{
    struct sensor_record *rec = host_rec(r, idx, why, why_len);
    if (!rec)
        return FG_ERR_RANGE;
    const struct sensor_field *f = &rec->type->fields[idx];
    if (f->type != SENSOR_TIMESTAMP) {
        snprintf(why, why_len, "field '%s' must be %s, got a time", f->name,
                 sensor_ftype_name(f->type));
        return FG_ERR_TYPE;
    }
    if (ms < 0 || ms > 100000000000000LL) {
        snprintf(why, why_len, "field '%s' is not a plausible epoch time", f->name);
        return FG_ERR_RANGE;
    }
    rec->values[idx].present = true;
    rec->values[idx].v.i = ms;
    return FG_OK;
}

static const struct fg_decoder_host host = {
    .set_string = host_set_string,
    .set_number = host_set_number,
    .set_int = host_set_int,
    .set_bool = host_set_bool,
    .set_time_ms = host_set_time_ms,
};

/* A plugin's answer as an fg_err with a reason, whatever it returned. */
static fg_err plugin_result(const struct sensor_decoder *d, int rc, bool for_check, char *why,
                            size_t why_len)
{
    if (why_len)
        why[why_len - 1] = '\0';
    if (rc == FG_DECODER_OK)
        return FG_OK;
    bool known = for_check ? rc == FG_DECODER_ERR_CONFIG
                           : rc == FG_DECODER_ERR_PARSE || rc == FG_DECODER_ERR_TYPE ||
                                 rc == FG_DECODER_ERR_RANGE || rc == FG_DECODER_ERR_TOO_BIG ||
                                 rc == FG_DECODER_ERR_MISSING;
    if (!known) {
        snprintf(why, why_len, "decoder %s returned an unknown result code %d", d->name, rc);
        return for_check ? FG_ERR_CONFIG : FG_ERR_PARSE;
    }
    if (!why[0])
        snprintf(why, why_len, "decoder %s gave no reason", d->name);
    return (fg_err)rc;
}

static fg_err plugin_decode(const struct sensor_type *t, const unsigned char *payload, size_t len,
                            struct sensor_record *rec, char *why, size_t why_len)
{
    if (why_len)
        why[0] = '\0';
    int rc = t->decoder->plugin->decode(t->plugin_view, payload, len, &host,
                                        (struct fg_decoder_record *)rec, why, why_len);
    return plugin_result(t->decoder, rc, false, why, why_len);
}

struct view {
    struct fg_decoder_type t;
    struct fg_decoder_field f[SENSOR_MAX_FIELDS];
};

void sensor_plugin_view_free(struct fg_decoder_type *v)
{
    free(v); /* the first member of struct view */
}

fg_err sensor_plugin_bind(struct sensor_type *t, char *why, size_t why_len)
{
    struct view *v = calloc(1, sizeof *v);
    if (!v)
        return FG_ERR_NOMEM;
    v->t.name = t->name;
    v->t.nfields = t->nfields;
    v->t.fields = v->f;
    for (size_t i = 0; i < t->nfields; i++) {
        const struct sensor_field *f = &t->fields[i];
        v->f[i] = (struct fg_decoder_field){.name = f->name,
                                            .path = (const char *const *)f->path,
                                            .path_len = f->path_len,
                                            .type = (int)f->type,
                                            .unit = f->unit};
    }
    t->plugin_view = &v->t;
    const struct fg_decoder *pd = t->decoder->plugin;
    if (!pd->check)
        return FG_OK;
    why[0] = '\0';
    return plugin_result(t->decoder, pd->check(t->plugin_view, why, why_len), true, why, why_len);
}

void sensor_plugin_unload(struct sensor_decoder *d, void *handle)
{
    if (d) {
        free((char *)d->name);
        free((char *)d->file);
        free(d);
    }
    if (handle)
        dlclose(handle);
}

/* ---- loading ------------------------------------------------------------------ */

/* Owned by root or by us, and writable by nobody else. */
static fg_err safe_owner(const struct stat *st, const char *path, const char *what, char *why,
                         size_t why_len)
{
    if (st->st_uid != 0 && st->st_uid != geteuid()) {
        snprintf(why, why_len,
                 "%s: refused: the %s is owned by uid %u, not by root or the user fairgate runs "
                 "as (uid %u)",
                 path, what, (unsigned)st->st_uid, (unsigned)geteuid());
        return FG_ERR_PERM;
    }
    if (st->st_mode & (S_IWGRP | S_IWOTH)) {
        snprintf(why, why_len,
                 "%s: refused: the %s is writable by %s (mode %04o); a decoder runs inside "
                 "fairgate: chmod go-w %s",
                 path, what, st->st_mode & S_IWOTH ? "everyone" : "its group",
                 (unsigned)(st->st_mode & 07777), path);
        return FG_ERR_PERM;
    }
    return FG_OK;
}

static bool name_ok(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_') || n >= 32)
            return false;
    }
    return n > 0;
}

static fg_err load_one(struct sensor_registry *r, const char *path, char *why, size_t why_len)
{
    /* Check the file we then load: open it without following a link, judge
     * the open file, and let the loader read it through the same descriptor. */
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        snprintf(why, why_len, "%s: cannot open decoder (a symbolic link is refused)", path);
        return FG_ERR_IO;
    }
    struct stat st;
    fg_err e = FG_OK;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(why, why_len, "%s: not a regular file", path);
        e = FG_ERR_IO;
    }
    if (!e)
        e = safe_owner(&st, path, "decoder file", why, why_len);
    void *h = NULL;
    if (!e) {
        char self[64];
        snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
        if (!(h = dlopen(self, RTLD_NOW | RTLD_LOCAL))) {
            const char *err = dlerror();
            snprintf(why, why_len, "%s: cannot load: %s", path, err ? err : "?");
            e = FG_ERR_CONFIG;
        }
    }
    close(fd);
    if (e)
        return e;
    const struct fg_decoder *pd = dlsym(h, "fairgate_decoder");
    if (!pd)
        snprintf(why, why_len,
                 "%s: exports no 'fairgate_decoder' (FAIRGATE_DECODER_EXPORT = {...})", path);
    else if (pd->abi != FAIRGATE_DECODER_ABI)
        snprintf(why, why_len,
                 "%s: refused: built for decoder ABI %u, this fairgate speaks ABI %d; rebuild "
                 "it against this fairgate's <fairgate/sensor_decoder.h>",
                 path, (unsigned)pd->abi, FAIRGATE_DECODER_ABI);
    else if (pd->size < sizeof(struct fg_decoder) || !pd->decode || !pd->name || !name_ok(pd->name))
        snprintf(why, why_len,
                 "%s: refused: its fairgate_decoder lacks FAIRGATE_DECODER_HEADER, a decode "
                 "function or a name of lower-case letters, digits, '-' and '_'",
                 path);
    else {
        struct sensor_decoder *d = calloc(1, sizeof *d);
        if (!d || !(d->name = strdup(pd->name)) || !(d->file = strdup(path))) {
            sensor_plugin_unload(d, h);
            return FG_ERR_NOMEM;
        }
        d->decode = plugin_decode;
        d->plugin = pd;
        if ((e = sensor_registry_add_plugin(r, d, h, why, why_len)))
            sensor_plugin_unload(d, h);
        return e;
    }
    dlclose(h);
    return FG_ERR_CONFIG;
}

fg_err sensor_registry_load_decoders(struct sensor_registry *r, const char *dir, char *why,
                                     size_t why_len)
{
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(why, why_len, "%s: cannot open decoder directory", dir);
        return FG_ERR_NOT_FOUND;
    }
    fg_err e = safe_owner(&st, dir, "decoder directory", why, why_len);
    if (e)
        return e;
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(why, why_len, "%s: cannot open decoder directory", dir);
        return FG_ERR_NOT_FOUND;
    }
    /* one more than fits, so that the registry names the decoder that does not */
    return sensor_dir_load(r, d, dir, ".so", MAX_PLUGINS + 1, load_one, why, why_len);
}

/* ---- exercise ------------------------------------------------------------------ */

static fg_err exercise_one(const struct sensor_type *t, struct sensor_record *rec, const char *what,
                           const unsigned char *p, size_t len, char *why, size_t why_len)
{
    char reason[256] = "";
    memset(rec, 0, sizeof *rec);
    rec->type = t;
    snprintf(rec->device, sizeof rec->device, "exercise");
    fg_err e = t->decoder->decode(t, p, len, rec, reason, sizeof reason);
    if (!e)
        e = sensor_record_finish(rec, reason, sizeof reason);
    if (e && !reason[0]) {
        snprintf(why, why_len, "decoder %s failed on %s without a reason", t->decoder->name, what);
        return FG_ERR_PARSE;
    }
    if (e && (e == FG_ERR_NOMEM || e >= FG_ERR__COUNT)) {
        snprintf(why, why_len, "decoder %s returned %s on %s", t->decoder->name, fg_strerror(e),
                 what);
        return FG_ERR_PARSE;
    }
    char out[2 * SENSOR_ARENA];
    if (!e && !sensor_record_to_json(rec, out, sizeof out)) {
        snprintf(why, why_len, "decoder %s stored a record that does not print (%s)",
                 t->decoder->name, what);
        return FG_ERR_PARSE;
    }
    return FG_OK;
}

fg_err sensor_decoder_exercise(const struct sensor_type *t, int *runs, char *why, size_t why_len)
{
    struct sensor_record *rec = malloc(sizeof *rec);
    char *json = malloc(4096), *kv = malloc(4096);
    unsigned char noise[256];
    fg_err e = FG_OK;
    *runs = 0;
    if (!rec || !json || !kv) {
        e = FG_ERR_NOMEM;
        goto out;
    }
    /* Payloads that name every declared field, and some that name none. */
    size_t jo = 0, ko = 0;
    jo += (size_t)snprintf(json + jo, 4096 - jo, "{");
    for (size_t i = 0; i < t->nfields && jo < 3000 && ko < 3000; i++) {
        jo += (size_t)snprintf(json + jo, 4096 - jo, "%s\"%s\":1", i ? "," : "",
                               t->fields[i].path[0]);
        ko += (size_t)snprintf(kv + ko, 4096 - ko, "%s%s=1", i ? ";" : "", t->fields[i].path[0]);
    }
    jo += (size_t)snprintf(json + jo, 4096 - jo, "}");
    for (size_t i = 0; i < sizeof noise; i++)
        noise[i] = (unsigned char)(i * 167 + 13);
    const struct {
        const char *what;
        const void *p;
        size_t len;
    } cases[] = {
        {"an empty payload", "", 0},
        {"one byte", "x", 1},
        {"256 bytes of noise", noise, sizeof noise},
        {"a JSON object naming every field", json, jo},
        {"that JSON object cut in half", json, jo / 2},
        {"a key=value line naming every field", kv, ko},
        {"that line cut in half", kv, ko / 2},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0] && !e; i++, (*runs)++)
        e = exercise_one(t, rec, cases[i].what, cases[i].p, cases[i].len, why, why_len);
out:
    free(rec);
    free(json);
    free(kv);
    return e;
}
