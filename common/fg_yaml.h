/* Thin helpers over libyaml's document API: load a file, read scalars, and say
 * where a node is ("file:line:col") so every error can point at its cause. */
#ifndef FG_YAML_H
#define FG_YAML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#include "common/fg_error.h"

struct fg_yaml {
    yaml_document_t doc;
    char *file; /* for messages */
    bool loaded;
};

/* On error, why holds "file:line:col: problem". */
FG_MUST_CHECK fg_err fg_yaml_load_file(struct fg_yaml *y, const char *path, char *why,
                                       size_t why_len);
FG_MUST_CHECK fg_err fg_yaml_load_string(struct fg_yaml *y, const char *name, const char *text,
                                         size_t len, char *why, size_t why_len);
void fg_yaml_free(struct fg_yaml *y);

yaml_node_t *fg_yaml_root(struct fg_yaml *y);
yaml_node_t *fg_yaml_node(struct fg_yaml *y, int index);
/* The scalar's text, or NULL if the node is not a scalar. */
const char *fg_yaml_scalar(yaml_node_t *n);
/* Value node of key in a mapping, or NULL. */
yaml_node_t *fg_yaml_get(struct fg_yaml *y, yaml_node_t *map, const char *key);
/* "file:line:col" of a node (1-based). */
void fg_yaml_where(struct fg_yaml *y, yaml_node_t *n, char *buf, size_t len);

/* Errors that point at a node. fg_yaml_bad writes "file:line:col: " and fmt
 * with a and b (each NULL or a string for a %s) into why; fg_yaml_bad_word
 * writes "file:line:col: unknown WHAT 'WORD' (did you mean 'X'?)" with the
 * nearest of valid. Both return FG_ERR_CONFIG. */
fg_err fg_yaml_bad(struct fg_yaml *y, yaml_node_t *n, char *why, size_t why_len, const char *fmt,
                   const char *a, const char *b);
fg_err fg_yaml_bad_word(struct fg_yaml *y, yaml_node_t *n, char *why, size_t why_len,
                        const char *what, const char *word, const char *const *valid,
                        size_t nvalid);

/* Scalar conversions; false when the text is not of that type. */
bool fg_yaml_to_double(const char *s, double *out);
bool fg_yaml_to_int(const char *s, int64_t *out);
bool fg_yaml_to_bool(const char *s, bool *out);

#define FG_YAML_MAP_FOREACH(y, map, pair)                                                          \
    for (yaml_node_pair_t *pair = (map)->data.mapping.pairs.start;                                 \
         (map)->type == YAML_MAPPING_NODE && pair < (map)->data.mapping.pairs.top; pair++)
#define FG_YAML_SEQ_FOREACH(y, seq, item)                                                          \
    for (yaml_node_item_t *item = (seq)->data.sequence.items.start;                                \
         (seq)->type == YAML_SEQUENCE_NODE && item < (seq)->data.sequence.items.top; item++)

#endif
