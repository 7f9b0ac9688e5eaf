/* fairgate: the one error enum every module returns. */
#ifndef FG_ERROR_H
#define FG_ERROR_H

#define FG_MUST_CHECK __attribute__((warn_unused_result))

typedef enum {
    FG_OK = 0,
    FG_ERR_NOMEM,         /* allocation failed */
    FG_ERR_IO,            /* read/write/open failed (errno is kept) */
    FG_ERR_PERM,          /* a secret file is readable by others, or wrong owner */
    FG_ERR_CONFIG,        /* configuration invalid */
    FG_ERR_PARSE,         /* malformed input (JSON, YAML, binary) */
    FG_ERR_TYPE,          /* a field has the wrong type */
    FG_ERR_RANGE,         /* a value is outside its declared limits */
    FG_ERR_TOO_BIG,       /* payload or buffer over its bound */
    FG_ERR_UNKNOWN_TOPIC, /* no sensor type matches the topic */
    FG_ERR_MISSING,       /* a required field or file is absent */
    FG_ERR_CRYPTO,        /* a cryptographic operation failed */
    FG_ERR_SIGNATURE,     /* a signature does not verify */
    FG_ERR_EXPIRED,       /* a policy or certificate is past its validity */
    FG_ERR_TLS,           /* TLS material is unusable */
    FG_ERR_MQTT,          /* the MQTT client library reported an error */
    FG_ERR_FULL,          /* a bounded queue is full */
    FG_ERR_NOT_FOUND,     /* the thing asked for does not exist */
    FG_ERR_DENIED,        /* the policy forbids it */
    FG_ERR__COUNT
} fg_err;

/* Static, never NULL. */
const char *fg_strerror(fg_err err);

#endif
