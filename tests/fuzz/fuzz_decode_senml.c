/* libFuzzer target: the senml decoder on arbitrary payloads, through
 * sensor_decode as the gateway calls it (harness in fuzz_decode.h). */
static const char *const topics[] = {
    "raw/wearable-vitals/f",
};

#include "fuzz_decode.h"
