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

fg_err sensor_registry_load_dir(struct sensor_registry *r, const char *dir, char *why,
                                size_t why_len)
{
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(why, why_len, "%s: cannot open sensor type directory", dir);
        return FG_ERR_NOT_FOUND;
    }
    char *names[MAX_TYPES];
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) && n < MAX_TYPES) {
        size_t l = strlen(de->d_name);
        if (de->d_name[0] == '.' || l < 6 || strcmp(de->d_name + l - 5, ".yaml") != 0)
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
            e = sensor_registry_load_file(r, path, why, why_len);
        free(names[i]);
    }
    return e;
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
