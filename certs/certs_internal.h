/* Helpers shared by the certs/ files; not part of the public API. */
#ifndef CERTS_INTERNAL_H
#define CERTS_INTERNAL_H

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/x509_crt.h>

#include "certs/certs.h"

#define CERTS_COMPONENT "certs"

struct certs_rng {
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
};

FG_MUST_CHECK fg_err certs_rng_init(struct certs_rng *rng);
void certs_rng_free(struct certs_rng *rng);

/* Seconds-exact conversion of an X.509 time (always UTC) to ms since epoch. */
int64_t certs_time_ms(const mbedtls_x509_time *t);

/* Whole days from now until then; if then is past, minus the whole days since (at least 1). */
int certs_days_between(int64_t now_ms, int64_t then_ms);

/* Parses a certificate file; why says "WHAT PATH does not exist" or "is not a certificate". */
FG_MUST_CHECK fg_err certs_load_crt(const char *path, const char *what, mbedtls_x509_crt *crt,
                                    char *why, size_t why_len);

/* Value of the first subject attribute with this OID, NUL-terminated; false if absent. */
bool certs_subject_attr(const mbedtls_x509_crt *crt, const char *oid, size_t oid_len, char *buf,
                        size_t len);
/* The kind from the subject's OUs; UNKNOWN if none or more than one kind is named. */
enum certs_kind certs_kind_of(const mbedtls_x509_crt *crt);
/* TYPE of the subject's "title=sensor-type:TYPE", NUL-terminated; false (buf "") if absent or
 * invalid. */
bool certs_sensor_type_of(const mbedtls_x509_crt *crt, char *buf, size_t len);
#define CERTS_SENSOR_TYPE_PREFIX "sensor-type:"

/* Whether name may be issued for kind in ca_dir (reserved names, the register);
 * FG_ERR_CONFIG with a sentence otherwise. certs_record_issued adds it to the register. */
FG_MUST_CHECK fg_err certs_check_name(const char *ca_dir, enum certs_kind kind, const char *name,
                                      char *why, size_t why_len);
FG_MUST_CHECK fg_err certs_record_issued(const char *ca_dir, enum certs_kind kind,
                                         const char *name);

/* The subjectAltName entries we issue (dNSName and iPAddress), parsed from the raw DER
 * because mbedTLS 2.28 drops iPAddress from crt->subject_alt_names. */
struct certs_san {
    size_t n_dns, n_ip;
    char dns[CERTS_MAX_SAN * 2][256];
    unsigned char ip[CERTS_MAX_SAN * 2][16];
    size_t ip_len[CERTS_MAX_SAN * 2]; /* 4 or 16 */
    bool present;
};
void certs_san_parse(const mbedtls_x509_crt *crt, struct certs_san *san);
void certs_san_text(const struct certs_san *san, char *buf, size_t len);

/* What fairgate accepts (certs/strength.c): RSA >= 2048 bits, EC P-256/384/521 or
 * Brainpool of those sizes, SHA-256 or better signatures. */
extern const mbedtls_x509_crt_profile certs_profile;
/* "a RSA key of 1024 bits", "an EC key on secp256r1". */
void certs_key_text(const mbedtls_pk_context *pk, char *buf, size_t len);
/* If flags hold BAD_MD, BAD_KEY or BAD_PK: the end of a sentence "The certificate X ..."
 * naming the weakness, and true; otherwise false. */
bool certs_strength_text(uint32_t flags, const mbedtls_x509_crt *crt, char *buf, size_t len);
/* host (a DNS name or an IP address) against the subjectAltName only, never the CN. */
bool certs_host_matches(const struct certs_san *san, const char *host);

/* "clientAuth, serverAuth", or "" without the extension. */
void certs_ext_key_usage_text(const mbedtls_x509_crt *crt, char *buf, size_t len);

/* 1..max of [A-Za-z0-9._-] (and ' ' with space), not starting with '.', '-' or ' '. */
bool certs_token_ok(const char *s, size_t max, bool space);

/* Appends ", piece" (or "piece" when buf is empty), truncating safely. */
void certs_append(char *buf, size_t len, const char *piece);

#endif
