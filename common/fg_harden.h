/* Process hardening done once at start, before any input is read: raw telemetry,
 * identifiers and keys must never reach disk through a core dump. */
#ifndef FG_HARDEN_H
#define FG_HARDEN_H

#include <stddef.h>

#include "common/fg_error.h"

/* Sets RLIMIT_CORE to 0 (soft and hard, so a child cannot raise it) and
 * PR_SET_DUMPABLE to 0 (no core dump, no ptrace or /proc/PID/mem access by the
 * same unprivileged user), and makes cJSON wipe every block it frees (cJSON holds
 * raw payloads on the decoder's fallback path). FG_ERR_IO with why on failure. */
FG_MUST_CHECK fg_err fg_harden_process(char *why, size_t why_len);

#endif
