/* Policy admission, shared by the daemon and the mosquitto plugin: reads the
 * configured policy file once and decides whether it may run (signatures of
 * every required role over the exact bytes, parse against the sensor types,
 * the health rule, expiry). No MQTT library, no audit writes: the caller
 * writes the audit event this returns. BLOCKS on the disk (policy and
 * signature files): never call it from a broker's or Paho's callback. */
#ifndef POLICY_GATE_H
#define POLICY_GATE_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "common/fg_error.h"
#include "gateway/config.h"
#include "policy/policy.h"
#include "sensors/sensor.h"

struct policy_admission {
    struct policy *policy; /* set only when admitted; owned by the caller */
    const char *action;    /* audit action: "policy.refused" or "policy.expired" or NULL */
    cJSON *event;          /* audit object for action (or for loaded); caller frees */
    char why[512];         /* one line when refused or expired */
};

/* FG_OK and a->policy when the policy may run; otherwise an error, a->why and
 * a->action/a->event describe the refusal (previous_stays goes into it).
 * On success a->event is the object of "policy.loaded"/"policy.reloaded". */
FG_MUST_CHECK fg_err policy_admit(const struct fg_config *cfg, const struct sensor_registry *reg,
                                  bool previous_stays, struct policy_admission *a);

#endif
