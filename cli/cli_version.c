#include <stdio.h>

#include "common/fg_command.h"

static int version_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("fairgate %s\n", FAIRGATE_VERSION);
    return 0;
}

const struct fg_command fg_cmd_version = {
    .name = "version",
    .summary = "print the version",
    .main = version_main,
};
