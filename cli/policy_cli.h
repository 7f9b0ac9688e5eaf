/* Shared by the policy subcommands (cli_policy.c, cli_replay.c). */
#ifndef POLICY_CLI_H
#define POLICY_CLI_H

#include <stddef.h>

#include "common/fg_error.h"
#include "sensors/sensor.h"

/* The built-in sensor types, or only those in dirs when ndirs > 0. Prints
 * the reason on failure. */
FG_MUST_CHECK fg_err policy_cli_registry(const char *const *dirs, size_t ndirs,
                                         struct sensor_registry **out);

/* policy sign / policy verify (cli/policy_sign.c). */
int policy_cli_sign(int argc, char **argv);
int policy_cli_verify(int argc, char **argv);

#endif
