/* Policy admission: one decision for the daemon and the broker plugin. */
#include "gateway/policy_gate.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fg_log.h"
#include "common/fg_util.h"
#include "council/policy_sig.h"
#include "council/trust.h"
#include "gateway/gateway.h"

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

static fg_err refuse(struct policy_admission *a, const char *file, const char *digest,
                     bool previous_stays, fg_err e)
{
    a->action = "policy.refused";
    a->event = cJSON_CreateObject();
    cJSON_AddStringToObject(a->event, "file", file);
    cJSON_AddStringToObject(a->event, "reason", a->why);
    cJSON_AddStringToObject(a->event, "digest", digest);
    cJSON_AddBoolToObject(a->event, "previous_stays", previous_stays);
    return e;
}

fg_err policy_admit(const struct fg_config *cfg, const struct sensor_registry *reg,
                    bool previous_stays, struct policy_admission *a)
{
    memset(a, 0, sizeof *a);
    if (!cfg->policy_file) {
        snprintf(a->why, sizeof a->why, "no policy.file configured");
        return refuse(a, "", "", previous_stays, FG_ERR_CONFIG);
    }
    char *text = NULL;
    size_t tlen = 0;
    struct policy *p = NULL;
    cJSON *signers = cJSON_CreateArray();
    fg_err e = FG_OK;
    if (fg_read_file(cfg->policy_file, 4u << 20, &text, &tlen) != FG_OK) {
        snprintf(a->why, sizeof a->why, "%s cannot be read", cfg->policy_file);
        e = FG_ERR_IO;
    }
    /* The signatures are checked over the very bytes that are then parsed. */
    if (!e)
        e = gateway_check_policy_signatures(cfg, text, tlen, signers, a->why, sizeof a->why);
    if (!e)
        e = policy_load_string(cfg->policy_file, text, tlen, reg, cfg->site, &p, a->why,
                               sizeof a->why);
    if (!e && policy_needs_signatures(p) && cJSON_GetArraySize(signers) == 0) {
        /* Health data and exceptions only under a policy both sides signed. */
        snprintf(a->why, sizeof a->why, "%s",
                 policy_names_health(p)
                     ? "the policy lets health data leave the site but is not signed"
                     : "the policy declares exceptions (worker ids kept, persons behind things, "
                       "small groups) but is not signed");
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
        return refuse(a, cfg->policy_file, digest, previous_stays, e);
    }
    char until[40] = "never";
    if (policy_valid_until_ms(p) != INT64_MAX)
        fg_format_time(policy_valid_until_ms(p), until, sizeof until);
    a->event = cJSON_CreateObject();
    cJSON_AddStringToObject(a->event, "policy", policy_name(p));
    cJSON_AddNumberToObject(a->event, "version", policy_version(p));
    cJSON_AddStringToObject(a->event, "valid_until", until);
    cJSON_AddStringToObject(a->event, "digest", digest);
    if (policy_expired(p, fg_now_ms())) {
        /* A pilot that ended forwards nothing; an older valid policy, if any,
         * stays in force, exactly as for an unsigned one. */
        snprintf(a->why, sizeof a->why, "%s version %d expired on %s", policy_name(p),
                 policy_version(p), until);
        cJSON_AddBoolToObject(a->event, "previous_stays", previous_stays);
        a->action = "policy.expired";
        cJSON_Delete(signers);
        policy_free(p);
        return FG_ERR_EXPIRED;
    }
    /* Versions only go up: a lower one, or the same with other content, is refused
     * (going back means a new version signed by all roles). */
    int highest = 0;
    if (council_policy_version_gate(cfg, policy_name(p), policy_version(p), digest, &highest,
                                    a->why, sizeof a->why) != FG_OK) {
        cJSON_Delete(a->event);
        a->event = NULL;
        cJSON_Delete(signers);
        policy_free(p);
        refuse(a, cfg->policy_file, digest, previous_stays, FG_ERR_DENIED);
        cJSON_AddNumberToObject(a->event, "highest_version", highest);
        return FG_ERR_DENIED;
    }
    cJSON_AddNumberToObject(a->event, "highest_version", highest);
    cJSON_AddStringToObject(a->event, "file", cfg->policy_file);
    cJSON_AddItemToObject(a->event, "signers", signers);
    a->policy = p;
    return FG_OK;
}
