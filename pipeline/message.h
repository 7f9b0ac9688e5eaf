/* The neutral message type: one minimised message on its way out of the site.
 * The pipeline hands it to its observer, the outbox stores it, the daemon (or a
 * broker plugin) publishes it. No MQTT library and no policy type in here. */
#ifndef FG_MESSAGE_H
#define FG_MESSAGE_H

#include <stddef.h>
#include <stdint.h>

/* Pointers are borrowed: valid only during the call that receives them. */
struct fg_message {
    const char *route;   /* the policy route that made it */
    const char *purpose; /* what it is for (sent as a user property) */
    const char *topic;   /* valid MQTT UTF-8, no wildcards (policy builds it so) */
    const char *payload;
    size_t len;
    int64_t retention_ms; /* 0 = no limit; becomes the message expiry upstream */
    uint32_t categories;  /* bit per sensor_category present in the payload */
    const char *policy_name;
    int policy_version;
    int batch_max;          /* up to this many records per upstream publish; 0: one */
    int64_t batch_delay_ms; /* a record waits at most this long for others */
};

#endif
