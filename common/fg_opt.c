/* The table-driven option parser of every `fairgate` command (see fg_opt.h). */
#include "common/fg_opt.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/fg_util.h"

#define MAX_OPTS 64

static void *field(void *out, const struct fg_opt *o)
{
    return (char *)out + o->off;
}

int fg_opt_error(const struct fg_opt_cmd *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", c->cmd);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n(see '%s --help')\n", c->cmd);
    return FG_OPT_USAGE;
}

static const struct fg_opt *find_long(const struct fg_opt_cmd *c, const char *name, size_t len)
{
    for (size_t i = 0; i < c->nopts; i++)
        if (strlen(c->opts[i].name) == len && !strncmp(c->opts[i].name, name, len))
            return &c->opts[i];
    return NULL;
}

static const struct fg_opt *find_short(const struct fg_opt_cmd *c, char s)
{
    for (size_t i = 0; i < c->nopts; i++)
        if (s && c->opts[i].short_name == s)
            return &c->opts[i];
    return NULL;
}

static int unknown(const struct fg_opt_cmd *c, const char *arg)
{
    char word[128];
    const char *eq = strchr(arg, '=');
    size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
    snprintf(word, sizeof word, "%.*s", (int)len, arg);
    /* Candidates are written with their dashes so "-config" finds "--config". */
    char names[MAX_OPTS][72];
    const char *cand[MAX_OPTS + 1];
    size_t n = 0;
    for (size_t i = 0; i < c->nopts && n < MAX_OPTS; i++) {
        if (!c->opts[i].help)
            continue;
        snprintf(names[n], sizeof names[n], "--%s", c->opts[i].name);
        cand[n] = names[n];
        n++;
    }
    cand[n++] = "--help";
    const char *s = fg_suggest(word, cand, n);
    return fg_opt_error(c, "unknown option '%s'%s%s%s", word, s ? " (did you mean '" : "",
                        s ? s : "", s ? "'?)" : "");
}

static bool whole(const char *v, long long lo, long long hi, long long *out)
{
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (end == v || *end || errno || x < lo || x > hi)
        return false;
    *out = x;
    return true;
}

static bool in_choices(const char *v, const char *choices)
{
    size_t len = strlen(v);
    for (const char *p = choices; *p;) {
        const char *bar = strchr(p, '|');
        size_t l = bar ? (size_t)(bar - p) : strlen(p);
        if (l == len && !strncmp(p, v, l))
            return true;
        p += l + (bar ? 1 : 0);
    }
    return false;
}

/* Stores v as the value of option o; returns FG_OPT_OK or a usage error. */
static int store(const struct fg_opt_cmd *c, const struct fg_opt *o, const char *v, void *out)
{
    long long x;
    switch (o->kind) {
    case FG_OPT_KIND_FLAG:
        *(bool *)field(out, o) = true;
        return FG_OPT_OK;
    case FG_OPT_KIND_STR:
    case FG_OPT_KIND_OPTSTR:
        if (o->choices && !in_choices(v, o->choices))
            return fg_opt_error(c, "--%s must be %s, not '%s'", o->name, o->choices, v);
        *(const char **)field(out, o) = v;
        return FG_OPT_OK;
    case FG_OPT_KIND_INT:
    case FG_OPT_KIND_LONG:
        if (!whole(v, o->lo, o->hi, &x))
            return fg_opt_error(c, "--%s wants a whole number from %lld to %lld, not '%s'", o->name,
                                o->lo, o->hi, v);
        if (o->kind == FG_OPT_KIND_INT)
            *(int *)field(out, o) = (int)x;
        else
            *(long long *)field(out, o) = x;
        return FG_OPT_OK;
    case FG_OPT_KIND_DOUBLE: {
        char *end;
        double d = strtod(v, &end);
        if (end == v || *end || !isfinite(d) || (o->lo > 0 && d <= 0))
            return fg_opt_error(c, "--%s wants a %snumber, not '%s'", o->name,
                                o->lo > 0 ? "positive " : "", v);
        *(double *)field(out, o) = d;
        return FG_OPT_OK;
    }
    case FG_OPT_KIND_DURATION:
        if (!fg_parse_duration(v, (int64_t *)field(out, o)))
            return fg_opt_error(c, "--%s wants a duration such as 30s, 15m or 8h, not '%s'",
                                o->name, v);
        return FG_OPT_OK;
    case FG_OPT_KIND_LIST: {
        struct fg_opt_list *l = field(out, o);
        if (l->n == FG_OPT_LIST_MAX)
            return fg_opt_error(c, "--%s given more than %d times", o->name, FG_OPT_LIST_MAX);
        l->v[l->n++] = v;
        return FG_OPT_OK;
    }
    }
    return FG_OPT_USAGE;
}

