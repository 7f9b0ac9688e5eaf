/* Events from other processes (reidentify, subject-report, audit reads) while
 * the daemon holds the audit log's lock: they are dropped as files into
 * AUDIT_STATE/inbox and the daemon appends them within a second. When no
 * daemon runs, the event is appended directly. */
#ifndef AUDIT_INBOX_H
#define AUDIT_INBOX_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "common/fg_error.h"

struct audit;

/* Waits up to timeout_ms for the daemon to take the event. */
FG_MUST_CHECK fg_err audit_submit(const char *log_path, const char *audit_state_dir,
                                  const char *actor, const char *action, const cJSON *object,
                                  int timeout_ms, char *why, size_t why_len);
/* Daemon side: appends and removes every queued event; returns how many. */
size_t audit_inbox_ingest(struct audit *a, const char *audit_state_dir);

#endif
