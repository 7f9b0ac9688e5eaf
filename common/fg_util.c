#include "common/fg_util.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

fg_err fg_read_file(const char *path, size_t max, char **out, size_t *len)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? FG_ERR_NOT_FOUND : FG_ERR_IO;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return FG_ERR_IO;
    }
    if ((size_t)st.st_size > max) {
        close(fd);
        return FG_ERR_TOO_BIG;
    }
    size_t cap = (size_t)st.st_size + 1, n = 0;
    char *buf = malloc(cap);
    if (!buf) {
        close(fd);
        return FG_ERR_NOMEM;
    }
    for (;;) {
        if (n + 1 >= cap) {
            if (cap > max) {
                free(buf);
                close(fd);
                return FG_ERR_TOO_BIG;
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                close(fd);
                return FG_ERR_NOMEM;
            }
            buf = nb;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + n, cap - n - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            free(buf);
            close(fd);
            return FG_ERR_IO;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    if (n > max) {
        free(buf);
        return FG_ERR_TOO_BIG;
    }
    buf[n] = '\0';
    *out = buf;
    if (len)
        *len = n;
    return FG_OK;
}

fg_err fg_write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w == 0)
            errno = EIO;
        if (w <= 0)
            return FG_ERR_IO;
        p += w;
        len -= (size_t)w;
    }
    return FG_OK;
}

void fg_fsync_dir_of(const char *path)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
}

fg_err fg_write_file_atomic(const char *path, const void *data, size_t len, int mode)
{
    /* The temp file sits next to path (same file system for rename) under a random
     * name, is created exclusively (O_EXCL: never an existing file, nor one another
     * user planted), never through a link (O_NOFOLLOW), and stays 0600 until its
     * content is complete; only then does it get its final mode. rename() replaces
     * path itself, even if path is a symlink, and never writes through it. */
    char tmp[4096];
    int fd = -1;
    for (int attempt = 0; attempt < 16 && fd < 0; attempt++) {
        unsigned char rnd[8];
        char hex[sizeof rnd * 2 + 1];
        randombytes_buf(rnd, sizeof rnd);
        sodium_bin2hex(hex, sizeof hex, rnd, sizeof rnd);
        if (snprintf(tmp, sizeof tmp, "%s.tmp.%s", path, hex) >= (int)sizeof tmp)
            return FG_ERR_TOO_BIG;
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0 && errno != EEXIST)
            return FG_ERR_IO;
    }
    if (fd < 0)
        return FG_ERR_IO;
    if (fg_write_all(fd, data, len) != FG_OK || fchmod(fd, (mode_t)mode) != 0 || fsync(fd) != 0) {
        close(fd);
        unlink(tmp);
        return FG_ERR_IO;
    }
    close(fd);
    if (rename(tmp, path) != 0) {
        unlink(tmp);
        return FG_ERR_IO;
    }
    fg_fsync_dir_of(path);
    return FG_OK;
}

fg_err fg_check_secret_file(const char *path, char *why, size_t why_len)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(why, why_len, "%s: %s", path, strerror(errno));
        return errno == ENOENT ? FG_ERR_NOT_FOUND : FG_ERR_IO;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(why, why_len, "%s is not a regular file", path);
        return FG_ERR_PERM;
    }
    if (st.st_mode & 077) {
        snprintf(why, why_len, "%s is readable by others (mode %03o); run: chmod 600 %s", path,
                 (unsigned)(st.st_mode & 0777), path);
        return FG_ERR_PERM;
    }
    if (st.st_uid != geteuid()) {
        snprintf(why, why_len, "%s is owned by uid %u, not by this user (uid %u)", path,
                 (unsigned)st.st_uid, (unsigned)geteuid());
        return FG_ERR_PERM;
    }
    return FG_OK;
}

fg_err fg_load_secret(const char *path, size_t len, bool create, unsigned char **out, char *why,
                      size_t why_len)
{
    *out = NULL;
    unsigned char *key = sodium_malloc(len);
    if (!key)
        return FG_ERR_NOMEM;
    struct stat st;
    if (stat(path, &st) != 0 && errno == ENOENT && create) {
        randombytes_buf(key, len);
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 || fg_write_all(fd, key, len) != FG_OK || fsync(fd) != 0) {
            snprintf(why, why_len, "cannot create key file %s: %s", path, strerror(errno));
            if (fd >= 0)
                close(fd);
            sodium_free(key);
            return FG_ERR_IO;
        }
        close(fd);
        *out = key;
        return FG_OK;
    }
    fg_err e = fg_check_secret_file(path, why, why_len);
    if (e != FG_OK) {
        sodium_free(key);
        return e;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t r = fd >= 0 ? read(fd, key, len) : -1;
    char extra;
    ssize_t more = fd >= 0 ? read(fd, &extra, 1) : 0;
    if (fd >= 0)
        close(fd);
    if (r != (ssize_t)len || more != 0) {
        snprintf(why, why_len, "key file %s must hold exactly %zu bytes", path, len);
        sodium_free(key);
        return FG_ERR_CRYPTO;
    }
    *out = key;
    return FG_OK;
}

