#include "audit/inbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "common/fg_log.h"
#include "common/fg_util.h"
#include "audit/audit.h"

static bool daemon_holds_lock(const char *log_path)
{
    int fd = open(log_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    bool busy = flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    close(fd); /* releases it if we got it */
    return busy;
}

fg_err audit_submit(const char *log_path, const char *audit_state_dir, const char *actor,
                    const char *action, const cJSON *object, int timeout_ms, char *why,
                    size_t why_len)
{
    if (!daemon_holds_lock(log_path)) {
        struct audit_options ao = {.log_path = log_path, .state_dir = audit_state_dir};
        struct audit *a = NULL;
        fg_err e = audit_open(&ao, &a, why, why_len);
        if (e)
            return e;
        e = audit_append(a, actor, action, object);
        audit_close(a);
        if (e)
            snprintf(why, why_len, "cannot append to %s", log_path);
        return e;
    }
    char dir[4096], tmp[4200], path[4200];
    snprintf(dir, sizeof dir, "%s/inbox", audit_state_dir);
    if (fg_mkdirs(dir, 0700) != FG_OK) {
        snprintf(why, why_len, "cannot create %s: %s", dir, strerror(errno));
        return FG_ERR_IO;
    }
    cJSON *ev = cJSON_CreateObject();
    cJSON_AddStringToObject(ev, "actor", actor);
    cJSON_AddStringToObject(ev, "action", action);
    cJSON_AddItemToObject(ev, "object", object ? cJSON_Duplicate(object, 1) : cJSON_CreateObject());
    char *text = cJSON_PrintUnformatted(ev);
    cJSON_Delete(ev);
    if (!text)
        return FG_ERR_NOMEM;
    unsigned char rnd[8];
    char hex[17];
    randombytes_buf(rnd, sizeof rnd);
    sodium_bin2hex(hex, sizeof hex, rnd, sizeof rnd);
    snprintf(tmp, sizeof tmp, "%s/.%lld-%s.tmp", dir, (long long)fg_now_ms(), hex);
    snprintf(path, sizeof path, "%s/%lld-%s.json", dir, (long long)fg_now_ms(), hex);
    /* write to a hidden name, then rename: the daemon never reads half an event */
    fg_err e = fg_write_file_atomic(tmp, text, strlen(text), 0600);
    free(text);
    if (e || rename(tmp, path) != 0) {
        snprintf(why, why_len, "cannot queue the audit event in %s", dir);
        unlink(tmp);
        return FG_ERR_IO;
    }
    for (int waited = 0; waited < timeout_ms; waited += 50) {
        if (access(path, F_OK) != 0)
            return FG_OK;
        struct timespec ts = {0, 50000000L};
        nanosleep(&ts, NULL);
    }
    snprintf(why, why_len,
             "the running gateway did not record the audit event within %d ms "
             "(it stays queued in %s)",
             timeout_ms, dir);
    return FG_ERR_IO;
}

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

size_t audit_inbox_ingest(struct audit *a, const char *audit_state_dir)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/inbox", audit_state_dir);
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    char *names[256];
    size_t n = 0, done = 0;
    struct dirent *de;
    while ((de = readdir(d)) && n < 256)
        if (de->d_name[0] != '.' && strstr(de->d_name, ".json"))
            names[n++] = strdup(de->d_name);
    closedir(d);
    qsort(names, n, sizeof *names, cmp);
    for (size_t i = 0; i < n; i++) {
        char path[4200], *text = NULL;
        snprintf(path, sizeof path, "%s/%s", dir, names[i] ? names[i] : "");
        if (names[i] && fg_read_file(path, 1 << 16, &text, NULL) == FG_OK) {
            cJSON *ev = cJSON_Parse(text);
            const cJSON *actor = cJSON_GetObjectItemCaseSensitive(ev, "actor"),
                        *action = cJSON_GetObjectItemCaseSensitive(ev, "action"),
                        *object = cJSON_GetObjectItemCaseSensitive(ev, "object");
            if (cJSON_IsString(actor) && cJSON_IsString(action) && cJSON_IsObject(object)) {
                if (audit_append(a, actor->valuestring, action->valuestring, object) == FG_OK) {
                    unlink(path);
                    done++;
                }
            } else {
                fg_warn("audit", "ignoring a malformed event in the audit inbox");
                unlink(path);
            }
            cJSON_Delete(ev);
            free(text);
        }
        free(names[i]);
    }
    return done;
}
