/* Trust events, weakenings and the policy version floor (council/trust.h). */
#include "council/trust.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "common/fg_log.h"
#include "common/fg_util.h"
#include "council/keys.h"
#include "council/policy_sig.h"
#include "gateway/config.h"

#define COMP "trust"

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static size_t g_nweak;
static char g_kinds[256];

static const char *const standard_roles[] = {"employer", "works-council"};

static void state_path(const struct fg_config *cfg, const char *name, char *out, size_t len)
{
    snprintf(out, len, "%s/%s", cfg->state_dir, name);
}

static cJSON *read_json(const char *path)
{
    char *text = NULL;
    if (fg_read_file(path, 1 << 16, &text, NULL) != FG_OK)
        return NULL;
    cJSON *j = cJSON_Parse(text);
    free(text);
    return j;
}

static fg_err write_json(const char *path, const cJSON *j)
{
    char *s = cJSON_PrintUnformatted(j);
    if (!s)
        return FG_ERR_NOMEM;
    fg_err e = fg_write_file_atomic(path, s, strlen(s), 0600);
    free(s);
    return e;
}

static bool add_role(cJSON *roles, const char *role, const char *pub_file, char *why,
                     size_t why_len)
{
    unsigned char pk[32];
    char certified[KEYS_ROLE_MAX + 1], fp[40];
    if (!pub_file)
        return true;
    if (keys_load_public(pub_file, pk, certified, sizeof certified, why, why_len) != FG_OK)
        return false;
    keys_fingerprint(pk, fp, sizeof fp);
    cJSON_AddStringToObject(roles, role, fp);
    return true;
}

cJSON *council_trust_current(const struct fg_config *cfg, char *why, size_t why_len)
{
    cJSON *t = cJSON_CreateObject();
    cJSON *roles = cJSON_AddObjectToObject(t, "roles");
    cJSON *req = cJSON_AddArrayToObject(t, "required");
    if (!add_role(roles, "employer", cfg->trust_employer, why, why_len) ||
        !add_role(roles, "works-council", cfg->trust_works_council, why, why_len)) {
        cJSON_Delete(t);
        return NULL;
    }
    char buf[256];
    snprintf(buf, sizeof buf, "%s", cfg->policy_required_roles ? cfg->policy_required_roles : "");
    char *save = NULL;
    for (char *r = strtok_r(buf, ", ", &save); r; r = strtok_r(NULL, ", ", &save))
        cJSON_AddItemToArray(req, cJSON_CreateString(r));
    return t;
}

static bool has_str(const cJSON *arr, const char *s)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, arr) if (cJSON_IsString(c) && !strcmp(c->valuestring, s)) return true;
    return false;
}

static void weak(cJSON *list, const char *kind, const char *k1, const char *v1, const char *k2,
                 const char *v2)
{
    cJSON *w = cJSON_CreateObject();
    cJSON_AddStringToObject(w, "kind", kind);
    if (k1)
        cJSON_AddStringToObject(w, k1, v1 ? v1 : "");
    if (k2)
        cJSON_AddStringToObject(w, k2, v2 ? v2 : "");
    cJSON_AddItemToArray(list, w);
}

static void weak_keys(cJSON *list, const cJSON *cur, const cJSON *acc)
{
    const cJSON *ar = cJSON_GetObjectItemCaseSensitive(acc, "roles");
    const cJSON *cr = cJSON_GetObjectItemCaseSensitive(cur, "roles");
    const cJSON *c;
    cJSON_ArrayForEach(c, ar)
    {
        const char *now = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cr, c->string));
        if (!now || strcmp(now, cJSON_GetStringValue(c) ? cJSON_GetStringValue(c) : "") != 0) {
            cJSON *w = cJSON_CreateObject();
            cJSON_AddStringToObject(w, "kind", "trust_key_changed");
            cJSON_AddStringToObject(w, "role", c->string);
            cJSON_AddStringToObject(w, "accepted", cJSON_GetStringValue(c));
            cJSON_AddStringToObject(w, "current", now ? now : "(none)");
            cJSON_AddItemToArray(list, w);
        }
    }
}

