/* Tamper-evident audit log: one JSON event per line, hash-chained (BLAKE2b-256),
 * sealed by Ed25519 checkpoints whose key changes every epoch (forward security).
 * Format and guarantees: docs/audit.md. The log never receives raw telemetry. */
#ifndef FG_AUDIT_H
#define FG_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "common/fg_error.h"
#include "common/fg_i18n.h"

enum audit_fsync {
    AUDIT_FSYNC_INTERVAL = 0, /* fdatasync from audit_tick every fsync_interval_ms */
    AUDIT_FSYNC_ALWAYS,       /* fdatasync after every line */
    AUDIT_FSYNC_NEVER,        /* leave it to the kernel (still synced at rotate and close) */
};

struct audit_options {
    const char *log_path;
    const char *state_dir;       /* holds the current epoch's secret key (0600) */
    int checkpoint_every_events; /* 0: 1000, <0: never by count */
    int checkpoint_every_ms;     /* 0: 300000, <0: never by time */
    enum audit_fsync fsync_mode;
    int fsync_interval_ms;   /* 0: 1000 */
    int64_t rotate_every_ms; /* key hand-over at least this often; 0: 24 h, <0: 31 days */
};

/* The writer's sealing bounds. A new log states them in its first line (log.created,
 * member "seal"), which the first key signs at once (line 2 is a checkpoint), so the
 * verifier can demand seals: at most `events` lines between two checkpoints, at most
 * `interval_ms` of log time from the first unsealed line to any later unsealed line,
 * and no event more than `rotate_ms` after its epoch's hand-over. A writer never
 * loosens the bounds of a log it continues (stricter configuration wins). */
struct audit_bounds {
    uint64_t events;
    int64_t interval_ms, rotate_ms;
};
#define AUDIT_BOUND_MAX_EVENTS 10000000ULL
#define AUDIT_BOUND_MAX_INTERVAL_MS 86400000LL
#define AUDIT_BOUND_MAX_ROTATE_MS (31 * 86400000LL)
/* Reads {"events","interval_ms","rotate_ms"}; false if absent or out of range. */
bool audit_bounds_from_json(const cJSON *seal, struct audit_bounds *b);

struct audit;
struct audit_reporter;

/* Opens (or creates, with the first key pair) the log, repairs a torn last line,
 * and starts a new epoch. Holds an exclusive lock on the log until audit_close.
 * On failure *out is NULL and why says what is wrong in one sentence. */
FG_MUST_CHECK fg_err audit_open(const struct audit_options *opt, struct audit **out, char *why,
                                size_t why_len);
/* THREAD SAFETY: every function taking a struct audit * locks its mutex.
 * object must be a JSON object (or NULL for {}); it is copied, never kept. */
fg_err audit_append(struct audit *a, const char *actor, const char *action, const cJSON *object);
fg_err audit_append_json(struct audit *a, const char *actor, const char *action,
                         const char *object_json);
/* Seals everything written so far; a no-op if nothing was written since. */
fg_err audit_checkpoint(struct audit *a);
/* Checkpoint, then hand over to a fresh key signed by the old one, then wipe the old
 * secret from memory and disk. Call e.g. daily; audit_open calls it too. */
fg_err audit_rotate_epoch(struct audit *a);
/* Time-based checkpoint and fsync; now_ms is fg_monotonic_ms(). Call ~every second. */
void audit_tick(struct audit *a, int64_t now_ms);
/* Checkpoint, fsync, wipe keys, unlock, free. NULL is fine. */
void audit_close(struct audit *a);
/* The public key of the first epoch, written to DIR/audit-first.pub by audit_open. */
void audit_first_pubkey(const struct audit *a, unsigned char pk[32]);

/* ---- verification --------------------------------------------------------------- */
enum audit_damage {
    AUDIT_INTACT = 0,
    AUDIT_EDITED,
    AUDIT_INSERTED,
    AUDIT_DELETED,
    AUDIT_REORDERED,
    AUDIT_TRUNCATED,
    AUDIT_ROLLED_BACK,
    AUDIT_FORKED,
    AUDIT_RESIGNED,  /* a sealed epoch re-signed with a later epoch's key */
    AUDIT_WRONG_KEY, /* the log does not start from the key the verifier holds */
    AUDIT_UNSEALED,  /* more lines or time without a seal than the log's bounds allow */
    AUDIT_LEGACY,    /* intact chain, but no sealing bounds: cannot be checked for
                        stripped seals (written before bounds existed, or made to look so) */
};
const char *audit_damage_str(enum audit_damage d); /* static, never NULL */

struct audit_verify_result {
    bool ok;                  /* intact, and extends the witness if one was given */
    enum audit_damage damage; /* first damage found */
    size_t bad_line;          /* 1-based line number of the first bad line (0 if ok) */
    bool torn_tail;           /* only damage: last line cut off by a crash (exit 3) */
    char detail[256];         /* one sentence */
    size_t lines, events, checkpoints, handovers, unsealed;
    bool anchored;     /* log starts with a prune anchor */
    char log_id[33];   /* hex */
    uint64_t epoch;    /* epoch of the last line */
    uint64_t last_seq; /* seq of the last complete line */
    /* Last checkpoint: what a witness file records. */
    uint64_t cp_seq, cp_epoch;
    char cp_head[65];      /* hash of line cp_seq, which the checkpoint signs */
    char cp_line_hash[65]; /* hash of the checkpoint line itself */
    unsigned char cp_pubkey[32];
    bool has_checkpoint;
    bool witness_checked;       /* false if the witness predates a pruned part */
    bool legacy;                /* no sealing bounds (damage AUDIT_LEGACY if nothing worse) */
    struct audit_bounds bounds; /* as the log states them */
    char unsealed_since[32];    /* time of the first unsealed line, "" if all is sealed */
    char last_seal_time[32];    /* time of the last checkpoint, "" if none */
};

