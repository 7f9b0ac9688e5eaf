/* Sensor type descriptors from a directory: the built-in types and the integrator's
 * --sensors directory, each *.yaml file in name order. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fg_util.h"
#include "sensors/sensor.h"
#include "sensors/sensor_internal.h"

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

fg_err sensor_dir_load(struct sensor_registry *r, DIR *d, const char *dir, const char *suffix,
                       size_t max,
                       fg_err (*load)(struct sensor_registry *, const char *, char *, size_t),
                       char *why, size_t why_len)
{
    char *names[MAX_TYPES];
    size_t n = 0, sl = strlen(suffix);
    if (max > MAX_TYPES)
        max = MAX_TYPES;
    struct dirent *de;
    while ((de = readdir(d)) && n < max) {
        size_t l = strlen(de->d_name);
        if (de->d_name[0] == '.' || l <= sl || strcmp(de->d_name + l - sl, suffix) != 0)
            continue;
        if (!(names[n] = strdup(de->d_name)))
            break;
        n++;
    }
    closedir(d);
    qsort(names, n, sizeof names[0], cmp_str);
    fg_err e = FG_OK;
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (!e)
            e = load(r, path, why, why_len);
        free(names[i]);
    }
    return e;
}

fg_err sensor_registry_load_dir(struct sensor_registry *r, const char *dir, char *why,
                                size_t why_len)
{
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(why, why_len, "%s: cannot open sensor type directory", dir);
        return FG_ERR_NOT_FOUND;
    }
    return sensor_dir_load(r, d, dir, ".yaml", MAX_TYPES, sensor_registry_load_file, why, why_len);
}

const char *sensor_builtin_dir(char *buf, size_t len)
{
    return fg_data_path("sensors", buf, len);
}

fg_err sensor_registry_load_builtin(struct sensor_registry *r, char *why, size_t why_len)
{
    char path[4096];
    return sensor_registry_load_dir(r, sensor_builtin_dir(path, sizeof path), why, why_len);
}
