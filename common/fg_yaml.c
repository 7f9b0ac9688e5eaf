#include "common/fg_yaml.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fg_util.h"

static fg_err load(struct fg_yaml *y, const char *name, const unsigned char *text, size_t len,
                   char *why, size_t why_len)
{
    memset(y, 0, sizeof *y);
    y->file = strdup(name);
    if (!y->file)
        return FG_ERR_NOMEM;
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p))
        return FG_ERR_NOMEM;
    yaml_parser_set_input_string(&p, text, len);
    if (!yaml_parser_load(&p, &y->doc)) {
        snprintf(why, why_len, "%s:%zu:%zu: %s %s", name, p.problem_mark.line + 1,
                 p.problem_mark.column + 1, p.problem ? p.problem : "YAML error",
                 p.context ? p.context : "");
        yaml_parser_delete(&p);
        return FG_ERR_PARSE;
    }
    yaml_parser_delete(&p);
    y->loaded = true;
    if (!yaml_document_get_root_node(&y->doc)) {
        snprintf(why, why_len, "%s: empty document", name);
        return FG_ERR_PARSE;
    }
    return FG_OK;
}

fg_err fg_yaml_load_string(struct fg_yaml *y, const char *name, const char *text, size_t len,
                           char *why, size_t why_len)
{
    return load(y, name, (const unsigned char *)text, len, why, why_len);
}

fg_err fg_yaml_load_file(struct fg_yaml *y, const char *path, char *why, size_t why_len)
{
    char *text;
    size_t len;
    memset(y, 0, sizeof *y);
    fg_err e = fg_read_file(path, 4u << 20, &text, &len);
    if (e != FG_OK) {
        snprintf(why, why_len, "%s: %s", path,
                 e == FG_ERR_IO || e == FG_ERR_NOT_FOUND ? strerror(errno) : fg_strerror(e));
        return e;
    }
    e = load(y, path, (const unsigned char *)text, len, why, why_len);
    free(text);
    return e;
}

void fg_yaml_free(struct fg_yaml *y)
{
    if (y->loaded)
        yaml_document_delete(&y->doc);
    free(y->file);
    memset(y, 0, sizeof *y);
}

yaml_node_t *fg_yaml_root(struct fg_yaml *y)
{
    return yaml_document_get_root_node(&y->doc);
}

yaml_node_t *fg_yaml_node(struct fg_yaml *y, int index)
{
    return yaml_document_get_node(&y->doc, index);
}

const char *fg_yaml_scalar(yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

yaml_node_t *fg_yaml_get(struct fg_yaml *y, yaml_node_t *map, const char *key)
{
    if (!map || map->type != YAML_MAPPING_NODE)
        return NULL;
    FG_YAML_MAP_FOREACH(y, map, pair)
    {
        const char *k = fg_yaml_scalar(fg_yaml_node(y, pair->key));
        if (k && strcmp(k, key) == 0)
            return fg_yaml_node(y, pair->value);
    }
    return NULL;
}

void fg_yaml_where(struct fg_yaml *y, yaml_node_t *n, char *buf, size_t len)
{
    if (!n)
        snprintf(buf, len, "%s", y->file);
    else
        snprintf(buf, len, "%s:%zu:%zu", y->file, n->start_mark.line + 1, n->start_mark.column + 1);
}

bool fg_yaml_to_double(const char *s, double *out)
{
    if (!s || !*s)
        return false;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*end || errno || !isfinite(v))
        return false;
    *out = v;
    return true;
}

bool fg_yaml_to_int(const char *s, int64_t *out)
{
    if (!s || !*s)
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*end || errno)
        return false;
    *out = v;
    return true;
}

bool fg_yaml_to_bool(const char *s, bool *out)
{
    if (!s)
        return false;
    if (!strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "on")) {
        *out = true;
        return true;
    }
    if (!strcmp(s, "false") || !strcmp(s, "no") || !strcmp(s, "off")) {
        *out = false;
        return true;
    }
    return false;
}

fg_err fg_yaml_bad(struct fg_yaml *y, yaml_node_t *n, char *why, size_t why_len, const char *fmt,
                   const char *a, const char *b)
{
    char where[512], msg[512];
    fg_yaml_where(y, n, where, sizeof where);
    snprintf(msg, sizeof msg, fmt, a ? a : "", b ? b : "");
    snprintf(why, why_len, "%s: %s", where, msg);
    return FG_ERR_CONFIG;
}

fg_err fg_yaml_bad_word(struct fg_yaml *y, yaml_node_t *n, char *why, size_t why_len,
                        const char *what, const char *word, const char *const *valid, size_t nvalid)
{
    const char *s = fg_suggest(word, valid, nvalid);
    char where[512];
    fg_yaml_where(y, n, where, sizeof where);
    snprintf(why, why_len, "%s: unknown %s '%s'%s%s%s", where, what, word,
             s ? " (did you mean '" : "", s ? s : "", s ? "'?)" : "");
    return FG_ERR_CONFIG;
}
