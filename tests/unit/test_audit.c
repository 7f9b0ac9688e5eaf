/* Audit log: the tamper suite on a log of >1000 events written through the API
 * (several epochs and checkpoints), torn-tail repair, prune, threads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/fg_log.h"
#include "common/fg_util.h"
#include "audit/audit.h"

/* ---- fixture: one big log, an older copy, a witness ------------------------------ */

struct lines {
    char **l;
    size_t n;
};

static char g_dir[256];
static char g_log[512], g_state[512];
static unsigned char g_pk[32];
static char *g_buf, *g_old;
static size_t g_len, g_old_len;
static char *g_witness;             /* of the full log's last checkpoint */
static unsigned char g_last_sk[64]; /* the current epoch's secret: what a break-in steals */

static void rm_rf(const char *path)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", path);
}

static struct audit *open_log(const char *log, const char *state, int cp_every)
{
    struct audit_options o = {.log_path = log,
                              .state_dir = state,
                              .checkpoint_every_events = cp_every,
                              .checkpoint_every_ms = -1,
                              .fsync_mode = AUDIT_FSYNC_NEVER};
    struct audit *a = NULL;
    char why[512] = "";
    fg_err e = audit_open(&o, &a, why, sizeof why);
    if (e != FG_OK)
        fprintf(stderr, "audit_open: %s (%s)\n", fg_strerror(e), why);
    assert_int_equal(e, FG_OK);
    return a;
}

static void flow(struct audit *a, int i)
{
    static const char *const cats[][3] = {{"zone", "worker-id", NULL},
                                          {"environment", "time", NULL},
                                          {"safety-event", "zone", "time"}};
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "route",
                            i % 3 == 0   ? "occupancy"
                            : i % 3 == 1 ? "climate"
                                         : "man-down");
    cJSON_AddStringToObject(o, "destination", "site/a/out");
    cJSON_AddStringToObject(o, "purpose", "test purpose");
    cJSON *c = cJSON_AddArrayToObject(o, "categories");
    for (int k = 0; k < 3 && cats[i % 3][k]; k++)
        cJSON_AddItemToArray(c, cJSON_CreateString(cats[i % 3][k]));
    cJSON_AddNumberToObject(o, "count", 1 + i % 17);
    cJSON_AddStringToObject(o, "digest",
                            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
    assert_int_equal(audit_append(a, "gateway", "flow.summary", o), FG_OK);
    cJSON_Delete(o);
}

static __attribute__((noinline)) char *slurp(const char *path, size_t *len)
{
    char *out = NULL;
    fg_err e = fg_read_file(path, 1 << 28, &out, len);
    assert_int_equal(e, FG_OK);
    return out;
}

