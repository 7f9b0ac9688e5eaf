/* Internal to audit/: helpers of the line format shared by audit.c, verify.c, prune.c. */
#ifndef FG_AUDIT_FORMAT_H
#define FG_AUDIT_FORMAT_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

/* Lowercase hex only: one spelling per value. */
bool audit_from_hex(unsigned char *bin, size_t len, const char *hex);
/* A JSON number that is a non-negative integer below 2^53. */
bool audit_is_uint(const cJSON *j);
/* [a-z0-9._-]{1,64}: actors and actions. */
bool audit_valid_name(const char *s);

/* fsync of the directory holding path. */
void audit_sync_dir_of(const char *path);
/* Overwrite, fsync, unlink, fsync the directory (an old epoch's secret key). */
void audit_wipe_file(const char *path);

#endif
