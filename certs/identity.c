/* One name, one kind. mosquitto knows a client only by its certificate's CN (the MQTT
 * username, and with use_username_as_clientid its client id too), not by the kind in
 * its OU: a sensor certificate with the gateway's name would read raw/# and could take
 * over the gateway's session. So the CA keeps a register of every name it issued and
 * for which kind (ca_dir/issued-names.txt, "KIND NAME" per line), refuses a name for a
 * second kind, and reserves names starting with "fairgate-" for gateways. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certs/certs_internal.h"
#include "common/fg_util.h"

#define REGISTER "issued-names.txt"
#define REGISTER_MAX (4u << 20)

static fg_err read_register(const char *ca_dir, char **text, size_t *len)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s/" REGISTER, ca_dir) >= (int)sizeof path)
        return FG_ERR_TOO_BIG;
    fg_err e = fg_read_file(path, REGISTER_MAX, text, len);
    if (e == FG_ERR_NOT_FOUND) {
        *text = NULL;
        *len = 0;
        return FG_OK;
    }
    return e;
}

/* The kind recorded for name in text, or UNKNOWN. */
static enum certs_kind lookup(const char *text, size_t len, const char *name)
{
    size_t nl = strlen(name);
    for (const char *p = text, *end = text + len; p && p < end;) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *sp = memchr(p, ' ', (size_t)((eol ? eol : end) - p));
        if (sp && (size_t)((eol ? eol : end) - sp - 1) == nl && !memcmp(sp + 1, name, nl)) {
            char kind[32];
            snprintf(kind, sizeof kind, "%.*s", (int)(sp - p), p);
            enum certs_kind k;
            if (certs_kind_parse(kind, &k))
                return k;
        }
        p = eol ? eol + 1 : NULL;
    }
    return CERTS_KIND_UNKNOWN;
}

enum certs_kind certs_issued_kind(const char *ca_dir, const char *name)
{
    char *text;
    size_t len;
    if (read_register(ca_dir, &text, &len) != FG_OK)
        return CERTS_KIND_UNKNOWN;
    enum certs_kind k = text ? lookup(text, len, name) : CERTS_KIND_UNKNOWN;
    free(text);
    return k;
}

fg_err certs_check_name(const char *ca_dir, enum certs_kind kind, const char *name, char *why,
                        size_t why_len)
{
    if (kind != CERTS_KIND_GATEWAY &&
        strncmp(name, CERTS_RESERVED_PREFIX, strlen(CERTS_RESERVED_PREFIX)) == 0) {
        snprintf(why, why_len,
                 "Names starting with '" CERTS_RESERVED_PREFIX "' are reserved for gateway "
                 "certificates; a %s certificate named %s would be taken for the gateway by the "
                 "broker.",
                 certs_kind_name(kind), name);
        return FG_ERR_CONFIG;
    }
    char *text;
    size_t len;
    fg_err e = read_register(ca_dir, &text, &len);
    if (e != FG_OK) {
        snprintf(why, why_len, "Cannot read %s/" REGISTER ": %s.", ca_dir, fg_strerror(e));
        return e;
    }
    enum certs_kind had = text ? lookup(text, len, name) : CERTS_KIND_UNKNOWN;
    free(text);
    if (had != CERTS_KIND_UNKNOWN && had != kind) {
        snprintf(why, why_len,
                 "The name %s was already issued for a %s certificate; the broker knows clients "
                 "by name only, so a name belongs to one kind. Choose another name.",
                 name, certs_kind_name(had));
        return FG_ERR_CONFIG;
    }
    return FG_OK;
}

fg_err certs_record_issued(const char *ca_dir, enum certs_kind kind, const char *name)
{
    char *text;
    size_t len;
    fg_err e = read_register(ca_dir, &text, &len);
    if (e != FG_OK)
        return e;
    if (text && lookup(text, len, name) == kind) {
        free(text);
        return FG_OK;
    }
    size_t add = strlen(certs_kind_name(kind)) + strlen(name) + 4;
    char *n = realloc(text, len + add);
    if (!n) {
        free(text);
        return FG_ERR_NOMEM;
    }
    len += (size_t)snprintf(n + len, add, "%s%s %s\n", len && n[len - 1] != '\n' ? "\n" : "",
                            certs_kind_name(kind), name);
    char path[4096];
    snprintf(path, sizeof path, "%s/" REGISTER, ca_dir);
    e = fg_write_file_atomic(path, n, len, 0644);
    free(n);
    return e;
}
