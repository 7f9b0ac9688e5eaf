#include "cli/sensor_opts.h"

#include <stdio.h>

fg_err cli_sensor_registry(const char *cmd, const struct cli_sensor_opts *o,
                           struct sensor_registry **out)
{
    char why[1024] = "";
    fg_err e = sensor_registry_new(out);
    if (e) {
        fprintf(stderr, "%s: %s\n", cmd, fg_strerror(e));
        return e;
    }
    if (o->decoders)
        e = sensor_registry_load_decoders(*out, o->decoders, why, sizeof why);
    if (!e && !o->no_builtin)
        e = sensor_registry_load_builtin(*out, why, sizeof why);
    for (size_t i = 0; !e && i < o->dirs.n; i++)
        e = sensor_registry_load_dir(*out, o->dirs.v[i], why, sizeof why);
    if (e) {
        fprintf(stderr, "%s: %s\n", cmd, why[0] ? why : fg_strerror(e));
        sensor_registry_free(*out);
        *out = NULL;
    }
    return e;
}