static int setup(void **state)
{
    (void)state;
    fg_log_setup(FG_LOG_WARN, false);
    assert_true(sodium_init() >= 0);
    snprintf(g_dir, sizeof g_dir, "%s/fg-audit-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    assert_non_null(mkdtemp(g_dir));
    snprintf(g_log, sizeof g_log, "%s/audit.log", g_dir);
    snprintf(g_state, sizeof g_state, "%s/state", g_dir);
    /* Run 1: 400 events, a rotation every 150, checkpoints every 40. */
    struct audit *a = open_log(g_log, g_state, 40);
    audit_first_pubkey(a, g_pk);
    assert_int_equal(audit_append_json(a, "gateway", "gateway.start", "{}"), FG_OK);
    for (int i = 0; i < 400; i++) {
        flow(a, i);
        if (i % 150 == 149)
            assert_int_equal(audit_rotate_epoch(a), FG_OK);
    }
    assert_int_equal(audit_append_json(a, "gateway", "gateway.stop", NULL), FG_OK);
    audit_close(a);
    g_old = slurp(g_log, &g_old_len); /* the older copy for the rollback case */
    /* Run 2 (a restart = new epoch): 700 more events. */
    a = open_log(g_log, g_state, 40);
    assert_int_equal(audit_append_json(a, "gateway", "gateway.start", "{}"), FG_OK);
    for (int i = 0; i < 700; i++) {
        flow(a, i);
        if (i == 300)
            assert_int_equal(audit_append_json(a, "works-council", "reidentify",
                                               "{\"route\":\"man-down\",\"epoch\":3,\"result\":"
                                               "\"granted\"}"),
                             FG_OK);
        if (i % 250 == 249)
            assert_int_equal(audit_rotate_epoch(a), FG_OK);
    }
    audit_close(a);
    g_buf = slurp(g_log, &g_len);
    /* Exactly one key file is left: the current epoch's. Steal it, as a break-in would. */
    DIR *d = opendir(g_state);
    struct dirent *de;
    int keys = 0;
    char kp[1024];
    while ((de = readdir(d)))
        if (strncmp(de->d_name, "audit-epoch-", 12) == 0) {
            keys++;
            snprintf(kp, sizeof kp, "%s/%s", g_state, de->d_name);
        }
    closedir(d);
    assert_int_equal(keys, 1);
    size_t kl;
    char *k = slurp(kp, &kl);
    assert_int_equal(kl, 64);
    memcpy(g_last_sk, k, 64);
    free(k);
    struct audit_verify_result r;
    assert_int_equal(audit_verify_buffer(g_buf, g_len, g_pk, NULL, &r), FG_OK);
    assert_true(r.ok);
    char wpath[600];
    snprintf(wpath, sizeof wpath, "%s/witness.json", g_dir);
    assert_int_equal(audit_write_witness(wpath, &r), FG_OK);
    size_t wl;
    g_witness = slurp(wpath, &wl);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free(g_buf);
    free(g_old);
    free(g_witness);
    sodium_memzero(g_last_sk, sizeof g_last_sk);
    rm_rf(g_dir);
    return 0;
}

static struct lines split(const char *buf, size_t len)
{
    struct lines L = {0};
    L.l = calloc(len / 20 + 8, sizeof *L.l);
    for (const char *p = buf; p < buf + len;) {
        const char *nl = memchr(p, '\n', (size_t)(buf + len - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(buf + len - p);
        L.l[L.n] = strndup(p, n);
        L.n++;
        p += n + 1;
    }
    return L;
}

static char *join(const struct lines *L, size_t *len)
{
    size_t t = 0;
    for (size_t i = 0; i < L->n; i++)
        t += strlen(L->l[i]) + 1;
    char *b = malloc(t + 1), *p = b;
    for (size_t i = 0; i < L->n; i++) {
        size_t n = strlen(L->l[i]);
        memcpy(p, L->l[i], n);
        p[n] = '\n';
        p += n + 1;
    }
    *len = t;
    return b;
}

static void free_lines(struct lines *L)
{
    for (size_t i = 0; i < L->n; i++)
        free(L->l[i]);
    free(L->l);
}

static struct audit_verify_result verify_lines(const struct lines *L, const char *witness)
{
    size_t len;
    char *b = join(L, &len);
    struct audit_verify_result r;
    assert_int_equal(audit_verify_buffer(b, len, g_pk, witness, &r), FG_OK);
    free(b);
    return r;
}

static void expect(const struct audit_verify_result *r, enum audit_damage d, size_t line)
{
    if (r->ok || r->damage != d || r->bad_line != line)
        fprintf(stderr, "expected %s at line %zu, got %s at line %zu: %s\n", audit_damage_str(d),
                line, audit_damage_str(r->damage), r->bad_line, r->detail);
    assert_false(r->ok);
    assert_int_equal(r->damage, d);
    assert_int_equal(r->bad_line, line);
}

/* 1-based line number of the first line whose action is act, at or after from. */
static size_t find_action(const struct lines *L, const char *act, size_t from)
{
    char tag[64];
    snprintf(tag, sizeof tag, "\"action\":\"%s\"", act);
    for (size_t i = from - 1; i < L->n; i++)
        if (strstr(L->l[i], tag))
            return i + 1;
    return 0;
}

static void line_hash(const char *line, char hex[65])
{
    unsigned char h[32];
    crypto_generichash(h, 32, (const unsigned char *)line, strlen(line), NULL, 0);
    sodium_bin2hex(hex, 65, h, 32);
}

/* ---- tests --------------------------------------------------------------------------- */

static void clean_log_verifies(void **state)
{
    (void)state;
    struct audit_verify_result r;
    assert_int_equal(audit_verify_buffer(g_buf, g_len, g_pk, g_witness, &r), FG_OK);
    assert_true(r.ok);
    assert_true(r.events > 1000);
    assert_true(r.handovers >= 5);
    assert_true(r.checkpoints >= 25);
    assert_int_equal(r.unsealed, 0);
    assert_true(r.witness_checked);
    /* And through the file API, with the witness file. */
    char wpath[600];
    snprintf(wpath, sizeof wpath, "%s/witness.json", g_dir);
    assert_int_equal(audit_verify_file(g_log, g_pk, wpath, &r), FG_OK);
    assert_true(r.ok);
}

static void wrong_key_is_named(void **state)
{
    (void)state;
    unsigned char other[32], sk[64];
    crypto_sign_keypair(other, sk);
    struct audit_verify_result r;
    assert_int_equal(audit_verify_buffer(g_buf, g_len, other, NULL, &r), FG_OK);
    expect(&r, AUDIT_WRONG_KEY, 1);
}

/* Every bit of every byte (newlines excluded: they are the framing) of the lines in
 * `which`; each flip must be reported as an edit of exactly that line. */
static void flip_lines(const struct lines *L0, const size_t *which, size_t nwhich,
                       const unsigned char pk[32], const char *witness)
{
    size_t len;
    char *b = join(L0, &len);
    size_t *off = calloc(L0->n + 1, sizeof *off);
    for (size_t i = 0, o = 0; i < L0->n; i++) {
        off[i] = o;
        o += strlen(L0->l[i]) + 1;
    }
    size_t flips = 0;
    for (size_t w = 0; w < nwhich; w++) {
        size_t ln = which[w], start = off[ln - 1], n = strlen(L0->l[ln - 1]);
        for (size_t byte = start; byte < start + n; byte++)
            for (int bit = 0; bit < 8; bit++) {
                b[byte] ^= (char)(1 << bit);
                struct audit_verify_result r;
                assert_int_equal(audit_verify_buffer(b, len, pk, witness, &r), FG_OK);
                bool good = !r.ok && r.bad_line == ln &&
                            (r.damage == AUDIT_EDITED || (ln == 1 && r.damage == AUDIT_WRONG_KEY));
                if (!good)
                    fprintf(stderr, "flip line %zu byte %zu bit %d: %s at %zu (%s)\n", ln,
                            byte - start, bit, audit_damage_str(r.damage), r.bad_line, r.detail);
                assert_true(good);
                b[byte] ^= (char)(1 << bit);
                flips++;
            }
    }
    fprintf(stderr, "[ info ] %zu bit flips in %zu lines, all detected at the right line\n", flips,
            nwhich);
    free(off);
    free(b);
}

static void every_bit_flip_detected_small_log(void **state)
{
    (void)state;
    /* A small log: every bit of every line (~27 lines, 2 epochs, 4 checkpoints). */
    char log[600], st[600];
    snprintf(log, sizeof log, "%s/small.log", g_dir);
    snprintf(st, sizeof st, "%s/small-state", g_dir);
    struct audit *a = open_log(log, st, 6);
    unsigned char pk[32];
    audit_first_pubkey(a, pk);
    for (int i = 0; i < 18; i++) {
        flow(a, i);
        if (i == 9)
            assert_int_equal(audit_rotate_epoch(a), FG_OK);
    }
    audit_close(a);
    size_t len;
    char *buf = slurp(log, &len);
    struct lines L = split(buf, len);
    free(buf);
    size_t *all = calloc(L.n, sizeof *all);
    for (size_t i = 0; i < L.n; i++)
        all[i] = i + 1;
    struct audit_verify_result r;
    assert_int_equal(audit_verify_file(log, pk, NULL, &r), FG_OK);
    assert_true(r.ok);
    char wpath[700];
    snprintf(wpath, sizeof wpath, "%s/small-witness.json", g_dir);
    assert_int_equal(audit_write_witness(wpath, &r), FG_OK);
    char *w = slurp(wpath, &len);
    flip_lines(&L, all, L.n, pk, w);
    free(w);
    free(all);
    free_lines(&L);
}

static void bit_flips_detected_big_log_sample(void **state)
{
    (void)state;
    struct lines L = split(g_buf, g_len);
    /* first line, first checkpoint, first hand-over, a flow summary, a mid-log
     * checkpoint and hand-over, and the final checkpoint; FAIRGATE_AUDIT_FLIP_ALL=1
     * flips every line (slow). */
    size_t which[16], n = 0;
    if (getenv("FAIRGATE_AUDIT_FLIP_ALL")) {
        size_t *all = calloc(L.n, sizeof *all);
        for (size_t i = 0; i < L.n; i++)
            all[i] = i + 1;
        flip_lines(&L, all, L.n, g_pk, g_witness);
        free(all);
        free_lines(&L);
        return;
    }
    which[n++] = 1;
    which[n++] = find_action(&L, "checkpoint", 1);
    which[n++] = find_action(&L, "key.handover", 1);
    which[n++] = 10;
#if !defined(__SANITIZE_ADDRESS__)
    /* Deep lines re-verify ~1,000 lines per flip: too slow under ASan (the small log
     * above covers the same line kinds there). */
    which[n++] = find_action(&L, "checkpoint", 200);
    which[n++] = find_action(&L, "key.handover", 300);
    which[n++] = find_action(&L, "reidentify", 1);
    which[n++] = L.n - 1;
    which[n++] = L.n;
#endif
    flip_lines(&L, which, n, g_pk, g_witness);
    free_lines(&L);
}

static void edited_field_detected(void **state)
{
    (void)state;
    struct lines L = split(g_buf, g_len);
    size_t k = 500;
    while (!strstr(L.l[k - 1], "flow.summary"))
        k++;
    char *c = strstr(L.l[k - 1], "\"count\":");
    c[8] = c[8] == '9' ? '8' : '9';
    struct audit_verify_result r = verify_lines(&L, NULL);
    expect(&r, AUDIT_EDITED, k);
    free_lines(&L);
    /* Editing a checkpoint's signature. */
    L = split(g_buf, g_len);
    k = find_action(&L, "checkpoint", 600);
    c = strstr(L.l[k - 1], "\"sig\":\"");
    c[7] = c[7] == 'a' ? 'b' : 'a';
    r = verify_lines(&L, NULL);
    expect(&r, AUDIT_EDITED, k);
    free_lines(&L);
}

static void inserted_line_detected(void **state)
{
    (void)state;
    /* A forged event with the right seq and prev hash, placed before line k. */
    struct lines L = split(g_buf, g_len);
    size_t k = 700;
    while (!strstr(L.l[k - 1], "flow.summary"))
        k++;
    cJSON *ev = audit_parse_line(L.l[k - 1], strlen(L.l[k - 1]));
    assert_non_null(ev);
    cJSON_ReplaceItemInObject(ev, "action", cJSON_CreateString("config.changed"));
    char *forged = cJSON_PrintUnformatted(ev);
    cJSON_Delete(ev);
    L.l = realloc(L.l, (L.n + 1) * sizeof *L.l);
    memmove(L.l + k, L.l + k - 1, (L.n - k + 1) * sizeof *L.l);
    L.l[k - 1] = forged;
    L.n++;
    struct audit_verify_result r = verify_lines(&L, NULL);
    expect(&r, AUDIT_INSERTED, k);
    free_lines(&L);
    /* A replayed copy of an old line. */
    L = split(g_buf, g_len);
    L.l = realloc(L.l, (L.n + 1) * sizeof *L.l);
    memmove(L.l + 300, L.l + 299, (L.n - 299) * sizeof *L.l);
    L.l[299] = strdup(L.l[19]);
    L.n++;
    r = verify_lines(&L, NULL);
    expect(&r, AUDIT_INSERTED, 300);
    free_lines(&L);
}

static void deleted_line_detected(void **state)
{
    (void)state;
    size_t at[] = {1, 2, 333, 0};
    for (size_t t = 0; t < 4; t++) {
        struct lines L = split(g_buf, g_len);
        size_t k = t < 3 ? at[t] : find_action(&L, "checkpoint", 800);
        free(L.l[k - 1]);
        memmove(L.l + k - 1, L.l + k, (L.n - k) * sizeof *L.l);
        L.n--;
        struct audit_verify_result r = verify_lines(&L, NULL);
        expect(&r, AUDIT_DELETED, k);
        free_lines(&L);
    }
}

static void swapped_lines_detected(void **state)
{
    (void)state;
    size_t pairs[][2] = {{100, 101}, {400, 450}, {2, 3}};
    for (size_t t = 0; t < 3; t++) {
        struct lines L = split(g_buf, g_len);
        char *x = L.l[pairs[t][0] - 1];
        L.l[pairs[t][0] - 1] = L.l[pairs[t][1] - 1];
        L.l[pairs[t][1] - 1] = x;
        struct audit_verify_result r = verify_lines(&L, NULL);
        expect(&r, AUDIT_REORDERED, pairs[t][0]);
        free_lines(&L);
    }
}

static void truncated_tail_detected(void **state)
{
    (void)state;
    /* Whole lines cut after the witnessed checkpoint's seq: needs the witness. */
    struct lines L = split(g_buf, g_len);
    size_t n0 = L.n;
    for (size_t i = 0; i < 5; i++)
        free(L.l[--L.n]);
    struct audit_verify_result r = verify_lines(&L, NULL);
    assert_true(r.ok);
    assert_true(r.unsealed > 0);
    r = verify_lines(&L, g_witness);
    expect(&r, AUDIT_TRUNCATED, n0 - 4);
    free_lines(&L);
    /* A line cut off mid-way (no newline): a torn tail, found without a witness. */
    struct audit_verify_result t;
    assert_int_equal(audit_verify_buffer(g_buf, g_len - 30, g_pk, NULL, &t), FG_OK);
    expect(&t, AUDIT_TRUNCATED, n0);
    assert_true(t.torn_tail);
    assert_int_equal(t.events, n0 - 1);
}

static void rollback_to_older_copy_detected(void **state)
{
    (void)state;
    struct audit_verify_result r;
    assert_int_equal(audit_verify_buffer(g_old, g_old_len, g_pk, NULL, &r), FG_OK);
    assert_true(r.ok); /* on its own the older copy is a fine log */
    size_t n_old = r.lines;
    assert_int_equal(audit_verify_buffer(g_old, g_old_len, g_pk, g_witness, &r), FG_OK);
    expect(&r, AUDIT_ROLLED_BACK, n_old + 1);
}

/* Copies a file. */
static void copy_file(const char *from, const char *to, size_t max_lines)
{
    size_t len;
    char *b = slurp(from, &len);
    size_t cut = len, lines = 0;
    for (size_t i = 0; i < len && max_lines; i++)
        if (b[i] == '\n' && ++lines == max_lines) {
            cut = i + 1;
            break;
        }
    assert_int_equal(fg_write_file_atomic(to, b, cut, 0600), FG_OK);
    free(b);
}

static void fork_after_witness_detected(void **state)
{
    (void)state;
    /* The attacker holds the current key (the state dir), cuts the log back to a point
     * inside the current epoch, before the witnessed checkpoint, and writes a different
     * continuation: valid on its own, but not what the works council saw. */
    struct lines L = split(g_buf, g_len);
    size_t last_ho = 0;
    for (size_t i = 1; find_action(&L, "key.handover", i); i = last_ho + 1)
        last_ho = find_action(&L, "key.handover", i);
    size_t cut = last_ho + 20;
    assert_true(cut < L.n - 5);
    char flog[600], fstate[600], cmd[4096];
    snprintf(flog, sizeof flog, "%s/fork.log", g_dir);
    snprintf(fstate, sizeof fstate, "%s/fork-state", g_dir);
    snprintf(cmd, sizeof cmd, "cp -a '%s' '%s'", g_state, fstate);
    assert_int_equal(system(cmd), 0);
    copy_file(g_log, flog, cut);
    struct audit *a = open_log(flog, fstate, 40);
    for (int i = 0; i < 300; i++)
        flow(a, i + 5);
    audit_close(a);
    struct audit_verify_result r;
    assert_int_equal(audit_verify_file(flog, g_pk, NULL, &r), FG_OK);
    assert_true(r.ok);
    size_t len;
    char *fb = slurp(flog, &len);
    cJSON *w = cJSON_Parse(g_witness);
    size_t wseq = (size_t)cJSON_GetNumberValue(cJSON_GetObjectItem(w, "seq"));
    cJSON_Delete(w);
    assert_int_equal(audit_verify_buffer(fb, len, g_pk, g_witness, &r), FG_OK);
    expect(&r, AUDIT_FORKED, wseq); /* seq n is on line n in an unpruned log */
    free(fb);
    free_lines(&L);
}

/* Re-chains lines from index `from` on and re-signs every seal with the stolen key. */
static void rechain_and_resign(struct lines *L, size_t from, const char *log_id)
{
    for (size_t i = from; i < L->n; i++) {
        char prev[65];
        line_hash(L->l[i - 1], prev);
        cJSON *ev = audit_parse_line(L->l[i], strlen(L->l[i]));
        assert_non_null(ev);
        cJSON_ReplaceItemInObject(ev, "prev", cJSON_CreateString(prev));
        const char *act = cJSON_GetStringValue(cJSON_GetObjectItem(ev, "action"));
        cJSON *o = cJSON_GetObjectItem(ev, "object");
        char msg[512], sighex[129];
        unsigned char sig[64];
        size_t ml = 0;
        uint64_t seq = (uint64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(ev, "seq"));
        uint64_t ep = (uint64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(o, "epoch"));
        if (strcmp(act, "checkpoint") == 0) {
            cJSON_ReplaceItemInObject(o, "head", cJSON_CreateString(prev));
            ml = audit_checkpoint_message(msg, sizeof msg, log_id, seq - 1, prev, ep,
                                          cJSON_GetStringValue(cJSON_GetObjectItem(ev, "time")));
        } else if (strcmp(act, "key.handover") == 0) {
            ml = audit_handover_message(msg, sizeof msg, log_id, seq, prev, ep,
                                        cJSON_GetStringValue(cJSON_GetObjectItem(o, "pubkey")));
        }
        if (ml) {
            crypto_sign_detached(sig, NULL, (unsigned char *)msg, ml, g_last_sk);
            sodium_bin2hex(sighex, sizeof sighex, sig, 64);
            cJSON_ReplaceItemInObject(o, "sig", cJSON_CreateString(sighex));
        }
        free(L->l[i]);
        L->l[i] = cJSON_PrintUnformatted(ev);
        cJSON_Delete(ev);
    }
}

static void resigned_sealed_epoch_detected(void **state)
{
    (void)state;
    struct lines L = split(g_buf, g_len);
    cJSON *first = audit_parse_line(L.l[0], strlen(L.l[0]));
    char log_id[33];
    snprintf(
        log_id, sizeof log_id, "%s",
        cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(first, "object"), "log_id")));
    cJSON_Delete(first);
    /* Edit an event in epoch 2 (sealed long ago), then rewrite everything after it. */
    size_t ho2 = find_action(&L, "key.handover", 1);
    size_t k = ho2 + 30;
    char *c = strstr(L.l[k - 1], "\"count\":");
    assert_non_null(c);
    c[8] = c[8] == '9' ? '8' : '9';
    rechain_and_resign(&L, k, log_id);
    struct audit_verify_result r = verify_lines(&L, NULL);
    expect(&r, AUDIT_RESIGNED, find_action(&L, "checkpoint", k));
    free_lines(&L);
}

static void torn_tail_repaired_on_reopen(void **state)
{
    (void)state;
    char log[600], st[600];
    snprintf(log, sizeof log, "%s/torn.log", g_dir);
    snprintf(st, sizeof st, "%s/torn-state", g_dir);
    struct audit *a = open_log(log, st, 10);
    unsigned char pk[32];
    audit_first_pubkey(a, pk);
    for (int i = 0; i < 25; i++)
        flow(a, i);
    audit_close(a);
    /* What kill -9 in the middle of a write leaves behind. */
    int fd = open(log, O_WRONLY | O_APPEND);
    assert_true(fd >= 0);
    const char part[] = "{\"seq\":999,\"time\":\"2026-01-0";
    assert_int_equal(write(fd, part, sizeof part - 1), (ssize_t)(sizeof part - 1));
    close(fd);
    struct audit_verify_result r;
    assert_int_equal(audit_verify_file(log, pk, NULL, &r), FG_OK);
    assert_int_equal(r.damage, AUDIT_TRUNCATED);
    assert_true(r.torn_tail);
    a = open_log(log, st, 10);
    flow(a, 99);
    audit_close(a);
    assert_int_equal(audit_verify_file(log, pk, NULL, &r), FG_OK);
    assert_true(r.ok);
    size_t len;
    char *b = slurp(log, &len);
    assert_non_null(strstr(b, "\"action\":\"audit.repaired\""));
    char tb[64];
    snprintf(tb, sizeof tb, "\"torn_bytes\":%zu", sizeof part - 1);
    assert_non_null(strstr(b, tb));
    free(b);
    /* A kill after the cut but before the record: the pending record is written at the
     * next open (the cut is never silent). */
    char pend[700];
    snprintf(pend, sizeof pend, "%s/audit-repair.pending", st);
    const char rec[] = "{\"torn_bytes\":7,\"line\":3,\"digest\":\"ab\"}\n";
    assert_int_equal(fg_write_file_atomic(pend, rec, sizeof rec - 1, 0600), FG_OK);
    a = open_log(log, st, 10);
    audit_close(a);
    b = slurp(log, &len);
    assert_non_null(strstr(b, "\"action\":\"audit.repaired\",\"object\":{\"torn_bytes\":7"));
    free(b);
    assert_int_equal(access(pend, F_OK), -1);
    assert_int_equal(audit_verify_file(log, pk, NULL, &r), FG_OK);
    assert_true(r.ok);
}

static void prune_keeps_first_key_valid(void **state)
{
    (void)state;
    char log[600], st[600], cmd[4096];
    snprintf(log, sizeof log, "%s/prune.log", g_dir);
    snprintf(st, sizeof st, "%s/prune-state", g_dir);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s' && cp -a '%s' '%s'", g_log, log, g_state, st);
    assert_int_equal(system(cmd), 0);
    /* Prune before the time of a checkpoint deep in the log (epoch > 1). */
    struct lines L = split(g_buf, g_len);
    size_t k = find_action(&L, "checkpoint", 600);
    cJSON *ev = audit_parse_line(L.l[k - 1], strlen(L.l[k - 1]));
    const char *t = cJSON_GetStringValue(cJSON_GetObjectItem(ev, "time"));
    int64_t ms;
    assert_true(fg_parse_time(t, strlen(t), &ms));
    cJSON_Delete(ev);
    uint64_t removed = 0;
    char why[512] = "";
    fg_err e = audit_prune(log, st, ms, g_pk, &removed, why, sizeof why);
    if (e != FG_OK)
        fprintf(stderr, "prune: %s\n", why);
    assert_int_equal(e, FG_OK);
    assert_true(removed > 0 && removed < k);
    struct audit_verify_result r;
    assert_int_equal(audit_verify_file(log, g_pk, NULL, &r), FG_OK);
    if (!r.ok)
        fprintf(stderr, "line %zu %s %s\n", r.bad_line, audit_damage_str(r.damage), r.detail);
    assert_true(r.ok);
    assert_true(r.anchored);
    /* The works council's witness from before the prune still checks (it is newer). */
    assert_int_equal(audit_verify_file(log, g_pk, NULL, &r), FG_OK);
    size_t len;
    char *b = slurp(log, &len);
    assert_int_equal(audit_verify_buffer(b, len, g_pk, g_witness, &r), FG_OK);
    assert_true(r.ok);
    /* Tampering with the anchor line is caught. */
    size_t h = (size_t)(strstr(b, "\"head\":\"") - b) + 8;
    b[h] = b[h] == 'a' ? 'b' : 'a';
    assert_int_equal(audit_verify_buffer(b, len, g_pk, NULL, &r), FG_OK);
    assert_false(r.ok);
    free(b);
    /* The log continues after a prune. */
    struct audit *a = open_log(log, st, 40);
    flow(a, 1);
    audit_close(a);
    assert_int_equal(audit_verify_file(log, g_pk, NULL, &r), FG_OK);
    assert_true(r.ok);
    free_lines(&L);
}

/* ---- seal stripping (issue 14): no key needed, so only the bounds can catch it ------ */

/* What an attacker without any key does after editing: renumber seq from `from` on
 * and recompute every prev. */
static void renumber_rechain(struct lines *L, size_t from)
{
    for (size_t i = from; i < L->n; i++) {
        char prev[65];
        line_hash(L->l[i - 1], prev);
        cJSON *pe = audit_parse_line(L->l[i - 1], strlen(L->l[i - 1]));
        cJSON *ev = audit_parse_line(L->l[i], strlen(L->l[i]));
        assert_non_null(pe);
        assert_non_null(ev);
        double seq = cJSON_GetNumberValue(cJSON_GetObjectItem(pe, "seq")) + 1;
        cJSON_ReplaceItemInObject(ev, "seq", cJSON_CreateNumber(seq));
        cJSON_ReplaceItemInObject(ev, "prev", cJSON_CreateString(prev));
        free(L->l[i]);
        L->l[i] = cJSON_PrintUnformatted(ev);
        cJSON_Delete(ev);
        cJSON_Delete(pe);
    }
}

static void drop_line(struct lines *L, size_t i0)
{
    free(L->l[i0]);
    memmove(&L->l[i0], &L->l[i0 + 1], (L->n - i0 - 1) * sizeof *L->l);
    L->n--;
}

/* Edits line k (1-based) of L: a count in a flow summary. */
static void edit_count(struct lines *L, size_t k)
{
    char *c = strstr(L->l[k - 1], "\"count\":");
    assert_non_null(c);
    c[8] = c[8] == '9' ? '8' : '9';
}

static char *witness_of(const char *buf, size_t len, const char *name)
{
    struct audit_verify_result r;
    assert_int_equal(audit_verify_buffer(buf, len, g_pk, NULL, &r), FG_OK);
    assert_true(r.ok);
    char wpath[600];
    snprintf(wpath, sizeof wpath, "%s/%s", g_dir, name);
    assert_int_equal(audit_write_witness(wpath, &r), FG_OK);
    size_t wl;
    return slurp(wpath, &wl);
}

/* The exact attack of issue 14, item 1: an event in an epoch whose key is destroyed
 * is edited, every later checkpoint and key.handover deleted, seq renumbered, prev
 * recomputed. Caught without a witness, and with a witness older than the edit. */
static void stripped_seals_detected(void **state)
{
    (void)state;
    struct lines L = split(g_buf, g_len);
    size_t ho2 = find_action(&L, "key.handover", 1);
    size_t k = ho2 + 30; /* epoch 2, sealed, its key long destroyed */
    edit_count(&L, k);
    for (size_t i = L.n; i > k; i--)
        if (strstr(L.l[i - 1], "\"action\":\"checkpoint\"") ||
            strstr(L.l[i - 1], "\"action\":\"key.handover\""))
            drop_line(&L, i - 1);
    renumber_rechain(&L, k);
    struct audit_verify_result r = verify_lines(&L, NULL);
    assert_false(r.ok);
    assert_int_equal(r.damage, AUDIT_UNSEALED);
    /* 40 events per checkpoint: the 41st unsealed line is named */
    size_t last_cp = 0;
    for (size_t i = 0; i < k; i++)
        if (strstr(L.l[i], "\"action\":\"checkpoint\""))
            last_cp = i + 1;
    assert_int_equal(r.bad_line, last_cp + 41);
    assert_non_null(strstr(r.detail, "checkpoints were removed or renamed"));
    char *old_w = witness_of(g_old, g_old_len, "old-witness.json");
    r = verify_lines(&L, old_w);
    assert_false(r.ok);
    assert_int_equal(r.damage, AUDIT_UNSEALED);
    free(old_w);
    free_lines(&L);
}

/* Variant: the seals stay, but their action is renamed (chain recomputed). */
static void renamed_seals_detected(void **state)
{
    (void)state;
    struct lines L = split(g_buf, g_len);
    size_t k = find_action(&L, "key.handover", 1) + 30;
    edit_count(&L, k);
    size_t first = 0;
    for (size_t i = k; i < L.n; i++) {
        char *a = strstr(L.l[i], "\"action\":\"checkpoint\"");
        char *h = strstr(L.l[i], "\"action\":\"key.handover\"");
        if (a)
            memcpy(a + 10, "checkpoinx", 10);
        if (h)
            memcpy(h + 10, "key.handovex", 12);
        if ((a || h) && !first)
            first = i + 1;
    }
    renumber_rechain(&L, k);
    struct audit_verify_result r = verify_lines(&L, NULL);
    expect(&r, AUDIT_EDITED, first);
    assert_non_null(strstr(r.detail, "renamed"));
    /* ... and with the seal fields removed too, they are plain events: too many of them */
    for (size_t i = k; i < L.n; i++) {
        char *sig = strstr(L.l[i], "\"sig\":\"");
        if (sig && (strstr(L.l[i], "checkpoinx") || strstr(L.l[i], "key.handovex")))
            memcpy(sig + 1, "siq", 3);
    }
    renumber_rechain(&L, k);
    r = verify_lines(&L, NULL);
    assert_false(r.ok);
    assert_int_equal(r.damage, AUDIT_UNSEALED);
    free_lines(&L);
}

/* Variants on the bounds record itself: changed, dropped (made to look legacy),
 * and the log cut before its first seal. */
static void bounds_record_protected(void **state)
{
    (void)state;
    struct lines L = split(g_buf, g_len);
    /* changed: looser bounds on line 1, chain recomputed: line 2's seal breaks */
    char *ev = strstr(L.l[0], "\"events\":40");
    assert_non_null(ev);
    memcpy(ev + 9, "99", 2);
    renumber_rechain(&L, 1);
    struct audit_verify_result r = verify_lines(&L, NULL);
    assert_false(r.ok);
    assert_int_equal(r.damage, AUDIT_EDITED);
    assert_true(r.bad_line <= 2);
    free_lines(&L);
    /* dropped: line 1 without "seal", every seal stripped: legacy, never "intact" */
    L = split(g_buf, g_len);
    cJSON *first = audit_parse_line(L.l[0], strlen(L.l[0]));
    cJSON_DeleteItemFromObject(cJSON_GetObjectItem(first, "object"), "seal");
    free(L.l[0]);
    L.l[0] = cJSON_PrintUnformatted(first);
    cJSON_Delete(first);
    for (size_t i = L.n; i > 1; i--)
        if (strstr(L.l[i - 1], "\"action\":\"checkpoint\"") ||
            strstr(L.l[i - 1], "\"action\":\"key.handover\""))
            drop_line(&L, i - 1);
    renumber_rechain(&L, 1);
    r = verify_lines(&L, NULL);
    assert_false(r.ok);
    assert_int_equal(r.damage, AUDIT_LEGACY);
    assert_true(r.legacy);
    /* the works council's witness knows the log had bounds */
    r = verify_lines(&L, g_witness);
    assert_false(r.ok);
    assert_int_equal(r.damage, AUDIT_FORKED);
    free_lines(&L);
    /* truncated before the first seal */
    L = split(g_buf, g_len);
    for (size_t i = L.n; i > 1; i--)
        drop_line(&L, i - 1);
    r = verify_lines(&L, NULL);
    expect(&r, AUDIT_TRUNCATED, 1);
    free_lines(&L);
}

/* Rewrites the time of line i (0-based) to base + off_ms. */
static void set_time(struct lines *L, size_t i, int64_t ms)
{
    cJSON *ev = audit_parse_line(L->l[i], strlen(L->l[i]));
    char t[32];
    fg_format_time(ms, t, sizeof t);
    cJSON_ReplaceItemInObject(ev, "time", cJSON_CreateString(t));
    free(L->l[i]);
    L->l[i] = cJSON_PrintUnformatted(ev);
    cJSON_Delete(ev);
}

/* A short tail within the bounds is the honest state of a running (or crashed)
 * writer: it verifies, and says how much and since when. Stretched past the
 * checkpoint interval or the key rotation, it does not. */
static void unsealed_tail_bounded_in_time(void **state)
{
    (void)state;
    char log[600], st[600];
    snprintf(log, sizeof log, "%s/tail.log", g_dir);
    snprintf(st, sizeof st, "%s/tail-state", g_dir);
    struct audit_options o = {.log_path = log,
                              .state_dir = st,
                              .checkpoint_every_events = 10,
                              .checkpoint_every_ms = 60000,
                              .rotate_every_ms = 3600000,
                              .fsync_mode = AUDIT_FSYNC_NEVER};
    struct audit *a = NULL;
    char why[256];
    assert_int_equal(audit_open(&o, &a, why, sizeof why), FG_OK);
    unsigned char pk[32];
    audit_first_pubkey(a, pk);
    for (int i = 0; i < 14; i++)
        flow(a, i);
    /* a crash now: copy the file as it is, unsealed tail included */
    size_t len;
    char *buf = slurp(log, &len);
    audit_close(a);
    struct audit_verify_result r;
    assert_int_equal(audit_verify_buffer(buf, len, pk, NULL, &r), FG_OK);
    assert_true(r.ok);
    assert_true(r.unsealed > 0 && r.unsealed <= 10);
    assert_true(r.unsealed_since[0] != '\0');
    assert_int_equal(r.bounds.events, 10);
    assert_int_equal(r.bounds.interval_ms, 60000);
    struct lines L = split(buf, len);
    free(buf);
    /* the last line claims a time 2 minutes after the first unsealed one */
    size_t first_unsealed = L.n - r.unsealed;
    cJSON *fe = audit_parse_line(L.l[first_unsealed], strlen(L.l[first_unsealed]));
    const char *ft = cJSON_GetStringValue(cJSON_GetObjectItem(fe, "time"));
    int64_t t0;
    assert_true(fg_parse_time(ft, strlen(ft), &t0));
    cJSON_Delete(fe);
    set_time(&L, L.n - 1, t0 + 120000);
    renumber_rechain(&L, L.n - 1);
    size_t jl;
    char *j = join(&L, &jl);
    assert_int_equal(audit_verify_buffer(j, jl, pk, NULL, &r), FG_OK);
    free(j);
    expect(&r, AUDIT_UNSEALED, L.n);
    /* and 2 hours after the epoch's hand-over, though close to the previous line */
    set_time(&L, L.n - 1, t0 + 30000);
    for (size_t i = first_unsealed; i < L.n; i++)
        set_time(&L, i, t0 + 7200000 + (int64_t)i);
    renumber_rechain(&L, first_unsealed);
    j = join(&L, &jl);
    assert_int_equal(audit_verify_buffer(j, jl, pk, NULL, &r), FG_OK);
    free(j);
    expect(&r, AUDIT_UNSEALED, first_unsealed + 1);
    assert_non_null(strstr(r.detail, "hand-over"));
    free_lines(&L);
}

/* After a crash the writer seals the unsealed tail first thing at start. */
static void crash_tail_sealed_at_start(void **state)
{
    (void)state;
    char log[600], st[600], log2[600], st2[600], cmd[2600];
    snprintf(log, sizeof log, "%s/crash.log", g_dir);
    snprintf(st, sizeof st, "%s/crash-state", g_dir);
    snprintf(log2, sizeof log2, "%s/crash2.log", g_dir);
    snprintf(st2, sizeof st2, "%s/crash2-state", g_dir);
    struct audit *a = open_log(log, st, 10);
    unsigned char pk[32];
    audit_first_pubkey(a, pk);
    for (int i = 0; i < 5; i++)
        flow(a, i);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s' && cp -a '%s' '%s'", log, log2, st, st2);
    assert_int_equal(system(cmd), 0); /* what kill -9 leaves */
    audit_close(a);
    size_t len;
    char *before = slurp(log2, &len);
    struct lines B = split(before, len);
    size_t n0 = B.n;
    free_lines(&B);
    free(before);
    a = open_log(log2, st2, 10);
    audit_close(a);
    char *after = slurp(log2, &len);
    struct lines L = split(after, len);
    free(after);
    assert_non_null(strstr(L.l[n0], "\"action\":\"checkpoint\""));
    assert_non_null(strstr(L.l[n0 + 1], "\"action\":\"key.handover\""));
    struct audit_verify_result r;
    assert_int_equal(audit_verify_file(log2, pk, NULL, &r), FG_OK);
    assert_true(r.ok);
    assert_int_equal(r.unsealed, 0);
    free_lines(&L);
}

struct thr {
    struct audit *a;
    int id;
};

static void *writer(void *p)
{
    struct thr *t = p;
    for (int i = 0; i < 200; i++) {
        char o[128];
        snprintf(o, sizeof o, "{\"route\":\"t%d\",\"count\":%d}", t->id, i);
        if (audit_append_json(t->a, "gateway", "flow.summary", o) != FG_OK)
            return p;
        if (i % 50 == 0)
            audit_tick(t->a, fg_monotonic_ms() + 600000);
    }
    return NULL;
}

static void concurrent_appends_chain(void **state)
{
    (void)state;
    char log[600], st[600];
    snprintf(log, sizeof log, "%s/thr.log", g_dir);
    snprintf(st, sizeof st, "%s/thr-state", g_dir);
    struct audit *a = open_log(log, st, 33);
    unsigned char pk[32];
    audit_first_pubkey(a, pk);
    pthread_t th[4];
    struct thr t[4];
    for (int i = 0; i < 4; i++) {
        t[i] = (struct thr){a, i};
        pthread_create(&th[i], NULL, writer, &t[i]);
    }
    assert_int_equal(audit_rotate_epoch(a), FG_OK);
    for (int i = 0; i < 4; i++) {
        void *rv;
        pthread_join(th[i], &rv);
        assert_null(rv);
    }
    audit_close(a);
    struct audit_verify_result r;
    assert_int_equal(audit_verify_file(log, pk, NULL, &r), FG_OK);
    assert_true(r.ok);
    assert_true(r.events >= 800);
}

static void bad_input_rejected(void **state)
{
    (void)state;
    char log[600], st[600];
    snprintf(log, sizeof log, "%s/bad.log", g_dir);
    snprintf(st, sizeof st, "%s/bad-state", g_dir);
    struct audit *a = open_log(log, st, 10);
    assert_int_equal(audit_append_json(a, "gateway", "flow.summary", "[1,2]"), FG_ERR_TYPE);
    assert_int_equal(audit_append_json(a, "gateway", "flow.summary", "{oops"), FG_ERR_PARSE);
    assert_int_equal(audit_append_json(a, "gateway", "checkpoint", "{}"), FG_ERR_CONFIG);
    assert_int_equal(audit_append_json(a, "Gate Way", "x", "{}"), FG_ERR_CONFIG);
    /* Strings that need escaping stay on one line and verify. */
    assert_int_equal(audit_append_json(a, "operator", "config.changed",
                                       "{\"reason\":\"line\\nbreak \\\"q\\\" \\u00e9 \\u0001\"}"),
                     FG_OK);
    unsigned char pk[32];
    audit_first_pubkey(a, pk);
    audit_close(a);
    struct audit_verify_result r;
    assert_int_equal(audit_verify_file(log, pk, NULL, &r), FG_OK);
    assert_true(r.ok);
    /* A second writer on the same log is refused while the first holds it. */
    a = open_log(log, st, 10);
    struct audit_options o = {.log_path = log, .state_dir = st};
    struct audit *b = NULL;
    char why[256];
    assert_int_equal(audit_open(&o, &b, why, sizeof why), FG_ERR_IO);
    assert_null(b);
    audit_close(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(clean_log_verifies),
        cmocka_unit_test(wrong_key_is_named),
        cmocka_unit_test(edited_field_detected),
        cmocka_unit_test(inserted_line_detected),
        cmocka_unit_test(deleted_line_detected),
        cmocka_unit_test(swapped_lines_detected),
        cmocka_unit_test(truncated_tail_detected),
        cmocka_unit_test(rollback_to_older_copy_detected),
        cmocka_unit_test(fork_after_witness_detected),
        cmocka_unit_test(resigned_sealed_epoch_detected),
        cmocka_unit_test(torn_tail_repaired_on_reopen),
        cmocka_unit_test(prune_keeps_first_key_valid),
        cmocka_unit_test(concurrent_appends_chain),
        cmocka_unit_test(bad_input_rejected),
        cmocka_unit_test(stripped_seals_detected),
        cmocka_unit_test(renamed_seals_detected),
        cmocka_unit_test(bounds_record_protected),
        cmocka_unit_test(unsealed_tail_bounded_in_time),
        cmocka_unit_test(crash_tail_sealed_at_start),
        cmocka_unit_test(every_bit_flip_detected_small_log),
        cmocka_unit_test(bit_flips_detected_big_log_sample),
    };
    if (getenv("FG_TEST_FILTER")) /* e.g. FG_TEST_FILTER='*seal*' while working */
        cmocka_set_test_filter(getenv("FG_TEST_FILTER"));
    return cmocka_run_group_tests(tests, setup, teardown);
}
