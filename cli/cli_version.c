#include <stdio.h>

#include "common/fg_command.h"
#include "common/fg_opt.h"

static const struct fg_opt_cmd version_cmd = {
    "fairgate version", "", "Prints the version.", NULL, 0, 0, 0};

static int version_main(int argc, char **argv)
{
    int rc = fg_opt_parse(&version_cmd, argc, argv, NULL, NULL, NULL);
    if (rc != FG_OPT_OK)
        return fg_opt_exit(rc);
    printf("fairgate %s\n", FAIRGATE_VERSION);
    return 0;
}

const struct fg_command fg_cmd_version = {
    .name = "version",
    .summary = "print the version",
    .main = version_main,
};
