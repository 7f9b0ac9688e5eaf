/* A bounded JSON writer for minimised output: no allocation, escapes strings,
 * and reports overflow instead of truncating silently. */
#ifndef FG_JSON_H
#define FG_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct fg_jw {
    char *buf;
    size_t cap, len;
    bool overflow;
    bool need_comma;
};

/* Eight bytes at p: nonzero when one of them ends a plain run of a JSON
 * string ('"', '\\' or a byte below 0x20); on little-endian machines its lowest
 * set bit marks the first such byte (false positives only above a true one). */
static inline uint64_t fg_json_special8(const char *p)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    uint64_t v, q, b;
    memcpy(&v, p, 8);
    q = v ^ (ones * '"');
    b = v ^ (ones * '\\');
    return (((q - ones) & ~q) | ((b - ones) & ~b) | ((v - ones * 0x20) & ~v)) & highs;
}

void fg_jw_init(struct fg_jw *w, char *buf, size_t cap);
void fg_jw_obj_open(struct fg_jw *w);
void fg_jw_obj_close(struct fg_jw *w);
void fg_jw_arr_open(struct fg_jw *w);
void fg_jw_arr_close(struct fg_jw *w);
void fg_jw_key(struct fg_jw *w, const char *key);
void fg_jw_str(struct fg_jw *w, const char *s, size_t len);
void fg_jw_cstr(struct fg_jw *w, const char *s);
void fg_jw_num(struct fg_jw *w, double v);
void fg_jw_int(struct fg_jw *w, int64_t v);
void fg_jw_bool(struct fg_jw *w, bool v);
void fg_jw_null(struct fg_jw *w);
/* NUL-terminates; false on overflow. */
bool fg_jw_finish(struct fg_jw *w);

#endif