cJSON *council_trust_weakenings_of(const struct fg_config *cfg, const cJSON *cur)
{
    cJSON *list = cJSON_CreateArray();
    char path[4200];
    state_path(cfg, "trust-accepted.json", path, sizeof path);
    cJSON *acc = read_json(path);
    const cJSON *req = cJSON_GetObjectItemCaseSensitive(cur, "required");
    if (acc) {
        weak_keys(list, cur, acc);
        const cJSON *c;
        cJSON *gone = cJSON_CreateArray();
        cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(acc, "required"))
        {
            if (cJSON_IsString(c) && !has_str(req, c->valuestring))
                cJSON_AddItemToArray(gone, cJSON_CreateString(c->valuestring));
        }
        if (cJSON_GetArraySize(gone) > 0) {
            cJSON *w = cJSON_CreateObject();
            cJSON_AddStringToObject(w, "kind", "required_roles_reduced");
            cJSON_AddItemToObject(w, "no_longer_required", gone);
            cJSON_AddItemToArray(list, w);
        } else
            cJSON_Delete(gone);
    }
    cJSON_Delete(acc);
    for (size_t i = 0; i < 2; i++)
        if (!has_str(req, standard_roles[i]))
            weak(list, "codetermination_off", "not_required", standard_roles[i], NULL, NULL);
    if (cfg->upstream.tls.enabled && cfg->upstream.tls.insecure_no_hostname_check)
        weak(list, "no_hostname_check", "link", "upstream", NULL, NULL);
    if (cfg->local.tls.enabled && cfg->local.tls.insecure_no_hostname_check)
        weak(list, "no_hostname_check", "link", "local", NULL, NULL);
    if (!cfg->upstream.tls.enabled)
        weak(list, "upstream_tls_off", "link", "upstream", NULL, NULL);
    return list;
}

size_t council_trust_audit(struct audit *a, const struct fg_config *cfg, bool reload)
{
    char why[512] = "", path[4200];
    cJSON *cur = council_trust_current(cfg, why, sizeof why);
    if (!cur) {
        fg_error(COMP, "cannot read a trusted key: %s", why);
        cur = cJSON_CreateObject();
        cJSON_AddStringToObject(cur, "error", why);
    }
    state_path(cfg, "trust-accepted.json", path, sizeof path);
    cJSON *acc = read_json(path);
    struct policysig_setup su;
    char swhy[512];
    bool valid = policysig_setup_from_config(&su, cfg, swhy, sizeof swhy) == FG_OK;
    if (!acc && valid && cJSON_GetObjectItemCaseSensitive(cur, "roles")) {
        /* First start with valid trust slots: what is configured now is the baseline. */
        if (write_json(path, cur) != FG_OK)
            fg_warn(COMP, "cannot record the accepted trust in %s", path);
    }
    cJSON_Delete(acc);
    cJSON *list = council_trust_weakenings_of(cfg, cur);
    cJSON *ev = cJSON_Duplicate(cur, 1);
    cJSON_AddBoolToObject(ev, "reload", reload);
    cJSON_AddNumberToObject(ev, "weakenings", cJSON_GetArraySize(list));
    if (audit_append(a, "gateway", "trust", ev) != FG_OK)
        fg_error(COMP, "cannot write the trust event to the audit log");
    cJSON_Delete(ev);
    char kinds[256] = "";
    size_t n = 0, off = 0;
    const cJSON *w;
    cJSON_ArrayForEach(w, list)
    {
        const char *kind = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(w, "kind"));
        char *s = cJSON_PrintUnformatted(w);
        fg_warn(COMP, "WEAKENED: %s (recorded in the audit log at every start while it lasts)",
                s ? s : kind);
        free(s);
        if (audit_append(a, "gateway", "trust.weakened", w) != FG_OK)
            fg_error(COMP, "cannot write a trust.weakened event to the audit log");
        if (off < sizeof kinds && !strstr(kinds, kind))
            off += (size_t)snprintf(kinds + off, sizeof kinds - off, "%s%s", off ? "," : "", kind);
        n++;
    }
    cJSON_Delete(list);
    cJSON_Delete(cur);
    pthread_mutex_lock(&g_mu);
    g_nweak = n;
    snprintf(g_kinds, sizeof g_kinds, "%s", kinds);
    pthread_mutex_unlock(&g_mu);
    return n;
}

size_t council_trust_weakenings(char *kinds, size_t kinds_len)
{
    pthread_mutex_lock(&g_mu);
    size_t n = g_nweak;
    if (kinds && kinds_len)
        snprintf(kinds, kinds_len, "%s", g_kinds);
    pthread_mutex_unlock(&g_mu);
    return n;
}