fg_err fg_mkdirs(const char *path, int mode)
{
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return FG_ERR_TOO_BIG;
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, (mode_t)mode) != 0 && errno != EEXIST)
            return FG_ERR_IO;
        *p = '/';
    }
    if (mkdir(buf, (mode_t)mode) != 0 && errno != EEXIST)
        return FG_ERR_IO;
    return FG_OK;
}

int64_t fg_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t fg_monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void format_time_slow(int64_t ms, char *buf, size_t len)
{
    time_t s = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    int frac = (int)(ms - (int64_t)s * 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    char base[24];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, len, "%s.%03dZ", base, frac);
}

static void put2(char *p, unsigned v)
{
    p[0] = (char)('0' + v / 10);
    p[1] = (char)('0' + v % 10);
}

/* On the hot path (every generalised timestamp of every message): digits by
 * hand, and the date and time of the last second formatted once per thread.
 * Years 1000-9999 only (strftime does not pad %Y to four digits); anything else, or a buffer under
 * 25 bytes (where snprintf would truncate), takes the strftime path, which prints the same. */
void fg_format_time(int64_t ms, char *buf, size_t len)
{
    /* 1000-01-01 to 9999-12-31T23:59:59.999 */
    if (len < 25 || ms < -30610224000000LL || ms > 253402300799999LL) {
        format_time_slow(ms, buf, len);
        return;
    }
    static _Thread_local int64_t cached_s = INT64_MIN;
    static _Thread_local char cached[20]; /* "YYYY-MM-DDThh:mm:ss" */
    int64_t s = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
    unsigned frac = (unsigned)(ms - s * 1000);
    if (s != cached_s) {
        int64_t days = s >= 0 ? s / 86400 : (s - 86399) / 86400;
        unsigned sod = (unsigned)(s - days * 86400);
        /* civil_from_days (H. Hinnant): proleptic Gregorian, as gmtime */
        int64_t z = days + 719468;
        int64_t era = (z >= 0 ? z : z - 146096) / 146097;
        unsigned doe = (unsigned)(z - era * 146097);
        unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        int64_t y = (int64_t)yoe + era * 400;
        unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        unsigned mp = (5 * doy + 2) / 153;
        unsigned d = doy - (153 * mp + 2) / 5 + 1;
        unsigned m = mp < 10 ? mp + 3 : mp - 9;
        if (m <= 2)
            y++;
        char *c = cached;
        put2(c, (unsigned)(y / 100));
        put2(c + 2, (unsigned)(y % 100));
        c[4] = '-';
        put2(c + 5, m);
        c[7] = '-';
        put2(c + 8, d);
        c[10] = 'T';
        put2(c + 11, sod / 3600);
        c[13] = ':';
        put2(c + 14, sod / 60 % 60);
        c[16] = ':';
        put2(c + 17, sod % 60);
        cached_s = s;
    }
    memcpy(buf, cached, 19);
    buf[19] = '.';
    buf[20] = (char)('0' + frac / 100);
    put2(buf + 21, frac % 100);
    buf[23] = 'Z';
    buf[24] = '\0';
}

