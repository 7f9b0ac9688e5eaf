/* Start-up steps shared by the daemon and the mosquitto plugin. */
#include "gateway/setup.h"

#include <errno.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/fg_log.h"
#include "common/fg_util.h"
#include "council/keys.h"
#include "council/policy_sig.h"
#include "council/reident.h"
#include "council/trust.h"

fg_err setup_load_sensors(const struct fg_config *cfg, struct sensor_registry **out, char *why,
                          size_t why_len)
{
    struct sensor_registry *reg = NULL;
    fg_err e = sensor_registry_new(&reg);
    if (e) {
        snprintf(why, why_len, "cannot create the sensor registry: %s", fg_strerror(e));
        return e;
    }
    /* Decoders built outside fairgate first: the types that name them follow. */
    if (cfg->sensor_decoders &&
        (e = sensor_registry_load_decoders(reg, cfg->sensor_decoders, why, why_len)))
        goto fail;
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
        .rotate_every_ms = cfg->audit_rotate_ms, /* a sealing bound stated in the log */
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

fg_err setup_instance_id(const struct fg_config *cfg, char *out, size_t out_len, char *why,
                         size_t why_len)
{
    char path[4096], *text = NULL;
    snprintf(path, sizeof path, "%s/gateway-id", cfg->state_dir);
    if (fg_read_file(path, 64, &text, NULL) == FG_OK && strlen(text) >= 16) {
        snprintf(out, out_len, "%.16s", text);
        free(text);
        return FG_OK;
    }
    free(text);
    unsigned char raw[8];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(out, out_len, raw, sizeof raw);
    if (fg_write_file_atomic(path, out, strlen(out), 0600) != FG_OK) {
        snprintf(why, why_len, "cannot write %s: %s", path, strerror(errno));
        return FG_ERR_IO;
    }
    return FG_OK;
}

fg_err setup_open_reident(const struct fg_config *cfg, struct reident **out, char *why,
                          size_t why_len)
{
    *out = NULL;
    if (!cfg->trust_works_council) {
        fg_warn("reident", "no works council key (trust.works_council): pseudonyms cannot be "
                           "re-identified by anyone, not even in an emergency");
        return FG_OK;
    }
    unsigned char wc[32];
    char role[KEYS_ROLE_MAX + 1], rdir[4200];
    snprintf(rdir, sizeof rdir, "%s/reident", cfg->state_dir);
    fg_err e = keys_load_public(cfg->trust_works_council, wc, role, sizeof role, why, why_len);
    /* Sealed only to a key that certified itself as the works council's. */
    if (!e)
        e = council_trust_require_role(cfg->trust_works_council, role, "works-council", why,
                                       why_len);
    if (!e)
        e = reident_open(rdir, wc, out, why, why_len);
    return e;
}

void setup_policy_stamp(const struct fg_config *cfg, char *out, size_t out_len)
{
    char sigpath[4200];
    if (cfg->policy_signatures)
        snprintf(sigpath, sizeof sigpath, "%s", cfg->policy_signatures);
    else
        policysig_default_path(cfg->policy_file, sigpath, sizeof sigpath);
    struct stat a, b;
    bool ha = stat(cfg->policy_file, &a) == 0, hb = stat(sigpath, &b) == 0;
    snprintf(out, out_len, "%lld.%ld/%lld:%lld.%ld/%lld", ha ? (long long)a.st_mtim.tv_sec : 0LL,
             ha ? a.st_mtim.tv_nsec : 0L, ha ? (long long)a.st_size : -1LL,
             hb ? (long long)b.st_mtim.tv_sec : 0LL, hb ? b.st_mtim.tv_nsec : 0L,
             hb ? (long long)b.st_size : -1LL);
}
