/* fairgate: one binary, subcommands from the generated registry. */
#include <stdio.h>
#include <string.h>

#include "common/fg_command.h"
#include "common/fg_harden.h"

static void usage(FILE *out)
{
    fprintf(out,
            "fairgate %s: privacy-first MQTT gateway for workplace IoT\n\n"
            "usage: fairgate COMMAND [ARGS]   (fairgate COMMAND --help for details)\n\n"
            "commands:\n",
            FAIRGATE_VERSION);
    for (const struct fg_command *const *c = fg_commands; *c; c++)
        fprintf(out, "  %-16s %s\n", (*c)->name, (*c)->summary);
}

int main(int argc, char **argv)
{
    /* Before anything is read: no core dump may hold raw data or keys. */
    char why[256];
    if (fg_harden_process(why, sizeof why) != FG_OK) {
        fprintf(stderr, "fairgate: %s\n", why);
        return 1;
    }
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    /* --version is the `version` command: one place prints it. */
    const char *name = strcmp(argv[1], "--version") == 0 ? "version" : argv[1];
    for (const struct fg_command *const *c = fg_commands; *c; c++)
        if (strcmp((*c)->name, name) == 0)
            return (*c)->main(argc - 1, argv + 1);
    fprintf(stderr, "fairgate: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
