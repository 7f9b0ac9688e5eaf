/* The TLS pre-flight as the daemon and `fairgate config check` report it:
 * one function, so both say the same sentences. */
#include <stdio.h>

#include "certs/certs.h"

bool certs_preflight_report(const char *ca, const char *cert, const char *key, int64_t now_ms,
                            certs_report_fn report, void *ctx, int *days_left)
{
    struct certs_preflight_req req = {
        .ca_file = ca, .cert_file = cert, .key_file = key, .now_ms = now_ms};
    char why[512], msg[1024];
    *days_left = -1;
    if (certs_preflight(&req, why, sizeof why) != FG_OK) {
        snprintf(msg, sizeof msg, "TLS pre-flight failed: %s", why);
        report(ctx, true, msg);
        return false;
    }
    if (cert)
        *days_left = req.days_left;
    if (cert && req.days_left >= 0 && req.days_left < 30) {
        snprintf(msg, sizeof msg, "the client certificate %s expires in %d day(s): renew it", cert,
                 req.days_left);
        report(ctx, false, msg);
    }
    return true;
}