fg_err council_trust_accept(const struct fg_config *cfg, cJSON **accepted, char *why,
                            size_t why_len)
{
    *accepted = council_trust_current(cfg, why, why_len);
    if (!*accepted)
        return FG_ERR_CONFIG;
    char path[4200];
    state_path(cfg, "trust-accepted.json", path, sizeof path);
    fg_err e = write_json(path, *accepted);
    if (e != FG_OK)
        snprintf(why, why_len, "cannot write %s", path);
    return e;
}

fg_err council_trust_require_role(const char *pub_file, const char *certified, const char *want,
                                  char *why, size_t why_len)
{
    if (!strcmp(certified, want))
        return FG_OK;
    snprintf(why, why_len, "%s is not certified as a %s key (%s): refused", pub_file, want,
             strcmp(certified, "?") ? certified : "no valid role certificate");
    return FG_ERR_DENIED;
}

/* ---- versions only go up ---------------------------------------------------------- */

/* The highest version of policy the log says took effect (state file lost). */
static int highest_in_log(const struct fg_config *cfg, char digest[65], char name[128])
{
    char path[4096], adir[4096], rdir[4096];
    config_state_paths(cfg, path, adir, rdir, sizeof path);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char *line = NULL;
    size_t cap = 0;
    int best = 0;
    while (getline(&line, &cap, f) > 0) {
        if (!strstr(line, "\"action\":\"policy.loaded\"") &&
            !strstr(line, "\"action\":\"policy.reloaded\""))
            continue;
        cJSON *ev = cJSON_Parse(line);
        const cJSON *o = cJSON_GetObjectItemCaseSensitive(ev, "object");
        const char *pn = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "policy"));
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "version");
        const char *d = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "digest"));
        if (cJSON_IsNumber(v) && v->valueint >= best) {
            best = v->valueint;
            snprintf(digest, 65, "%s", d ? d : "");
            snprintf(name, 128, "%s", pn ? pn : "?");
        }
        cJSON_Delete(ev);
    }
    free(line);
    fclose(f);
    return best;
}

/* One floor for the site, whatever the policy is called: renaming an old signed
 * policy does not bring it back. */
fg_err council_policy_version_gate(const struct fg_config *cfg, const char *policy, int version,
                                   const char *digest, int *highest, char *why, size_t why_len)
{
    char path[4200], hd[65] = "", hname[128] = "";
    state_path(cfg, "policy-highest.json", path, sizeof path);
    cJSON *h = read_json(path);
    const cJSON *hv = cJSON_GetObjectItemCaseSensitive(h, "version");
    int top = 0;
    bool have_state = cJSON_IsNumber(hv);
    if (have_state) {
        top = hv->valueint;
        snprintf(hd, sizeof hd, "%s",
                 cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(h, "digest"))
                     ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(h, "digest"))
                     : "");
        snprintf(hname, sizeof hname, "%s",
                 cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(h, "policy"))
                     ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(h, "policy"))
                     : "?");
    } else {
        top = highest_in_log(cfg, hd, hname); /* the log remembers what the state lost */
    }
    cJSON_Delete(h);
    fg_err e = FG_OK;
    if (version < top) {
        snprintf(why, why_len,
                 "version %d of policy %s is older than version %d (policy %s), which already "
                 "took effect: versions only go up; to go back, sign the old content as version "
                 "%d or higher by every required role",
                 version, policy, top, hname, top + 1);
        e = FG_ERR_DENIED;
    } else if (version == top && top > 0 && strcmp(hd, digest) != 0) {
        snprintf(why, why_len,
                 "version %d already took effect (policy %s) with other content: a changed "
                 "policy needs a higher version (%d or more), signed by every required role",
                 version, hname, top + 1);
        e = FG_ERR_DENIED;
    } else if (version > top || !have_state) {
        cJSON *n = cJSON_CreateObject();
        cJSON_AddStringToObject(n, "policy", policy);
        cJSON_AddNumberToObject(n, "version", version);
        cJSON_AddStringToObject(n, "digest", digest);
        if (write_json(path, n) != FG_OK) {
            snprintf(why, why_len, "cannot record the policy version in %s", path);
            e = FG_ERR_IO;
        }
        cJSON_Delete(n);
        top = version;
    }
    if (highest)
        *highest = top;
    return e;
}
