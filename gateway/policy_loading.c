/* Sensor types and the policy: loading, signature checks (co-determination),
 * reloads on SIGHUP or a changed file, and expiry. Main thread only. A policy
 * that fails any check is refused and audited; the one in force stays. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/fg_log.h"
#include "common/fg_util.h"
#include "council/policy_sig.h"
#include "gateway/gateway_internal.h"

fg_err gw_load_sensors(struct gateway *gw)
{
    char why[512];
    fg_err e = sensor_registry_new(&gw->sensors);
    if (e)
        return e;
    if (gw->cfg->sensors_builtin &&
        (e = sensor_registry_load_builtin(gw->sensors, why, sizeof why))) {
        fg_error("sensors", "%s", why);
        return e;
    }
    if (gw->cfg->sensor_decoders && (e = sensor_registry_load_decoders(
                                         gw->sensors, gw->cfg->sensor_decoders, why, sizeof why))) {
        fg_error("sensors", "%s", why);
        return e;
    }
    for (size_t i = 0; i < gw->cfg->nsensor_dirs; i++)
        if ((e = sensor_registry_load_dir(gw->sensors, gw->cfg->sensor_dirs[i], why, sizeof why))) {
            fg_error("sensors", "%s", why);
            return e;
        }
    fg_info("sensors", "%zu sensor types loaded", sensor_registry_count(gw->sensors));
    return FG_OK;
}

static void log_policy_warning(void *ctx, const char *msg)
{
    (void)ctx;
    fg_warn("policy", "%s", msg);
}

/* Co-determination: every required role must have signed these exact bytes
 * with the key the configuration trusts for it. */
fg_err gateway_check_policy_signatures(const struct fg_config *cfg, const char *text, size_t len,
                                       cJSON *signers, char *why, size_t why_len)
{
    struct policysig_setup su;
    if (policysig_setup_from_config(&su, cfg, why, why_len) != FG_OK)
        return FG_ERR_CONFIG;
    if (!su.nrequired) {
        fg_warn("policy", "policy.required_roles is empty: the policy takes effect unsigned "
                          "(lab use only)");
        return FG_OK;
    }
    if (policysig_setup_complete(&su, why, why_len) != FG_OK)
        return FG_ERR_CONFIG;
    struct policysig_result res;
    if (policysig_verify(text, len, su.sig_path, su.trust, su.ntrust, su.required, su.nrequired,
                         &res) != FG_OK) {
        snprintf(why, why_len, "cannot read the policy signatures");
        return FG_ERR_IO;
    }
    for (size_t i = 0; i < res.nsigners; i++) {
        if (!res.signers[i].valid || !res.signers[i].trusted)
            continue;
        cJSON *s = cJSON_CreateObject();
        cJSON_AddStringToObject(s, "role", res.signers[i].role);
        cJSON_AddStringToObject(s, "key", res.signers[i].key_fp);
        cJSON_AddStringToObject(s, "signed", res.signers[i].time);
        cJSON_AddItemToArray(signers, s);
    }
    if (!res.ok) {
        snprintf(why, why_len, "%s", res.reason);
        return FG_ERR_SIGNATURE;
    }
    return FG_OK;
}

/* Reads and checks the policy file: the accepted policy (audited as loaded),
 * or NULL with the refusal logged and audited (the policy in force stays). */
struct policy *gw_load_policy(struct gateway *gw, bool reload)
{
    char why[512];
    struct policy *p = NULL;
    if (!gw->cfg->policy_file) {
        fg_error("policy", "no policy.file configured: nothing will be forwarded");
        return NULL;
    }
    char *text = NULL;
    size_t tlen = 0;
    cJSON *signers = cJSON_CreateArray();
    fg_err e = FG_OK;
    if (fg_read_file(gw->cfg->policy_file, 4u << 20, &text, &tlen) != FG_OK) {
        snprintf(why, sizeof why, "%s cannot be read", gw->cfg->policy_file);
        e = FG_ERR_IO;
    }
    /* The signatures are checked over the very bytes that are then parsed. */
    if (!e)
        e = gateway_check_policy_signatures(gw->cfg, text, tlen, signers, why, sizeof why);
    if (!e)
        e = policy_load_string(gw->cfg->policy_file, text, tlen, gw->sensors, gw->cfg->site, &p,
                               why, sizeof why);
    if (!e && policy_names_health(p) && cJSON_GetArraySize(signers) == 0) {
        /* Health data may only leave under a policy both sides signed. */
        snprintf(why, sizeof why, "the policy lets health data leave the site but is not signed");
        policy_free(p);
        p = NULL;
        e = FG_ERR_DENIED;
    }
    char digest[65] = "";
    if (text) {
        unsigned char h[32];
        crypto_generichash(h, sizeof h, (unsigned char *)text, tlen, NULL, 0);
        sodium_bin2hex(digest, sizeof digest, h, sizeof h);
        free(text);
    }
    if (e) {
        cJSON_Delete(signers);
        fg_error("policy", "policy refused: %s; %s", why,
                 atomic_load(&gw->policy_loaded) ? "the previous policy stays in force"
                                                 : "nothing will be forwarded");
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "file", gw->cfg->policy_file);
        cJSON_AddStringToObject(o, "reason", why);
        cJSON_AddStringToObject(o, "digest", digest);
        cJSON_AddBoolToObject(o, "previous_stays", atomic_load(&gw->policy_loaded));
        gw_audit_event(gw, "policy.refused", o);
        return NULL;
    }
    int64_t now = fg_now_ms();
    char until[40] = "never";
    if (policy_valid_until_ms(p) != INT64_MAX)
        fg_format_time(policy_valid_until_ms(p), until, sizeof until);
    if (policy_expired(p, now)) {
        /* A pilot that ended forwards nothing; an older valid policy, if any,
         * stays in force, exactly as for an unsigned one. */
        fg_error("policy", "policy refused: %s version %d expired on %s; %s", policy_name(p),
                 policy_version(p), until,
                 atomic_load(&gw->policy_loaded) ? "the previous policy stays in force"
                                                 : "nothing will be forwarded");
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "policy", policy_name(p));
        cJSON_AddNumberToObject(o, "version", policy_version(p));
        cJSON_AddStringToObject(o, "valid_until", until);
        cJSON_AddStringToObject(o, "digest", digest);
        cJSON_AddBoolToObject(o, "previous_stays", atomic_load(&gw->policy_loaded));
        gw_audit_event(gw, "policy.expired", o);
        cJSON_Delete(signers);
        policy_free(p);
        return NULL;
    }
    {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "policy", policy_name(p));
        cJSON_AddNumberToObject(o, "version", policy_version(p));
        cJSON_AddStringToObject(o, "valid_until", until);
        cJSON_AddStringToObject(o, "digest", digest);
        cJSON_AddStringToObject(o, "file", gw->cfg->policy_file);
        cJSON_AddItemToObject(o, "signers", signers);
        gw_audit_event(gw, reload ? "policy.reloaded" : "policy.loaded", o);
    }
    policy_check_warnings(p, log_policy_warning, gw);
    return p;
}

