/* libFuzzer target for an integrator's own sensor types: every descriptor in
 * $FAIRGATE_FUZZ_TYPES (default: tests/data/integrators/types), with C
 * decoders from $FAIRGATE_FUZZ_DECODERS if set, decodes each input on a topic
 * its pattern matches, through sensor_decode as the gateway calls it. Run:
 *     FAIRGATE_FUZZ_TYPES=/etc/fairgate/sensors \
 *     FAIRGATE_FUZZ_DECODERS=/usr/local/lib/fairgate/decoders \
 *         ./build/tests/decode_descriptors_fuzzer corpus-dir/
 * (clang builds decode_descriptors_fuzzer; gcc builds fuzz_decode_descriptors,
 * which runs the files or directories named on its command line once). */
#define FUZZ_CUSTOM_TARGET
#include "fuzz_decode.h"

static struct sensor_registry *own_registry(void)
{
    static struct sensor_registry *r;
    if (r)
        return r;
    char why[1024] = "", dflt[4096];
    const char *types = getenv("FAIRGATE_FUZZ_TYPES");
    const char *decoders = getenv("FAIRGATE_FUZZ_DECODERS");
    if (!types || !*types) {
        const char *src = getenv("FAIRGATE_SOURCE_DIR");
        snprintf(dflt, sizeof dflt, "%s/tests/data/integrators/types",
                 src && *src ? src : FAIRGATE_SOURCE_DIR);
        types = dflt;
    }
    if (sensor_registry_new(&r) != FG_OK ||
        (decoders && *decoders && sensor_registry_load_decoders(r, decoders, why, sizeof why)) ||
        sensor_registry_load_dir(r, types, why, sizeof why) || sensor_registry_count(r) == 0) {
        fprintf(stderr, "fuzz: cannot load the sensor types of %s: %s\n", types,
                why[0] ? why : "no descriptor");
        abort();
    }
    return r;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    static struct sensor_record rec;
    const struct sensor_registry *r = own_registry();
    for (size_t i = 0; i < sensor_registry_count(r); i++) {
        char topic[512], why[256] = "";
        sensor_type_topic(sensor_registry_at(r, i), "fuzz", topic, sizeof topic);
        fg_err e = sensor_decode(r, topic, data, size, &rec, why, sizeof why);
        if (e == FG_OK) {
            char out[2 * SENSOR_ARENA];
            if (rec.type != sensor_registry_at(r, i) ||
                !sensor_record_to_json(&rec, out, sizeof out))
                abort();
        } else if (!why[0] || e == FG_ERR_UNKNOWN_TOPIC)
            abort(); /* every error names its cause; the topic is the type's own */
    }
    return 0;
}
