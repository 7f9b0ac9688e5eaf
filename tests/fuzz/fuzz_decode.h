/* The shared body of the decoder fuzz targets (fuzz_decode_*.c): each defines
 * `topics[]` (raw topics whose sensor type uses that decoder) and includes
 * this (fuzz_decode_descriptors.c brings its own types instead). Built with -DFUZZING and
 * -fsanitize=fuzzer under clang; otherwise main() runs the input over every file (or directory of
 * files) named on the command line, so the seed corpus runs under ASan/UBSan in the normal tests.
 */
#ifndef FUZZ_DECODE_H
#define FUZZ_DECODE_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/fg_util.h"
#include "sensors/sensor.h"

/* A target that defines FUZZ_CUSTOM_TARGET brings its own registry and
 * LLVMFuzzerTestOneInput and uses only the corpus runner below. */
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

#ifndef FUZZ_CUSTOM_TARGET
static struct sensor_registry *registry(void)
{
    static struct sensor_registry *r;
    char why[512];
    if (!r) {
        if (sensor_registry_new(&r) != FG_OK || sensor_registry_load_builtin(r, why, sizeof why)) {
            fprintf(stderr, "fuzz: cannot load the built-in sensor types: %s\n", why);
            abort();
        }
    }
    return r;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    static struct sensor_record rec;
    char why[256];
    for (size_t i = 0; i < sizeof topics / sizeof topics[0]; i++) {
        fg_err e = sensor_decode(registry(), topics[i], data, size, &rec, why, sizeof why);
        if (e == FG_OK) {
            /* a record that decoded must print: exercises every stored value */
            char out[2 * SENSOR_ARENA];
            if (!sensor_record_to_json(&rec, out, sizeof out))
                abort();
        } else if (!why[0])
            abort(); /* every error names its cause */
    }
    return 0;
}

#endif

#ifndef FUZZING
static int run_file(const char *path)
{
    char *buf;
    size_t len;
    if (fg_read_file(path, 1u << 20, &buf, &len) != FG_OK) {
        fprintf(stderr, "%s: cannot read\n", path);
        return 1;
    }
    LLVMFuzzerTestOneInput((const unsigned char *)buf, len);
    free(buf);
    return 0;
}

int main(int argc, char **argv)
{
    int rc = 0, n = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            DIR *d = opendir(argv[i]);
            struct dirent *de;
            while (d && (de = readdir(d))) {
                if (de->d_name[0] == '.')
                    continue;
                char p[4096];
                snprintf(p, sizeof p, "%s/%s", argv[i], de->d_name);
                rc |= run_file(p);
                n++;
            }
            if (d)
                closedir(d);
        } else {
            rc |= run_file(argv[i]);
            n++;
        }
    }
    printf("%d inputs, no crash\n", n);
    return rc;
}
#endif

#endif