/* Puts p in force; the old policy's open windows close under its own rules. */
void gw_install_policy(struct gateway *gw, struct policy *p, bool reload)
{
    char name[128];
    int version = policy_version(p);
    snprintf(name, sizeof name, "%s", policy_name(p));
    gw->expiry_reported = false;
    fg_err te = pipeline_set_policy(gw->pipe, p, fg_now_ms());
    if (te)
        fg_warn("policy", "closing the old policy's windows: %s", fg_strerror(te));
    atomic_store(&gw->policy_loaded, true);
    fg_info("policy", "%s policy %s version %d", reload ? "reloaded" : "loaded", name, version);
}

struct expiry_check {
    int64_t now;
    bool expired;
    char name[128];
    int version;
};

static void check_expiry(void *ctx, const struct policy *p)
{
    struct expiry_check *x = ctx;
    if (p && policy_expired(p, x->now)) {
        x->expired = true;
        snprintf(x->name, sizeof x->name, "%s", policy_name(p));
        x->version = policy_version(p);
    }
}

/* A pilot that ends forwards nothing from then on: said and audited once. */
void gw_check_policy_expiry(struct gateway *gw, int64_t now)
{
    if (gw->expiry_reported)
        return;
    struct expiry_check x = {.now = now};
    pipeline_with_policy(gw->pipe, check_expiry, &x);
    if (!x.expired)
        return;
    gw->expiry_reported = true;
    fg_error("policy",
             "policy %s version %d has expired: nothing is forwarded until "
             "a new signed policy arrives",
             x.name, x.version);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "policy", x.name);
    cJSON_AddNumberToObject(o, "version", x.version);
    gw_audit_event(gw, "policy.expired", o);
}

/* policy.watch: a changed policy or signature file goes through the same
 * checks as a SIGHUP. Polled every 2 s: no inotify dependency, no races with
 * editors that replace files. */
bool gw_policy_files_changed(struct gateway *gw, int64_t mono)
{
    if (!gw->cfg->policy_watch || !gw->cfg->policy_file || mono - gw->policy_polled_ms < 2000)
        return false;
    gw->policy_polled_ms = mono;
    char sigpath[4200];
    if (gw->cfg->policy_signatures)
        snprintf(sigpath, sizeof sigpath, "%s", gw->cfg->policy_signatures);
    else
        policysig_default_path(gw->cfg->policy_file, sigpath, sizeof sigpath);
    struct stat a, b;
    char stamp[128];
    bool ha = stat(gw->cfg->policy_file, &a) == 0, hb = stat(sigpath, &b) == 0;
    snprintf(stamp, sizeof stamp, "%lld.%ld/%lld:%lld.%ld/%lld",
             ha ? (long long)a.st_mtim.tv_sec : 0LL, ha ? a.st_mtim.tv_nsec : 0L,
             ha ? (long long)a.st_size : -1LL, hb ? (long long)b.st_mtim.tv_sec : 0LL,
             hb ? b.st_mtim.tv_nsec : 0L, hb ? (long long)b.st_size : -1LL);
    if (!gw->policy_stamp[0]) {
        snprintf(gw->policy_stamp, sizeof gw->policy_stamp, "%s", stamp);
        return false;
    }
    if (!strcmp(stamp, gw->policy_stamp))
        return false;
    snprintf(gw->policy_stamp, sizeof gw->policy_stamp, "%s", stamp);
    fg_info("policy", "policy or signature file changed: checking it");
    return true;
}
