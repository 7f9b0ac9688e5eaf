/* The audit log's line format: parsing one event line, the signed messages, key files,
 * fingerprints and sealing bounds. Shared by the writer (audit.c), verify.c and prune.c. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "audit/audit_format.h"
#include "common/fg_log.h"
#include "common/fg_util.h"

#define COMP "audit"

#define AUDIT_MAX_LINE (64 * 1024)

static void to_hex(char *out, size_t out_len, const unsigned char *bin, size_t len)
{
    sodium_bin2hex(out, out_len, bin, len);
}

bool audit_from_hex(unsigned char *bin, size_t len, const char *hex)
{
    size_t got = 0;
    const char *end;
    if (!hex || strlen(hex) != 2 * len)
        return false;
    for (const char *p = hex; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false; /* lowercase only: one spelling per value */
    return sodium_hex2bin(bin, len, hex, 2 * len, NULL, &got, &end) == 0 && got == len;
}

size_t audit_checkpoint_message(char *out, size_t out_len, const char *log_id, uint64_t seq,
                                const char *head_hex, uint64_t epoch, const char *time)
{
    int n = snprintf(out, out_len, "fairgate-audit-checkpoint-v1\n%s\n%llu\n%s\n%llu\n%s", log_id,
                     (unsigned long long)seq, head_hex, (unsigned long long)epoch, time);
    return n < 0 || (size_t)n >= out_len ? 0 : (size_t)n;
}

size_t audit_handover_message(char *out, size_t out_len, const char *log_id, uint64_t seq,
                              const char *prev_hex, uint64_t epoch, const char *pubkey_hex)
{
    int n = snprintf(out, out_len, "fairgate-audit-handover-v1\n%s\n%llu\n%s\n%llu\n%s", log_id,
                     (unsigned long long)seq, prev_hex, (unsigned long long)epoch, pubkey_hex);
    return n < 0 || (size_t)n >= out_len ? 0 : (size_t)n;
}

void audit_fingerprint(const unsigned char pk[32], char *out, size_t out_len)
{
    unsigned char h[32];
    char hex[65];
    crypto_generichash(h, sizeof h, pk, 32, NULL, 0);
    to_hex(hex, sizeof hex, h, 12);
    snprintf(out, out_len, "%.4s-%.4s-%.4s-%.4s-%.4s-%.4s", hex, hex + 4, hex + 8, hex + 12,
             hex + 16, hex + 20);
}

fg_err audit_load_pubkey(const char *path, unsigned char pk[32])
{
    char *buf;
    size_t len;
    fg_err e = fg_read_file(path, 4096, &buf, &len);
    if (e != FG_OK)
        return e;
    if (len == 32 && !memchr(buf, '\n', len)) { /* raw key */
        memcpy(pk, buf, 32);
        free(buf);
        return FG_OK;
    }
    char *s = buf;
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    size_t n = strcspn(s, " \t\r\n");
    s[n] = '\0';
    size_t got = 0;
    e = FG_ERR_PARSE;
    if (n == 64) {
        const char *end;
        if (sodium_hex2bin(pk, 32, s, n, NULL, &got, &end) == 0 && got == 32)
            e = FG_OK;
    } else if (sodium_base642bin(pk, 32, s, n, NULL, &got, NULL, sodium_base64_VARIANT_ORIGINAL) ==
                   0 &&
               got == 32) {
        e = FG_OK;
    }
    free(buf);
    return e;
}

bool audit_is_uint(const cJSON *j)
{
    return cJSON_IsNumber(j) && j->valuedouble >= 0 && j->valuedouble <= 9007199254740992.0 &&
           floor(j->valuedouble) == j->valuedouble;
}

bool audit_bounds_from_json(const cJSON *seal, struct audit_bounds *b)
{
    const cJSON *ev = cJSON_GetObjectItemCaseSensitive(seal, "events");
    const cJSON *iv = cJSON_GetObjectItemCaseSensitive(seal, "interval_ms");
    const cJSON *ro = cJSON_GetObjectItemCaseSensitive(seal, "rotate_ms");
    if (!cJSON_IsObject(seal) || !audit_is_uint(ev) || !audit_is_uint(iv) || !audit_is_uint(ro) ||
        ev->valuedouble < 1 || ev->valuedouble > (double)AUDIT_BOUND_MAX_EVENTS ||
        iv->valuedouble < 1 || iv->valuedouble > (double)AUDIT_BOUND_MAX_INTERVAL_MS ||
        ro->valuedouble < 1 || ro->valuedouble > (double)AUDIT_BOUND_MAX_ROTATE_MS)
        return false;
    b->events = (uint64_t)ev->valuedouble;
    b->interval_ms = (int64_t)iv->valuedouble;
    b->rotate_ms = (int64_t)ro->valuedouble;
    return true;
}

bool audit_valid_name(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 64)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '.' || *s == '-' ||
              *s == '_'))
            return false;
    return true;
}

cJSON *audit_parse_line(const char *line, size_t len)
{
    static const char *const keys[] = {"seq", "time", "actor", "action", "object", "prev"};
    if (len == 0 || len > AUDIT_MAX_LINE || line[0] != '{' || memchr(line, '\0', len))
        return NULL;
    cJSON *j = cJSON_ParseWithLength(line, len);
    if (!j || !cJSON_IsObject(j))
        goto bad;
    const cJSON *c = j->child;
    for (size_t i = 0; i < 6; i++, c = c->next)
        if (!c || !c->string || strcmp(c->string, keys[i]) != 0)
            goto bad;
    if (c) /* extra members */
        goto bad;
    const cJSON *seq = cJSON_GetObjectItemCaseSensitive(j, "seq");
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "time");
    const cJSON *prev = cJSON_GetObjectItemCaseSensitive(j, "prev");
    int64_t ms;
    unsigned char h[32];
    if (!audit_is_uint(seq) || seq->valuedouble < 1 || !cJSON_IsString(t) ||
        !fg_parse_time(t->valuestring, strlen(t->valuestring), &ms) ||
        !audit_valid_name(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "actor"))) ||
        !audit_valid_name(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "action"))) ||
        !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(j, "object")) || !cJSON_IsString(prev) ||
        !audit_from_hex(h, 32, prev->valuestring))
        goto bad;
    /* Canonical form: one spelling per event, so an edit that keeps the values
     * (spacing, escapes, number forms) still shows. */
    char *p = cJSON_PrintUnformatted(j);
    bool same = p && strlen(p) == len && memcmp(p, line, len) == 0;
    free(p);
    if (!same)
        goto bad;
    return j;
bad:
    cJSON_Delete(j);
    return NULL;
}

/* ---- files ---- */

void audit_sync_dir_of(const char *path)
{
    fg_fsync_dir_of(path);
}

/* Overwrite, fsync, unlink, fsync the directory: the old epoch's secret must not
 * survive in the file system's view (media remanence is out of scope, see docs). */
void audit_wipe_file(const char *path)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
        struct stat st;
        if (fstat(fd, &st) == 0) {
            unsigned char zero[256] = {0};
            off_t left = st.st_size;
            while (left > 0) {
                size_t n = left > (off_t)sizeof zero ? sizeof zero : (size_t)left;
                if (fg_write_all(fd, zero, n) != FG_OK)
                    break;
                left -= (off_t)n;
            }
            fsync(fd);
        }
        close(fd);
    }
    if (unlink(path) != 0 && errno != ENOENT)
        fg_warn(COMP, "cannot remove old key file %s: %s", path, strerror(errno));
    audit_sync_dir_of(path);
}
