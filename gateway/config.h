/* The gateway's one configuration file. Every key lives in one table (name,
 * type, default, description) that drives parsing, validation, --help-config
 * and docs/configuration.md. Unknown keys are errors with file:line:col. */
#ifndef CONFIG_H
#define CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/fg_error.h"

#define CONFIG_MAX_DIRS 8

struct config_tls {
    bool enabled;
    char *ca;   /* CA bundle that must sign the broker's certificate */
    char *cert; /* optional client certificate */
    char *key;  /* its key (mode 0600) */
    bool insecure_no_hostname_check;
};

struct config_broker {
    char *host;
    int64_t port;
    char *client_id;
    char *username;
    struct config_tls tls;
    int64_t keepalive_s;
};

struct fg_config {
    char *file;
    char *site;
    char *state_dir;
    struct config_broker local, upstream;
    char *local_subscribe;
    int64_t local_receive_maximum;
    int64_t local_session_expiry_ms;
    int64_t upstream_max_inflight;
    int64_t upstream_qos;
    bool sensors_builtin;
    char *sensor_dirs[CONFIG_MAX_DIRS];
    size_t nsensor_dirs;
    char *sensor_decoders;
    char *policy_file;
    char *policy_signatures;
    char *policy_required_roles;
    char *trust_employer;
    char *trust_works_council;
    bool policy_watch;
    int64_t max_payload;
    int64_t queue_max_messages;
    int64_t queue_max_bytes;
    char *outbox_dir;
    char *outbox_sync;
    int64_t outbox_sync_interval_ms;
    char *audit_log;
    int64_t audit_checkpoint_events;
    int64_t audit_checkpoint_ms;
    char *audit_fsync;
    int64_t audit_fsync_interval_ms;
    int64_t audit_flow_interval_ms;
    int64_t audit_rotate_ms;
    char *report_dir;
    int64_t report_every_ms;
    char *log_level;
    bool log_syslog;
    int64_t stats_interval_ms;
    int64_t metrics_port;
    char *metrics_bind;
    char *status_topic;
    int64_t drain_timeout_ms;
};

/* Defaults for every key, then the file on top. */
FG_MUST_CHECK fg_err config_load(const char *path, struct fg_config *cfg, char *why,
                                 size_t why_len);
void config_init_defaults(struct fg_config *cfg);
void config_free(struct fg_config *cfg);
/* Where the audit log, its key directory and the sealed re-identification
 * tables of this configuration live (buffers of 4096 bytes or more). */
void config_state_paths(const struct fg_config *cfg, char *audit_log, char *audit_dir,
                        char *reident_dir, size_t len);

/* Prints every key with type, default and description (markdown when md). */
void config_print_help(FILE *out, bool md);

#endif
