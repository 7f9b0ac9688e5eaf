/* Start-up steps shared by the daemon and the mosquitto plugin, so both run
 * the same sensor registry and the same audit log from one configuration.
 * BLOCKS on the disk: call at start (or from a housekeeping thread), never
 * from a broker's or Paho's callback. */
#ifndef GW_SETUP_H
#define GW_SETUP_H

#include <stddef.h>

#include "audit/audit.h"
#include "common/fg_error.h"
#include "gateway/config.h"
#include "sensors/sensor.h"

/* Built-in types (if sensors.builtin) plus every sensors.dirs entry. */
FG_MUST_CHECK fg_err setup_load_sensors(const struct fg_config *cfg, struct sensor_registry **out,
                                        char *why, size_t why_len);

/* Opens the configured audit log (audit_dir gets its key directory, >= 4096
 * bytes) and records a changed configuration file as "config.changed" with
 * its digest, never its content. actor names who writes ("gateway"). */
FG_MUST_CHECK fg_err setup_open_audit(const struct fg_config *cfg, const char *actor,
                                      struct audit **out, char *audit_dir, char *why,
                                      size_t why_len);

/* This gateway's random id, made once per state directory (state_dir/gateway-id):
 * message ids stay unique across restarts and never name the site or the box. */
FG_MUST_CHECK fg_err setup_instance_id(const struct fg_config *cfg, char *out, size_t out_len,
                                       char *why, size_t why_len);

/* With trust.works_council: opens the sealed re-identification tables (*out
 * NULL and a warning without a works council key). The caller feeds them the
 * pipeline's pseudonym sightings (reident_record), writes them with
 * reident_flush off the hot path, and deletes an epoch's table with its key. */
struct reident;
FG_MUST_CHECK fg_err setup_open_reident(const struct fg_config *cfg, struct reident **out,
                                        char *why, size_t why_len);

/* A stamp of the policy and signature files (mtime, size): policy.watch
 * compares it to notice an edit without inotify. */
void setup_policy_stamp(const struct fg_config *cfg, char *out, size_t out_len);

#endif