/* Returns FG_OK when the check ran (see res->ok), an error if it could not run. */
FG_MUST_CHECK fg_err audit_verify_file(const char *log_path, const unsigned char pubkey[32],
                                       const char *witness_path, struct audit_verify_result *res);
/* Same, and hands back the log text it verified (caller frees): a reader that goes on
 * to use the log (report, prune) works on exactly the bytes that were checked. */
FG_MUST_CHECK fg_err audit_verify_file_text(const char *log_path, const unsigned char pubkey[32],
                                            const char *witness_path,
                                            struct audit_verify_result *res, char **log_text,
                                            size_t *log_len);
/* Same over memory; witness_json may be NULL. Used by the fuzzer and the tests. */
FG_MUST_CHECK fg_err audit_verify_buffer(const char *buf, size_t len,
                                         const unsigned char pubkey[32], const char *witness_json,
                                         struct audit_verify_result *res);
/* Writes the last checkpoint of an ok result as a witness file (atomic). */
FG_MUST_CHECK fg_err audit_write_witness(const char *path, const struct audit_verify_result *res);

/* ---- helpers shared by the CLI, the report and the tests ------------------------ */
/* Parses one line (without '\n') if it is a well-formed event in canonical form;
 * caller frees with cJSON_Delete. NULL otherwise. */
cJSON *audit_parse_line(const char *line, size_t len);
/* Reads a public key file: 64 hex characters, base64, or 32 raw bytes. */
FG_MUST_CHECK fg_err audit_load_pubkey(const char *path, unsigned char pk[32]);
/* "1a2b-3c4d-5e6f-7a8b-9c0d-1e2f": short enough to read aloud (out >= 32). */
void audit_fingerprint(const unsigned char pk[32], char *out, size_t out_len);

/* The exact byte strings the Ed25519 signatures cover (documented in docs/audit.md).
 * Return the length written (out >= 512), or 0 if it does not fit. */
size_t audit_checkpoint_message(char *out, size_t out_len, const char *log_id, uint64_t seq,
                                const char *head_hex, uint64_t epoch, const char *time);
size_t audit_handover_message(char *out, size_t out_len, const char *log_id, uint64_t seq,
                              const char *prev_hex, uint64_t epoch, const char *pubkey_hex);

/* Deletes the events before the first checkpoint at or after before_ms and puts an
 * anchor line on top so the first public key still verifies; audits the prune. */
FG_MUST_CHECK fg_err audit_prune(const char *log_path, const char *state_dir, int64_t before_ms,
                                 const unsigned char pubkey[32], uint64_t *removed, char *why,
                                 size_t why_len);

struct audit_report_options {
    const char *log_path, *out_path, *witness_path;
    const unsigned char *pubkey;        /* 32 bytes */
    int64_t gap_ms;                     /* report silences longer than this; 0: 1 hour */
    fg_lang lang;                       /* the reader's language */
    struct audit_verify_result *result; /* optional: the verification the report shows */
    bool live; /* the log is being written: a last line without '\n' is not read yet */
    /* optional: how coarse each route's data is, {lang: {route: text}} (policy_coarseness) */
    const cJSON *coarse;
};
/* One self-contained HTML file for a works council meeting (docs/audit.md). Returns
 * FG_OK when the report was written, also for a damaged log: the report says so,
 * and o->result (if given) carries the verdict for the caller's exit status. */
FG_MUST_CHECK fg_err audit_report_html(const struct audit_report_options *o, char *why,
                                       size_t why_len);

/* The report in en, nl and de (DIR/audit-report-LANG.html) and DIR/verification.txt
 * (verdict and first-key fingerprint in three languages), each written atomically. */
FG_MUST_CHECK fg_err audit_report_to_dir(const struct audit_report_options *o, const char *dir,
                                         char *why, size_t why_len);

/* The daemon's hook: writes that report into dir every every_ms (0: only on
 * request) and when requested (SIGUSR1). Never blocks the caller: the report is
 * written by a thread; the next tick records it as audit.read. dir NULL or "":
 * *out = NULL and every call is a no-op. Call tick from the thread that appends. */
FG_MUST_CHECK fg_err audit_reporter_new(struct audit *a, const char *log_path, const char *dir,
                                        int64_t every_ms, struct audit_reporter **out);
struct policy;
/* policy: the policy in force (may be NULL); read here, on the caller's thread. */
void audit_reporter_tick(struct audit_reporter *r, struct audit *a, const struct policy *policy,
                         int64_t mono_ms, bool requested);
void audit_reporter_free(struct audit_reporter *r); /* waits for a report being written */

/* The trust.weakened events that came with the log's last `trust` event (NULL: the
 * log has none); the report shows them first, in red. */
cJSON *audit_weakenings_collect(const char *buf, size_t len);

#endif
