/* Internal to sensors/: what registry.c shares with the binary layout checks
 * (descriptor_binary.c), the directory loader (registry_load.c) and the decoder
 * plugin loader (plugin_loader.c). */
#ifndef SENSOR_INTERNAL_H
#define SENSOR_INTERNAL_H

#include <dirent.h>
#include <yaml.h>

#include "common/fg_yaml.h"
#include "sensors/sensor.h"

#define MAX_TYPES 128
#define MAX_PLUGINS 32

struct sensor_registry {
    struct sensor_type *types[MAX_TYPES];
    size_t ntypes;
    /* decoders loaded from shared objects (plugin_loader.c) */
    struct sensor_decoder *plugins[MAX_PLUGINS];
    void *handles[MAX_PLUGINS];
    size_t nplugins;
};

/* ---- descriptor and decoder directories (registry_load.c) ------------------------ */

/* Calls load on dir/NAME for each NAME in d that ends in suffix and is not hidden, in
 * name order, at most max of them (readdir order decides which when there are more);
 * loading stops at the first error, which it returns. Closes d. */
FG_MUST_CHECK fg_err sensor_dir_load(struct sensor_registry *r, DIR *d, const char *dir,
                                     const char *suffix, size_t max,
                                     fg_err (*load)(struct sensor_registry *, const char *, char *,
                                                    size_t),
                                     char *why, size_t why_len);

/* ---- binary layouts (descriptor_binary.c) -------------------------------------
 * Errors leave a message in msg (and *at: the node it is about, when not the
 * field itself); the caller prefixes file:line:col. */

/* `values: {0: closed, 1: open}` on a binary field: codes and words. */
FG_MUST_CHECK fg_err sensor_binary_value_map(struct fg_yaml *y, yaml_node_t *map,
                                             struct sensor_field *f, yaml_node_t **at, char *msg,
                                             size_t len);
/* A parsed binary field against the rules (width, bit range, scale on
 * integer/boolean/enum fields, value maps) and against every field declared
 * before it (overlapping bytes or bits). */
FG_MUST_CHECK fg_err sensor_binary_check_field(const struct sensor_type *t, size_t idx, char *msg,
                                               size_t len);

/* ---- decoder plugins (plugin_loader.c) ------------------------------------------ */

/* Registers a loaded decoder with the registry, which then owns d and handle. */
FG_MUST_CHECK fg_err sensor_registry_add_plugin(struct sensor_registry *r, struct sensor_decoder *d,
                                                void *handle, char *why, size_t why_len);
/* Frees d and closes handle (after every type using it is gone). */
void sensor_plugin_unload(struct sensor_decoder *d, void *handle);
/* Builds t->plugin_view for a type whose decoder is a plugin, and runs the
 * plugin's check(). */
FG_MUST_CHECK fg_err sensor_plugin_bind(struct sensor_type *t, char *why, size_t why_len);
void sensor_plugin_view_free(struct fg_decoder_type *v);
/* "unknown decoder 'x' (did you mean 'y'?); decoders: ..." in msg. */
void sensor_decoder_suggest(const struct sensor_registry *r, const char *want, char *msg,
                            size_t len);

#endif
