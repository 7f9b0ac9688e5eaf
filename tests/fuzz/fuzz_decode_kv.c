/* libFuzzer target: the kv decoder on arbitrary payloads, through
 * sensor_decode as the gateway calls it (harness in fuzz_decode.h). */
static const char *const topics[] = {
    "raw/access-gate/f",
};

#include "fuzz_decode.h"
