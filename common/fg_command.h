/* A subcommand of the one `fairgate` binary. Each lives in a cli_NAME.c file
 * exporting `const struct fg_command fg_cmd_NAME`; CMake builds the registry. */
#ifndef FG_COMMAND_H
#define FG_COMMAND_H

struct fg_command {
    const char *name;    /* as typed: "run", "policy", "certs" */
    const char *summary; /* one line for `fairgate --help` */
    /* argv[0] is the subcommand name; returns the process exit code. */
    int (*main)(int argc, char **argv);
};

/* NULL-terminated, sorted by file name; generated. */
extern const struct fg_command *const fg_commands[];

#endif
