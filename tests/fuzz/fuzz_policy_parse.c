/* libFuzzer target: policy text -> policy_load_string (and, when it loads,
 * explain and check, which walk the whole compiled model). Built with
 * -DFUZZING and -fsanitize=fuzzer; without FUZZING it is a plain program that
 * runs every file given on the command line, so the seed corpus runs under
 * ASan/UBSan in ordinary test builds. Sensor types: tests/data/policy/types. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fg_log.h"
#include "common/fg_util.h"
#include "policy/policy.h"

static struct sensor_registry *reg;

static void init(void)
{
    if (reg)
        return;
    const char *src = getenv("FAIRGATE_SOURCE_DIR");
    char dir[1024], why[512];
    snprintf(dir, sizeof dir, "%s/tests/data/policy/types", src ? src : FAIRGATE_SOURCE_DIR);
    fg_log_setup(FG_LOG_ERROR, false);
    if (sensor_registry_new(&reg) != FG_OK ||
        sensor_registry_load_dir(reg, dir, why, sizeof why) != FG_OK) {
        fprintf(stderr, "fuzz_policy_parse: cannot load sensor types from %s\n", dir);
        abort();
    }
}

static void ignore(void *ctx, const char *msg)
{
    (void)ctx;
    (void)msg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init();
    char why[1024];
    struct policy *p = NULL;
    if (policy_load_string("fuzz.yaml", (const char *)data, size, reg, "site", &p, why,
                           sizeof why) == FG_OK) {
        FILE *devnull = fopen("/dev/null", "w");
        if (devnull) {
            if (policy_explain(p, "en", devnull) != FG_OK ||
                policy_explain(p, "nl", devnull) != FG_OK || policy_diff(p, p, "nl", devnull))
                abort();
            fclose(devnull);
        }
        (void)policy_check_warnings(p, ignore, NULL);
        (void)policy_names_health(p);
        policy_free(p);
    }
    return 0;
}

#ifndef FUZZING
int main(int argc, char **argv)
{
    int n = 0;
    for (int i = 1; i < argc; i++) {
        char *buf = NULL;
        size_t len = 0;
        if (fg_read_file(argv[i], 1 << 20, &buf, &len) != FG_OK) {
            fprintf(stderr, "fuzz_policy_parse: cannot read %s\n", argv[i]);
            return 1;
        }
        LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
        free(buf);
        n++;
    }
    printf("fuzz_policy_parse: %d input(s) ran\n", n);
    return 0;
}
#endif
