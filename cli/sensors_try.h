/* fairgate sensors new / test: start a sensor type and try it on samples. */
#ifndef SENSORS_TRY_H
#define SENSORS_TRY_H

#include "sensors/sensor.h"

/* Writes OUT/NAME/{types/NAME.yaml,samples.jsonl,policy.yaml}; never
 * overwrites. Returns an exit code. */
int sensors_new(const char *name, const char *format, const char *out);
/* Decodes every line of the JSONL file as type TYPE and prints each record or
 * its error. Returns 0 when every line decodes, 1 otherwise. */
int sensors_test(const struct sensor_registry *r, const char *type, const char *file);

#endif