/* One option at argv[*i]; advances *i past its value. */
static int one(const struct fg_opt_cmd *c, int argc, char **argv, int *i, void *out)
{
    const char *a = argv[*i];
    const struct fg_opt *o;
    const char *v = NULL;
    if (a[1] == '-') {
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        if (len == 4 && !strncmp(name, "help", 4))
            return FG_OPT_HELP;
        if (!(o = find_long(c, name, len)))
            return unknown(c, a);
        if (eq && o->kind == FG_OPT_KIND_FLAG)
            return fg_opt_error(c, "--%s takes no value", o->name);
        v = eq ? eq + 1 : NULL;
    } else {
        if (a[1] == 'h' && !a[2])
            return FG_OPT_HELP;
        if (a[2] || !(o = find_short(c, a[1])))
            return unknown(c, a);
    }
    if (o->kind == FG_OPT_KIND_OPTSTR && !v)
        v = "";
    if (o->kind != FG_OPT_KIND_FLAG && !v) {
        if (*i + 1 >= argc)
            return fg_opt_error(c, "--%s needs a value (%s)", o->name, o->arg ? o->arg : "");
        v = argv[++*i];
    }
    return store(c, o, v, out);
}

int fg_opt_parse(const struct fg_opt_cmd *c, int argc, char **argv, void *out, char ***args,
                 int *nargs)
{
    int npos = 0;
    bool only_args = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!only_args && !strcmp(a, "--")) {
            only_args = true;
            continue;
        }
        if (only_args || a[0] != '-' || !a[1]) {
            argv[1 + npos++] = argv[i]; /* never ahead of i: safe in place */
            continue;
        }
        int rc = one(c, argc, argv, &i, out);
        if (rc == FG_OPT_HELP)
            fg_opt_help(c, stdout);
        if (rc != FG_OPT_OK)
            return rc;
    }
    if (npos < c->min_args || (c->max_args >= 0 && npos > c->max_args)) {
        if (c->max_args == 0)
            return fg_opt_error(c, "unexpected argument '%s'", argv[1]);
        const char *syn = c->synopsis ? c->synopsis : "";
        const char *nl = strchr(syn, '\n');
        return fg_opt_error(c, "%s (usage: %s %.*s%s)",
                            npos < c->min_args ? "missing argument" : "too many arguments", c->cmd,
                            (int)(nl ? (size_t)(nl - syn) : strlen(syn)), syn, nl ? " ..." : "");
    }
    if (args)
        *args = argv + 1;
    if (nargs)
        *nargs = npos;
    return FG_OPT_OK;
}

/* Prints text, indenting every line after the first by indent spaces. */
static void indented(FILE *f, const char *text, int indent)
{
    for (const char *p = text; *p; p++) {
        fputc(*p, f);
        if (*p == '\n' && p[1])
            fprintf(f, "%*s", indent, "");
    }
}

void fg_opt_help(const struct fg_opt_cmd *c, FILE *f)
{
    int pre = fprintf(f, "usage: %s ", c->cmd);
    indented(f, c->synopsis ? c->synopsis : "", pre);
    fputc('\n', f);
    if (c->about) {
        fputc('\n', f);
        fputs(c->about, f);
        if (c->about[0] && c->about[strlen(c->about) - 1] != '\n')
            fputc('\n', f);
    }
    fprintf(f, "\noptions:\n");
    for (size_t i = 0; i < c->nopts; i++) {
        const struct fg_opt *o = &c->opts[i];
        if (!o->help)
            continue;
        char head[96];
        bool opt = o->kind == FG_OPT_KIND_OPTSTR;
        snprintf(head, sizeof head, "%c%c%s--%s%s%s%s", o->short_name ? '-' : ' ',
                 o->short_name ? o->short_name : ' ', o->short_name ? ", " : "  ", o->name,
                 !o->arg ? ""
                 : opt   ? "[="
                         : " ",
                 o->arg ? o->arg : "", o->arg && opt ? "]" : "");
        if (strlen(head) > 26)
            fprintf(f, "  %s\n%29s", head, "");
        else
            fprintf(f, "  %-26s ", head);
        indented(f, o->help, 29);
        fputc('\n', f);
    }
    fprintf(f, "  %-26s %s\n", "-h, --help", "print this help");
}

static void subcmd_list(const char *cmd, const struct fg_subcmd *subs, size_t n, FILE *f)
{
    fprintf(f, "usage: %s COMMAND [ARGS]   (%s COMMAND --help for details)\n\ncommands:\n", cmd,
            cmd);
    for (size_t i = 0; i < n; i++)
        if (subs[i].summary)
            fprintf(f, "  %-16s %s\n", subs[i].name, subs[i].summary);
}

int fg_subcmd_run(const char *cmd, const struct fg_subcmd *subs, size_t n, int argc, char **argv)
{
    if (argc < 2) {
        subcmd_list(cmd, subs, n, stderr);
        return 2;
    }
    const char *name = argv[1];
    if (!strcmp(name, "--help") || !strcmp(name, "-h") || !strcmp(name, "help")) {
        subcmd_list(cmd, subs, n, stdout);
        return 0;
    }
    const char *names[MAX_OPTS] = {0};
    size_t nn = 0;
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(subs[i].name, name))
            return subs[i].run(argc - 1, argv + 1);
        if (subs[i].summary && nn < MAX_OPTS)
            names[nn++] = subs[i].name;
    }
    const char *s = fg_suggest(name, names, nn);
    fprintf(stderr, "%s: unknown command '%s'%s%s%s\n\n", cmd, name, s ? " (did you mean '" : "",
            s ? s : "", s ? "'?)" : "");
    subcmd_list(cmd, subs, n, stderr);
    return 2;
}