static int digits(const char *s, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

bool fg_parse_time(const char *s, size_t len, int64_t *ms)
{
    /* YYYY-MM-DD[Thh:mm[:ss[.fff]]][Z|+hh:mm] */
    if (len < 10 || s[4] != '-' || s[7] != '-')
        return false;
    int Y = digits(s, 4), M = digits(s + 5, 2), D = digits(s + 8, 2);
    int h = 0, m = 0, sec = 0, msec = 0, off = 0;
    if (Y < 1970 || M < 1 || M > 12 || D < 1 || D > 31)
        return false;
    size_t i = 10;
    if (i < len && (s[i] == 'T' || s[i] == 't' || s[i] == ' ')) {
        if (len < i + 6 || s[i + 3] != ':')
            return false;
        h = digits(s + i + 1, 2);
        m = digits(s + i + 4, 2);
        i += 6;
        if (i < len && s[i] == ':') {
            if (len < i + 3)
                return false;
            sec = digits(s + i + 1, 2);
            i += 3;
            if (i < len && s[i] == '.') {
                i++;
                int scale = 100;
                size_t start = i;
                while (i < len && s[i] >= '0' && s[i] <= '9') {
                    msec += (s[i] - '0') * scale;
                    scale /= 10;
                    i++;
                }
                if (i == start)
                    return false;
            }
        }
        if (h < 0 || h > 23 || m < 0 || m > 59 || sec < 0 || sec > 60)
            return false;
        if (i < len && (s[i] == 'Z' || s[i] == 'z'))
            i++;
        else if (i < len && (s[i] == '+' || s[i] == '-')) {
            if (len < i + 6 || s[i + 3] != ':')
                return false;
            int oh = digits(s + i + 1, 2), om = digits(s + i + 4, 2);
            if (oh < 0 || om < 0)
                return false;
            off = (oh * 60 + om) * (s[i] == '+' ? 1 : -1);
            i += 6;
        }
    }
    if (i != len)
        return false;
    /* days from civil (Howard Hinnant's algorithm) */
    int y = Y - (M <= 2);
    int era = y / 400;
    int yoe = y - era * 400;
    int doy = (153 * (M + (M > 2 ? -3 : 9)) + 2) / 5 + D - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t days = (int64_t)era * 146097 + doe - 719468;
    *ms = ((days * 86400 + h * 3600 + m * 60 + sec) - (int64_t)off * 60) * 1000 + msec;
    return true;
}

bool fg_parse_duration(const char *s, int64_t *ms)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || v < 0)
        return false;
    int64_t mult;
    if (strcmp(end, "ms") == 0)
        mult = 1;
    else if (strcmp(end, "s") == 0)
        mult = 1000;
    else if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0)
        mult = 60000;
    else if (strcmp(end, "h") == 0)
        mult = 3600000;
    else if (strcmp(end, "d") == 0)
        mult = 86400000;
    else if (strcmp(end, "w") == 0)
        mult = 7 * 86400000LL;
    else
        return false;
    if (v * (double)mult > 9.2e18)
        return false;
    *ms = (int64_t)(v * (double)mult);
    return true;
}

static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63)
        return 99;
    size_t row[64];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t prev = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t cur = row[j];
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            size_t best = prev + cost;
            if (row[j] + 1 < best)
                best = row[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            prev = cur;
        }
    }
    return row[lb];
}

const char *fg_suggest(const char *word, const char *const *candidates, size_t n)
{
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    for (size_t i = 0; i < n; i++) {
        size_t d = edit_distance(word, candidates[i]);
        if (d < best_d) {
            best_d = d;
            best = candidates[i];
        }
    }
    size_t len = strlen(word);
    size_t limit = len <= 4 ? 1 : len <= 8 ? 2 : 3;
    return best_d <= limit ? best : NULL;
}

void fg_fputs_html(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '&':
            fputs("&amp;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        case '\'':
            fputs("&#39;", f);
            break;
        default:
            fputc(*s, f);
        }
    }
}

/* The directory of the file (executable or shared object) that holds this
 * code: the mosquitto plugin is loaded into mosquitto's process, so
 * /proc/self/exe names mosquitto, not fairgate. */
static bool own_dir(char *out, size_t len)
{
    Dl_info info;
    if (!dladdr((void *)own_dir, &info) || !info.dli_fname || info.dli_fname[0] != '/')
        return false;
    snprintf(out, len, "%s", info.dli_fname);
    char *slash = strrchr(out, '/');
    if (!slash)
        return false;
    *slash = '\0';
    return true;
}

const char *fg_data_path(const char *sub, char *buf, size_t len)
{
    /* Installed layout, wherever it was installed: BIN/../share/fairgate. A
     * build tree is staged the same way (CMake links build/share/fairgate),
     * for the binary in build/bin and for the plugin in build/. */
    char dir[4096];
    ssize_t n = readlink("/proc/self/exe", dir, sizeof dir - 1);
    if (n > 0) {
        dir[n] = '\0';
        char *slash = strrchr(dir, '/');
        if (slash) {
            *slash = '\0';
            snprintf(buf, len, "%s/../share/fairgate/%s", dir, sub);
            if (access(buf, R_OK) == 0)
                return buf;
        }
    }
    if (own_dir(dir, sizeof dir)) {
        snprintf(buf, len, "%s/share/fairgate/%s", dir, sub);
        if (access(buf, R_OK) == 0)
            return buf;
    }
    snprintf(buf, len, "%s/%s", FAIRGATE_DATA_DIR, sub);
    return buf;
}
