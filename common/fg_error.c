#include "common/fg_error.h"

static const char *const messages[FG_ERR__COUNT] = {
    [FG_OK] = "success",
    [FG_ERR_NOMEM] = "out of memory",
    [FG_ERR_IO] = "input/output error",
    [FG_ERR_PERM] = "file permissions are unsafe",
    [FG_ERR_CONFIG] = "invalid configuration",
    [FG_ERR_PARSE] = "malformed input",
    [FG_ERR_TYPE] = "wrong field type",
    [FG_ERR_RANGE] = "value out of range",
    [FG_ERR_TOO_BIG] = "input too large",
    [FG_ERR_UNKNOWN_TOPIC] = "unknown topic",
    [FG_ERR_MISSING] = "required item missing",
    [FG_ERR_CRYPTO] = "cryptographic operation failed",
    [FG_ERR_SIGNATURE] = "signature does not verify",
    [FG_ERR_EXPIRED] = "expired",
    [FG_ERR_TLS] = "TLS material unusable",
    [FG_ERR_MQTT] = "MQTT error",
    [FG_ERR_FULL] = "queue full",
    [FG_ERR_NOT_FOUND] = "not found",
    [FG_ERR_DENIED] = "denied by policy",
};

const char *fg_strerror(fg_err err)
{
    if ((int)err < 0 || err >= FG_ERR__COUNT || !messages[err])
        return "unknown error";
    return messages[err];
}
