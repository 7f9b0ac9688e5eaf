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

#endif
