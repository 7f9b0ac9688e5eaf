/* Shared by the test_policy*.c tests: a registry of the test sensor types in
 * tests/data/policy/types, records decoded from JSON, outputs collected. */
#ifndef TEST_POLICY_UTIL_H
#define TEST_POLICY_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <math.h>

#include "common/fg_util.h"
#include "policy/policy.h"
#include "policy/pseudonym.h"

#define T0 1795766400000LL /* 2026-11-27T08:00:00Z, a window boundary */

static inline const char *src_dir(void)
{
    const char *s = getenv("FAIRGATE_SOURCE_DIR");
    return s ? s : FAIRGATE_SOURCE_DIR;
}

static inline struct sensor_registry *test_registry(void)
{
    char dir[1024], why[512] = "";
    snprintf(dir, sizeof dir, "%s/tests/data/policy/types", src_dir());
    struct sensor_registry *r = NULL;
    assert_int_equal(sensor_registry_new(&r), FG_OK);
    fg_err e = sensor_registry_load_dir(r, dir, why, sizeof why);
    if (e)
        fprintf(stderr, "%s\n", why);
    assert_int_equal(e, FG_OK);
    return r;
}

/* Loads a policy from text; on failure returns NULL and leaves the reason in why. */
static inline struct policy *load_text(const struct sensor_registry *reg, const char *text,
                                       char *why, size_t why_len)
{
    struct policy *p = NULL;
    why[0] = '\0';
    fg_err e = policy_load_string("test.yaml", text, strlen(text), reg, "s1", &p, why, why_len);
    if (e)
        return NULL;
    return p;
}

static inline struct policy *load_ok(const struct sensor_registry *reg, const char *text)
{
    char why[1024];
    struct policy *p = load_text(reg, text, why, sizeof why);
    if (!p)
        fprintf(stderr, "unexpected error: %s\n", why);
    assert_non_null(p);
    return p;
}

struct out_msg {
    char topic[512];
    char payload[4096];
    char route[64];
    uint32_t cats;
    int64_t retention_ms;
};

struct outs {
    struct out_msg *m;
    size_t n, cap;
};

static inline fg_err collect(void *ctx, const struct policy_output *o)
{
    struct outs *os = ctx;
    if (os->n == os->cap) {
        os->cap = os->cap ? os->cap * 2 : 64;
        os->m = realloc(os->m, os->cap * sizeof *os->m);
        assert_non_null(os->m);
    }
    struct out_msg *m = &os->m[os->n++];
    snprintf(m->topic, sizeof m->topic, "%s", o->topic);
    snprintf(m->payload, sizeof m->payload, "%.*s", (int)o->len, o->payload);
    snprintf(m->route, sizeof m->route, "%s", o->route);
    m->cats = o->categories;
    m->retention_ms = o->retention_ms;
    return FG_OK;
}

static inline void outs_clear(struct outs *os)
{
    os->n = 0;
}

static inline void outs_free(struct outs *os)
{
    free(os->m);
    memset(os, 0, sizeof *os);
}

static struct sensor_record g_rec;

static inline const struct sensor_record *decode(const struct sensor_registry *reg,
                                                 const char *topic, const char *json)
{
    char why[256] = "";
    fg_err e = sensor_decode(reg, topic, (const unsigned char *)json, strlen(json), &g_rec, why,
                             sizeof why);
    if (e)
        fprintf(stderr, "decode %s: %s\n", json, why);
    assert_int_equal(e, FG_OK);
    return &g_rec;
}

/* A keyring in a fresh temporary directory. */
static inline struct pseudonym_keyring *test_keys(char *dir, size_t len, int64_t rotate,
                                                  int64_t keep, int64_t now)
{
    snprintf(dir, len, "/tmp/fg-policy-test.XXXXXX");
    assert_non_null(mkdtemp(dir));
    struct pseudonym_keyring *k = NULL;
    char why[256];
    assert_int_equal(pseudonym_keyring_open(dir, rotate, keep, &k, why, sizeof why), FG_OK);
    assert_int_equal(pseudonym_keyring_tick(k, now), FG_OK);
    return k;
}

static inline void rm_dir(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
}

#endif
