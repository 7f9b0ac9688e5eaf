/* The sensor-type options every command that loads sensor types shares, with
 * one meaning everywhere: --sensors DIR adds the types in DIR to the built-in
 * ones; --no-builtin-sensors leaves the built-in ones out. */
#ifndef CLI_SENSOR_OPTS_H
#define CLI_SENSOR_OPTS_H

#include <stdbool.h>

#include "common/fg_error.h"
#include "common/fg_opt.h"
#include "sensors/sensor.h"

struct cli_sensor_opts {
    struct fg_opt_list dirs;
    bool no_builtin;
    const char *decoders; /* C decoders built outside fairgate (*.so), loaded first */
};

/* Two fg_opt table entries for a struct cli_sensor_opts member f of T. */
#define CLI_SENSOR_OPTS(T, f)                                                                      \
    FG_OPT_LIST(T, f.dirs, "sensors", 0, "DIR", "also load the sensor types in DIR (repeatable)"), \
        FG_OPT_FLAG(T, f.no_builtin, "no-builtin-sensors", 0,                                      \
                    "leave the built-in sensor types out (then name them with --sensors)"),        \
        FG_OPT_STR(T, f.decoders, "decoders", 0, "DIR",                                            \
                   "load C decoders built outside fairgate (*.so) from DIR first; refused if DIR " \
                   "or a file is writable by anyone but root or you")

/* The decoders in o->decoders, the built-in sensor types (unless no_builtin)
 * plus those in each directory.
 * Prints "CMD: why" on failure. */
FG_MUST_CHECK fg_err cli_sensor_registry(const char *cmd, const struct cli_sensor_opts *o,
                                         struct sensor_registry **out);

#endif
