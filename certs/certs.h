/* Site PKI: a P-256 site CA, leaf certificates per kind, inspection, verification,
 * the daemon's TLS pre-flight check and the local broker's mosquitto configuration.
 * Every failure comes back as an fg_err plus one sentence a site admin can act on. */
#ifndef CERTS_H
#define CERTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/fg_error.h"

/* The kind is recorded in the subject OU so that any tool (openssl, inspect) shows it;
 * a sensor's type in the subject title, "sensor-type:TYPE". mosquitto knows a client only by
 * its CN, so a name belongs to one kind: names starting with "fairgate-" are reserved
 * for gateways, and the CA directory keeps a register of the names it issued
 * (issued-names.txt, "KIND NAME" lines) so that no name is issued for two kinds. */
enum certs_kind {
    CERTS_KIND_SENSOR,
    CERTS_KIND_GATEWAY,
    CERTS_KIND_BROKER,
    CERTS_KIND_WORKS_COUNCIL,
    CERTS_KIND_CA,
    CERTS_KIND_UNKNOWN, /* OU absent or foreign */
};

/* "sensor", "gateway", "broker", "works-council", "ca", "unknown"; static. */
const char *certs_kind_name(enum certs_kind kind);
/* Accepts only the four issuable kinds. */
bool certs_kind_parse(const char *s, enum certs_kind *out);

/* Certificate names (CN, device ids, DNS names) are 1..64 of [A-Za-z0-9._-], not starting
 * with '.' or '-': they become MQTT usernames and topic levels, so no '+', '#', '/'. */
bool certs_name_ok(const char *name);

#define CERTS_CA_DAYS 3650
#define CERTS_LEAF_DAYS 397 /* what browsers accept; renew yearly */
#define CERTS_MAX_SAN 16

struct certs_ca_req {
    const char *site;    /* O= of every certificate; [A-Za-z0-9 ._-] */
    const char *out_dir; /* created 0700; gets ca.key (0600) and ca.crt; never overwritten */
    int days;            /* 0: CERTS_CA_DAYS */
    /* Tests only: explicit validity in ms since epoch; 0 means now / now + days. */
    int64_t not_before_ms, not_after_ms;
};

/* Creates the site CA. FG_ERR_CONFIG if ca.key already exists. */
FG_MUST_CHECK fg_err certs_init_ca(const struct certs_ca_req *req, char *why, size_t why_len);

struct certs_issue_req {
    const char *ca_dir; /* holds ca.crt and ca.key */
    enum certs_kind kind;
    const char *name; /* CN; for sensors the device id (mosquitto's username) */
    /* Sensors: the sensor type whose raw/<type>/<name> alone it may publish (broker-config).
     * NULL for a hub, whose type broker-config --hub binds. Other kinds: NULL. */
    const char *sensor_type;
    int days; /* 0: CERTS_LEAF_DAYS */
    const char *dns[CERTS_MAX_SAN];
    size_t n_dns;
    const char *ip[CERTS_MAX_SAN];
    size_t n_ip;
    bool server_auth;                    /* gateway only: serverAuth in addition to clientAuth */
    bool overwrite;                      /* replace an existing NAME.key / NAME.crt */
    const char *out_dir;                 /* NULL: ca_dir; gets NAME.key (0600) and NAME.crt */
    int64_t not_before_ms, not_after_ms; /* tests only, as in certs_ca_req */
};

/* Issues a fresh key and certificate. Brokers always get DNS:NAME in their SAN. */
FG_MUST_CHECK fg_err certs_issue(const struct certs_issue_req *req, char *why, size_t why_len);

struct certs_info {
    char subject[256];
    char issuer[256];
    char cn[65];
    enum certs_kind kind;
    char sensor_type[65]; /* "" unless a sensor certificate names its type */
    bool is_ca;
    char serial[100];
    int64_t not_before_ms, not_after_ms;
    char san[512];           /* "DNS:localhost, IP:127.0.0.1" or "" */
    char key_usage[160];     /* "digitalSignature" or "" if no extension */
    char ext_key_usage[160]; /* "clientAuth, serverAuth" or "" if no extension */
    char sha256[96];         /* "AB:CD:..." of the DER */
};

/* Reads a PEM or DER certificate. */
FG_MUST_CHECK fg_err certs_inspect(const char *path, struct certs_info *out, char *why,
                                   size_t why_len);
void certs_info_print(FILE *out, const struct certs_info *info, int64_t now_ms);

enum certs_usage { CERTS_USAGE_ANY, CERTS_USAGE_CLIENT, CERTS_USAGE_SERVER };

