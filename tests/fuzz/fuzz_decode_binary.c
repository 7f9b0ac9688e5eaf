/* libFuzzer target: the binary decoder on arbitrary payloads, through
 * sensor_decode as the gateway calls it (harness in fuzz_decode.h). */
static const char *const topics[] = {
    "raw/forklift/f",
    "raw/dock-door/f",
};

#include "fuzz_decode.h"
