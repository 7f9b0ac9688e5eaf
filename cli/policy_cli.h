/* The policy subcommands that live outside cli_policy.c. */
#ifndef POLICY_CLI_H
#define POLICY_CLI_H

#include <stddef.h>

#include "common/fg_error.h"
#include "sensors/sensor.h"

/* policy sign / policy verify (cli/policy_sign.c). */
int policy_cli_sign(int argc, char **argv);
int policy_cli_verify(int argc, char **argv);

#endif