#define CERTS_MAX_PROBLEMS 8
struct certs_report {
    size_t n;
    struct {
        fg_err err;
        char text[448]; /* one sentence */
    } problem[CERTS_MAX_PROBLEMS];
    int days_left; /* of cert_file, -1 if it could not be read */
};

struct certs_verify_req {
    const char *ca_file;
    const char *cert_file; /* NULL: only the CA is checked */
    const char *key_file;  /* optional: permissions and that it matches cert_file */
    const char *host;      /* optional: must be a DNS or IP entry of the SAN */
    enum certs_usage usage;
    int64_t now_ms;
};

/* Runs every check and records each problem, most fundamental first. Returns FG_OK
 * only if there is none, otherwise the error of the first. */
FG_MUST_CHECK fg_err certs_verify(const struct certs_verify_req *req, struct certs_report *rep);

struct certs_preflight_req {
    const char *ca_file;
    const char *cert_file; /* optional: the client certificate */
    const char *key_file;  /* optional: its key */
    const char *hostname;  /* optional: then cert_file must be a server certificate for it */
    int64_t now_ms;
    int days_left; /* out: of cert_file, or -1; the caller warns below 30 */
};

/* The daemon's check before connecting: the first problem in one sentence in why
 * (FG_ERR_NOT_FOUND, FG_ERR_PERM, FG_ERR_TLS, FG_ERR_EXPIRED). Not const: days_left is out. */
fg_err certs_preflight(struct certs_preflight_req *req, char *why, size_t why_len)
    __attribute__((warn_unused_result));

/* The register of names issued by the CA in ca_dir: the kind name was issued for, or
 * CERTS_KIND_UNKNOWN if none (or no register). */
enum certs_kind certs_issued_kind(const char *ca_dir, const char *name);

#define CERTS_RESERVED_PREFIX "fairgate-" /* gateway names only */

/* certs_preflight with its report: on failure report(ctx, true, "TLS pre-flight
 * failed: WHY") and false; a client certificate expiring within 30 days gets
 * report(ctx, false, "the client certificate CERT expires in N day(s): renew
 * it"). *days_left: of cert, or -1. */
typedef void (*certs_report_fn)(void *ctx, bool error, const char *msg);
bool certs_preflight_report(const char *ca, const char *cert, const char *key, int64_t now_ms,
                            certs_report_fn report, void *ctx, int *days_left);

#define CERTS_MAX_CONSUMERS 32
struct certs_broker_req {
    const char *sensors_dir;  /* every *.crt with OU=sensor becomes a sensor identity, allowed
                                 raw/<its sensor type>/<its CN> (or raw/TYPE/+ for a hub) */
    const char *ca_dir;       /* site CA; broker.crt/.key are issued here if absent */
    const char *out_path;     /* mosquitto.conf; the ACL goes next to it (NAME.acl) */
    const char *bind;         /* NULL: 127.0.0.1 */
    int port;                 /* 0: 8883 */
    const char *gateway_name; /* NULL: fairgate-gateway */
    const char *consumers[CERTS_MAX_CONSUMERS]; /* may read site/# only */
    size_t n_consumers;
    /* Hubs publish for many devices of one sensor type (an RTLS engine for UWB
     * badges, a LoRaWAN network server): "NAME=TYPE" may write raw/TYPE/+ only. */
    const char *hubs[CERTS_MAX_CONSUMERS];
    size_t n_hubs;
    int64_t now_ms;
    /* fairgate inside mosquitto (both or neither): plugin lines and a TLS bridge
     * carrying bridge_topics (default site/#; never one that can match raw/). */
    const char *plugin_path, *plugin_config; /* config NULL: /etc/fairgate/fairgate.yaml */
    const char *bridge_upstream;             /* HOST:PORT */
    const char *bridge_ca, *bridge_cert, *bridge_key;
    const char *bridge_topics[CERTS_MAX_CONSUMERS];
    size_t n_bridge_topics;
};

/* The plugin and bridge lines for req (*out NULL if neither is asked for;
 * caller frees), after the daemon's TLS pre-flight on the bridge material. */
FG_MUST_CHECK fg_err certs_broker_plugin_lines(const struct certs_broker_req *req, char **out,
                                               char *why, size_t why_len);

/* Writes the mosquitto 2.0 configuration and ACL; *n_sensors counts the sensor identities. */
FG_MUST_CHECK fg_err certs_broker_config(const struct certs_broker_req *req, size_t *n_sensors,
                                         char *why, size_t why_len);

#endif
