/* Small helpers shared by every module: files, secrets, time, suggestions. */
#ifndef FG_UTIL_H
#define FG_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/fg_error.h"

/* Reads a whole file into a NUL-terminated malloc'd buffer (caller frees).
 * Fails with FG_ERR_TOO_BIG past max bytes. */
FG_MUST_CHECK fg_err fg_read_file(const char *path, size_t max, char **out, size_t *len);

/* Writes atomically: a temp file with a random name in the same directory, created
 * exclusively (O_EXCL|O_NOFOLLOW, 0600 until complete, then mode), fsync, rename over
 * path (a symlink at path is replaced, never followed), fsync dir. */
FG_MUST_CHECK fg_err fg_write_file_atomic(const char *path, const void *data, size_t len, int mode);

/* write(2) until all of data is written, retrying on EINTR. On FG_ERR_IO errno
 * says why (ENOSPC, EIO, ...). */
FG_MUST_CHECK fg_err fg_write_all(int fd, const void *data, size_t len);

/* fsync the directory that holds path, so a rename or create in it is durable. */
void fg_fsync_dir_of(const char *path);

/* Where installed data lives: BIN/../share/fairgate/SUB next to the running
 * binary when that exists (a relocated install, or a build tree, which CMake
 * stages the same way), else the compiled-in PREFIX/share/fairgate/SUB. */
const char *fg_data_path(const char *sub, char *buf, size_t len);

/* Secret files must be regular, owned by us and not readable by group/others. */
FG_MUST_CHECK fg_err fg_check_secret_file(const char *path, char *why, size_t why_len);

/* Loads exactly len bytes of secret into sodium_malloc'd memory (caller frees with
 * sodium_free). If the file is absent and create is set, fills it from
 * randombytes_buf and writes it with mode 0600. */
FG_MUST_CHECK fg_err fg_load_secret(const char *path, size_t len, bool create, unsigned char **out,
                                    char *why, size_t why_len);

/* mkdir -p with mode for every created level. */
FG_MUST_CHECK fg_err fg_mkdirs(const char *path, int mode);

int64_t fg_now_ms(void); /* CLOCK_REALTIME in milliseconds */
int64_t fg_monotonic_ms(void);

/* Formats ms since epoch as "2026-11-23T08:15:00.000Z" (buf >= 32). */
void fg_format_time(int64_t ms, char *buf, size_t len);
/* Parses RFC 3339 / ISO 8601 UTC or with offset; returns false if malformed. */
bool fg_parse_time(const char *s, size_t len, int64_t *ms);
/* Parses "15m", "24h", "30d", "90s", "500ms" into milliseconds. */
bool fg_parse_duration(const char *s, int64_t *ms);

/* Writes s to f with &, <, >, " and ' escaped for HTML text and attributes. */
void fg_fputs_html(FILE *f, const char *s);

/* Nearest candidate by edit distance, or NULL if none is close. */
const char *fg_suggest(const char *word, const char *const *candidates, size_t n);

#endif
