/* One option parser for every `fairgate` command: a const table per command
 * says each option's long and short name, what its argument is, what it means
 * and where its value goes. The same table prints --help, so what the parser
 * accepts and what the help says cannot drift apart.
 *
 *   struct o { const char *policy; struct fg_opt_list sensors; bool dry; int port; };
 *   static const struct fg_opt opts[] = {
 *       FG_OPT_STR(struct o, policy, "policy", 'p', "FILE", "the policy to apply"),
 *       FG_OPT_INT(struct o, port, "port", 0, "N", "broker port", 1, 65535),
 *       FG_OPT_FLAG(struct o, dry, "dry-run", 0, "print instead of publishing"),
 *   };
 *   static const struct fg_opt_cmd cmd = {"fairgate replay", "--policy FILE", "Runs ...",
 *                                         opts, FG_OPT_N(opts), 0, 0};
 *   int rc = fg_opt_parse(&cmd, argc, argv, &o, &args, &nargs);
 *   if (rc != FG_OPT_OK) return fg_opt_exit(rc);
 *
 * Options may come before, between or after positional arguments; "--" ends
 * them; "--name=value" and "--name value" both work. -h/--help is built in. */
#ifndef FG_OPT_H
#define FG_OPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum fg_opt_kind {
    FG_OPT_KIND_FLAG = 0, /* bool, set to true; takes no argument */
    FG_OPT_KIND_STR,      /* const char * (points into argv) */
    FG_OPT_KIND_INT,      /* int within [lo, hi] */
    FG_OPT_KIND_LONG,     /* long long within [lo, hi] */
    FG_OPT_KIND_DOUBLE,   /* double, finite, > 0 when lo > 0 */
    FG_OPT_KIND_DURATION, /* int64_t milliseconds: 500ms, 30s, 15m, 8h, 7d */
    FG_OPT_KIND_LIST,     /* struct fg_opt_list: repeatable, values in order */
    FG_OPT_KIND_OPTSTR,   /* const char *: "--name" stores "", "--name=VALUE" stores VALUE */
};

#define FG_OPT_LIST_MAX 32

struct fg_opt_list {
    const char *v[FG_OPT_LIST_MAX];
    size_t n;
};

struct fg_opt {
    const char *name; /* long name without the dashes */
    char short_name;  /* 0: none */
    enum fg_opt_kind kind;
    size_t off;          /* offsetof() of the field in the caller's struct */
    const char *arg;     /* what the argument is, for --help ("DIR", "N") */
    const char *help;    /* one line, or several separated by \n; NULL hides the option */
    const char *choices; /* STR: the only values allowed, "en|nl"; NULL: any */
    long long lo, hi;    /* INT/LONG: allowed range; DOUBLE: lo > 0 asks for a positive value */
};

#define FG_OPT_N(a) (sizeof(a) / sizeof((a)[0]))
#define FG_OPT_FLAG(T, f, name, sh, help)                                                          \
    {                                                                                              \
        name, sh, FG_OPT_KIND_FLAG, offsetof(T, f), NULL, help, NULL, 0, 0                         \
    }
#define FG_OPT_STR(T, f, name, sh, arg, help)                                                      \
    {                                                                                              \
        name, sh, FG_OPT_KIND_STR, offsetof(T, f), arg, help, NULL, 0, 0                           \
    }
#define FG_OPT_CHOICE(T, f, name, sh, choices, help)                                               \
    {                                                                                              \
        name, sh, FG_OPT_KIND_STR, offsetof(T, f), choices, help, choices, 0, 0                    \
    }
#define FG_OPT_INT(T, f, name, sh, arg, help, lo, hi)                                              \
    {                                                                                              \
        name, sh, FG_OPT_KIND_INT, offsetof(T, f), arg, help, NULL, lo, hi                         \
    }
#define FG_OPT_LONG(T, f, name, sh, arg, help, lo, hi)                                             \
    {                                                                                              \
        name, sh, FG_OPT_KIND_LONG, offsetof(T, f), arg, help, NULL, lo, hi                        \
    }
#define FG_OPT_DOUBLE(T, f, name, sh, arg, help)                                                   \
    {                                                                                              \
        name, sh, FG_OPT_KIND_DOUBLE, offsetof(T, f), arg, help, NULL, 1, 0                        \
    }
#define FG_OPT_DURATION(T, f, name, sh, arg, help)                                                 \
    {                                                                                              \
        name, sh, FG_OPT_KIND_DURATION, offsetof(T, f), arg, help, NULL, 0, 0                      \
    }
#define FG_OPT_OPTSTR(T, f, name, arg, help)                                                       \
    {                                                                                              \
        name, 0, FG_OPT_KIND_OPTSTR, offsetof(T, f), arg, help, NULL, 0, 0                         \
    }
#define FG_OPT_LIST(T, f, name, sh, arg, help)                                                     \
    {                                                                                              \
        name, sh, FG_OPT_KIND_LIST, offsetof(T, f), arg, help, NULL, 0, 0                          \
    }

struct fg_opt_cmd {
    const char *cmd;      /* "fairgate policy check": prefix of every message */
    const char *synopsis; /* after the command in "usage:"; lines after \n are indented */
    const char *about;    /* paragraph(s) after the usage line; may be NULL */
    const struct fg_opt *opts;
    size_t nopts;
    int min_args, max_args; /* positional arguments; max_args < 0: any number */
};

enum {
    FG_OPT_OK = 0,    /* parsed: run the command */
    FG_OPT_HELP = 1,  /* --help was asked and printed to stdout: exit 0 */
    FG_OPT_USAGE = 2, /* a usage error was printed to stderr: exit 2 */
};

/* Parses argv[1..] into out (argv[0] is the command's name). Positional
 * arguments are gathered, in order, at the start of argv + 1: *args points
 * there and *nargs counts them (args and nargs may be NULL when the command
 * takes none). An unknown option is refused with the nearest valid name. */
int fg_opt_parse(const struct fg_opt_cmd *c, int argc, char **argv, void *out, char ***args,
                 int *nargs);

/* The exit code for a parse result other than FG_OPT_OK. */
static inline int fg_opt_exit(int rc)
{
    return rc == FG_OPT_HELP ? 0 : 2;
}

/* Prints "usage: ...", the about text and the option table. */
void fg_opt_help(const struct fg_opt_cmd *c, FILE *f);

/* Prints "CMD: why" and a pointer to --help on stderr; returns FG_OPT_USAGE,
 * for checks after parsing (a required option missing, two that exclude each other). */
__attribute__((format(printf, 2, 3))) int fg_opt_error(const struct fg_opt_cmd *c, const char *fmt,
                                                       ...);

/* A command with subcommands ("fairgate policy check"): runs the one named
 * by argv[1] with argv + 1, or prints the list (on --help, or on a missing or
 * unknown name, with a suggestion). Returns the exit code. */
struct fg_subcmd {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
};
int fg_subcmd_run(const char *cmd, const struct fg_subcmd *subs, size_t n, int argc, char **argv);

#endif
