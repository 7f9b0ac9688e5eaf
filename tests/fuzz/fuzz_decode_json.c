/* libFuzzer target: the json decoder on arbitrary payloads, through
 * sensor_decode as the gateway calls it (harness in fuzz_decode.h). */
static const char *const topics[] = {
    "raw/uwb-badge/f",    "raw/machine-terminal/f", "raw/vehicle-gps/f",
    "raw/pick-scanner/f", "raw/environment/f",
};

#include "fuzz_decode.h"
