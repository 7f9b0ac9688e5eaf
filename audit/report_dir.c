/* The report for a council member without a terminal: the verified report in
 * English, Dutch and German plus a short verification.txt (verdict, key
 * fingerprint), written atomically into a directory the council reads; the
 * gateway does it on a schedule and on demand (SIGUSR1) from a thread of its
 * own, so the main loop never waits for the disk. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fg_log.h"
#include "common/fg_util.h"
#include "audit/audit.h"
#include "policy/policy.h"

static fg_err write_verification(const char *dir, const struct audit_verify_result *vr,
                                 const unsigned char *pk, char *why, size_t why_len)
{
    char fp[32], now[64], path[4200], text[4096];
    audit_fingerprint(pk, fp, sizeof fp);
    size_t at = 0;
    for (int l = 0; l < FG_LANG__COUNT && at < sizeof text; l++) {
        char line[16];
        fg_i18n_date((fg_lang)l, fg_now_ms(), true, now, sizeof now);
        snprintf(line, sizeof line, "%zu", vr->bad_line);
        char k[64];
        snprintf(k, sizeof k, "damage.%s", audit_damage_str(vr->damage));
        int w = snprintf(text + at, sizeof text - at, "[%s] ", fg_lang_code((fg_lang)l));
        at += w > 0 ? (size_t)w : 0;
        if (vr->ok)
            w = fg_trf(text + at, sizeof text - at, (fg_lang)l, "rd.ok", now, fp);
        else
            w = fg_trf(text + at, sizeof text - at, (fg_lang)l, "rd.bad", now, fg_tr((fg_lang)l, k),
                       line, fp);
        at += w > 0 ? (size_t)w : 0;
        if (at < sizeof text)
            text[at++] = '\n';
    }
    at = at < sizeof text ? at : sizeof text - 1;
    snprintf(path, sizeof path, "%s/verification.txt", dir);
    if (fg_write_file_atomic(path, text, at, 0644) != FG_OK) {
        snprintf(why, why_len, "cannot write %s", path);
        return FG_ERR_IO;
    }
    return FG_OK;
}

fg_err audit_report_to_dir(const struct audit_report_options *o, const char *dir, char *why,
                           size_t why_len)
{
    if (fg_mkdirs(dir, 0755) != FG_OK) {
        snprintf(why, why_len, "cannot create %s", dir);
        return FG_ERR_IO;
    }
    struct audit_verify_result vr = {0};
    fg_err e = FG_OK;
    for (int l = 0; l < FG_LANG__COUNT && e == FG_OK; l++) {
        char tmp[4200], path[4200];
        snprintf(path, sizeof path, "%s/audit-report-%s.html", dir, fg_lang_code((fg_lang)l));
        snprintf(tmp, sizeof tmp, "%s/.audit-report-%s.html.tmp", dir, fg_lang_code((fg_lang)l));
        struct audit_report_options lo = *o;
        lo.out_path = tmp;
        lo.lang = (fg_lang)l;
        lo.result = &vr;
        e = audit_report_html(&lo, why, why_len);
        if (e == FG_OK && rename(tmp, path) != 0) {
            snprintf(why, why_len, "cannot write %s", path);
            e = FG_ERR_IO;
        }
        if (e != FG_OK)
            unlink(tmp);
    }
    if (e == FG_OK)
        e = write_verification(dir, &vr, o->pubkey, why, why_len);
    if (o->result)
        *o->result = vr;
    return e;
}

/* ---- the daemon's scheduler ---------------------------------------------------- */

struct audit_reporter {
    char *log_path, *dir;
    unsigned char pk[32];
    int64_t every_ms, last_ms;
    pthread_t thread;
    bool running;
    atomic_bool done;
    fg_err result;
    bool intact;
    cJSON *coarse; /* computed on the caller's thread, read by the report thread */
    char why[512];
};

static void *report_thread(void *arg)
{
    struct audit_reporter *r = arg;
    struct audit_verify_result vr = {0};
    struct audit_report_options o = {
        .log_path = r->log_path, .pubkey = r->pk, .live = true, .result = &vr, .coarse = r->coarse};
    r->why[0] = '\0';
    r->result = audit_report_to_dir(&o, r->dir, r->why, sizeof r->why);
    r->intact = vr.ok;
    atomic_store(&r->done, true);
    return NULL;
}

fg_err audit_reporter_new(struct audit *a, const char *log_path, const char *dir, int64_t every_ms,
                          struct audit_reporter **out)
{
    *out = NULL;
    if (!dir || !*dir)
        return FG_OK;
    struct audit_reporter *r = calloc(1, sizeof *r);
    if (!r || !(r->log_path = strdup(log_path)) || !(r->dir = strdup(dir))) {
        if (r) {
            free(r->log_path);
            free(r);
        }
        return FG_ERR_NOMEM;
    }
    audit_first_pubkey(a, r->pk);
    r->every_ms = every_ms;
    r->last_ms = INT64_MIN / 2; /* the first report right after start */
    *out = r;
    return FG_OK;
}

void audit_reporter_tick(struct audit_reporter *r, struct audit *a, const struct policy *policy,
                         int64_t mono_ms, bool requested)
{
    if (!r)
        return;
    if (r->running && atomic_load(&r->done)) {
        pthread_join(r->thread, NULL);
        r->running = false;
        if (r->result != FG_OK)
            fg_error("audit", "could not write the council's report to %s: %s", r->dir, r->why);
        else {
            fg_info("audit", "wrote the council's report to %s (log %s)", r->dir,
                    r->intact ? "intact" : "DAMAGED");
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "command", "report");
            cJSON_AddStringToObject(o, "to", r->dir);
            if (audit_append(a, "gateway", "audit.read", o) != FG_OK)
                fg_warn("audit", "could not record the report in the audit log");
            cJSON_Delete(o);
        }
    }
    bool due = requested || (r->every_ms > 0 && mono_ms - r->last_ms >= r->every_ms);
    if (!due || r->running)
        return;
    r->last_ms = mono_ms;
    /* seal what is written, so the report shows it as signed */
    if (audit_checkpoint(a) != FG_OK)
        fg_warn("audit", "could not seal the log before the report");
    cJSON_Delete(r->coarse);
    r->coarse = policy ? policy_coarseness(policy) : NULL;
    atomic_store(&r->done, false);
    if (pthread_create(&r->thread, NULL, report_thread, r) == 0)
        r->running = true;
    else
        fg_error("audit", "could not start writing the council's report");
}

void audit_reporter_free(struct audit_reporter *r)
{
    if (!r)
        return;
    if (r->running)
        pthread_join(r->thread, NULL);
    cJSON_Delete(r->coarse);
    free(r->log_path);
    free(r->dir);
    free(r);
}
