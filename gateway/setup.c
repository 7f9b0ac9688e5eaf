/* Start-up steps shared by the daemon and the mosquitto plugin. */
#include "gateway/setup.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fg_log.h"
#include "common/fg_util.h"

fg_err setup_load_sensors(const struct fg_config *cfg, struct sensor_registry **out, char *why,
                          size_t why_len)
{
    struct sensor_registry *reg = NULL;
    fg_err e = sensor_registry_new(&reg);
    if (e) {
        snprintf(why, why_len, "cannot create the sensor registry: %s", fg_strerror(e));
        return e;
    }
    if (cfg->sensors_builtin && (e = sensor_registry_load_builtin(reg, why, why_len)))
        goto fail;
    for (size_t i = 0; i < cfg->nsensor_dirs; i++)
        if ((e = sensor_registry_load_dir(reg, cfg->sensor_dirs[i], why, why_len)))
            goto fail;
    *out = reg;
    return FG_OK;
fail:
    sensor_registry_free(reg);
    return e;
}

static void record_config_digest(const struct fg_config *cfg, const char *actor, struct audit *a,
                                 const char *dir)
{
    char *text = NULL, *old = NULL, path[4200];
    size_t len = 0;
    if (fg_read_file(cfg->file, 1u << 20, &text, &len) != FG_OK)
        return;
    unsigned char h[32];
    char hex[65];
    crypto_generichash(h, sizeof h, (unsigned char *)text, len, NULL, 0);
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    snprintf(path, sizeof path, "%s/config.digest", dir);
    if (fg_read_file(path, 128, &old, NULL) != FG_OK || strcmp(old, hex) != 0) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "file", cfg->file);
        cJSON_AddStringToObject(o, "digest", hex);
        cJSON_AddStringToObject(o, "previous", old ? old : "");
        if (audit_append(a, actor, "config.changed", o) != FG_OK)
            fg_error("audit", "cannot write a config.changed event to the audit log");
        cJSON_Delete(o);
        if (fg_write_file_atomic(path, hex, strlen(hex), 0600) != FG_OK)
            fg_warn("audit", "cannot record the configuration digest");
    }
    free(old);
    free(text);
}

fg_err setup_open_audit(const struct fg_config *cfg, const char *actor, struct audit **out,
                        char *audit_dir, char *why, size_t why_len)
{
    char logpath[4096], rdir[4096];
    config_state_paths(cfg, logpath, audit_dir, rdir, sizeof logpath);
    struct audit_options ao = {
        .log_path = logpath,
        .state_dir = audit_dir,
        .checkpoint_every_events = (int)cfg->audit_checkpoint_events,
        .checkpoint_every_ms = (int)cfg->audit_checkpoint_ms,
        .fsync_mode = !strcmp(cfg->audit_fsync, "always")  ? AUDIT_FSYNC_ALWAYS
                      : !strcmp(cfg->audit_fsync, "never") ? AUDIT_FSYNC_NEVER
                                                           : AUDIT_FSYNC_INTERVAL,
        .fsync_interval_ms = (int)cfg->audit_fsync_interval_ms,
    };
    if (fg_mkdirs(audit_dir, 0700) != FG_OK) {
        snprintf(why, why_len, "cannot create %s", audit_dir);
        return FG_ERR_IO;
    }
    fg_err e = audit_open(&ao, out, why, why_len);
    if (e)
        return e;
    unsigned char pk[32];
    char fp[40];
    audit_first_pubkey(*out, pk);
    audit_fingerprint(pk, fp, sizeof fp);
    fg_info("audit", "audit log %s, first key fingerprint %s", logpath, fp);
    record_config_digest(cfg, actor, *out, audit_dir);
    return FG_OK;
}
