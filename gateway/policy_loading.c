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
#include "gateway/policy_gate.h"
#include "gateway/setup.h"

fg_err gw_load_sensors(struct gateway *gw)
{
    char why[512];
    fg_err e = setup_load_sensors(gw->cfg, &gw->sensors, why, sizeof why);
    if (e) {
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

/* Reads and checks the policy file: the accepted policy (audited as loaded),
 * or NULL with the refusal logged and audited (the policy in force stays). */
struct policy *gw_load_policy(struct gateway *gw, bool reload)
{
    /* One admission for the daemon and the mosquitto plugin (gateway/policy_gate.c). */
    struct policy_admission ad;
    bool previous = atomic_load(&gw->policy_loaded);
    if (policy_admit(gw->cfg, gw->sensors, previous, &ad) != FG_OK) {
        fg_error("policy", "policy refused: %s; %s", ad.why,
                 previous ? "the previous policy stays in force" : "nothing will be forwarded");
        gw_audit_event(gw, ad.action, ad.event);
        return NULL;
    }
    gw_audit_event(gw, reload ? "policy.reloaded" : "policy.loaded", ad.event);
    policy_check_warnings(ad.policy, log_policy_warning, gw);
    return ad.policy;
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
