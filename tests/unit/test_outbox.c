/* The outbox through outbox/outbox.h only: order of take/ack/requeue, bounds,
 * retention, and the durable segment log: reopen, acknowledgements, torn and
 * damaged records, segment deletion, ids across reopens, and write failures
 * (FAIRGATE_FAULT_OUTBOX_ENOSPC). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fg_error.h"
#include "outbox/outbox.h"

#define MAXN 512

/* ---- helpers ---------------------------------------------------------------- */

struct fx {
    char dir[300];  /* the outbox directory */
    char flag[300]; /* ENOSPC flag file, outside the outbox directory */
    char base[256];
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    const char *tmp = getenv("TMPDIR");
    snprintf(f->base, sizeof f->base, "%.200s/fg-outbox-XXXXXX", tmp ? tmp : "/tmp");
    if (!mkdtemp(f->base))
        return -1;
    snprintf(f->dir, sizeof f->dir, "%s/outbox", f->base);
    snprintf(f->flag, sizeof f->flag, "%s/enospc", f->base);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->base);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", f->base);
    unsetenv("FAIRGATE_FAULT_OUTBOX_ENOSPC");
    free(f);
    return 0;
}

static struct outbox *open_ex(const char *dir, int64_t max, int64_t slack, int64_t segbytes,
                              char *why, size_t why_len)
{
    struct outbox_options o = {.max_messages = max,
                               .max_bytes = 64 << 20,
                               .slack_messages = slack,
                               .dir = dir,
                               .sync = OUTBOX_SYNC_NEVER,
                               .segment_bytes = segbytes};
    struct outbox *ob = NULL;
    why[0] = '\0';
    fg_err e = outbox_open(&o, &ob, why, why_len);
    if (e != FG_OK)
        fprintf(stderr, "outbox_open: %s (%s)\n", fg_strerror(e), why);
    assert_int_equal(e, FG_OK);
    assert_non_null(ob);
    return ob;
}

static struct outbox *open_ob(const char *dir, int64_t max, int64_t segbytes)
{
    char why[512];
    struct outbox *ob = open_ex(dir, max, 0, segbytes, why, sizeof why);
    if (why[0])
        fprintf(stderr, "outbox_open said: %s\n", why);
    assert_string_equal(why, "");
    return ob;
}

/* Message i: contents derived from i, so recovery can be checked field by field. */
static fg_err put_i(struct outbox *ob, long i, int64_t retention_ms, int64_t now)
{
    char topic[64], payload[160], route[32];
    snprintf(topic, sizeof topic, "site/s/seq/%ld", i);
    int n =
        snprintf(payload, sizeof payload, "{\"seq\":%ld,\"text\":\"message number %ld\"}", i, i);
    snprintf(route, sizeof route, "route-%ld", i % 3);
    struct fg_message m = {.route = route,
                           .purpose = "fault testing",
                           .topic = topic,
                           .payload = payload,
                           .len = (size_t)n,
                           .retention_ms = retention_ms,
                           .categories = (uint32_t)(1u << (i % 12)),
                           .policy_name = "seqtest",
                           .policy_version = 1};
    return outbox_put(ob, &m, now);
}

static void put_range(struct outbox *ob, long first, long n)
{
    for (long i = first; i < first + n; i++)
        assert_int_equal(put_i(ob, i, 0, 1000 + i), FG_OK);
}

static long seq_of(const struct outbox_entry *e)
{
    const char *p = strstr(e->payload, "\"seq\":");
    assert_non_null(p);
    return strtol(p + 6, NULL, 10);
}

/* The entry is exactly what put_i(i) stored. */
static void check_entry(const struct outbox_entry *e, long i)
{
    char topic[64], payload[160], route[32];
    snprintf(topic, sizeof topic, "site/s/seq/%ld", i);
    snprintf(payload, sizeof payload, "{\"seq\":%ld,\"text\":\"message number %ld\"}", i, i);
    snprintf(route, sizeof route, "route-%ld", i % 3);
    assert_string_equal(e->topic, topic);
    assert_int_equal(e->len, strlen(payload));
    assert_memory_equal(e->payload, payload, e->len);
    assert_string_equal(e->route, route);
    assert_string_equal(e->purpose, "fault testing");
    assert_string_equal(e->policy, "seqtest");
    assert_int_equal(e->categories, 1u << (i % 12));
}

/* Takes everything queued; returns how many; ids[] and seqs[] filled. */
static size_t take_all(struct outbox *ob, uint64_t *ids, long *seqs, size_t max)
{
    size_t n = 0;
    struct outbox_entry *batch[16];
    for (;;) {
        size_t k = outbox_take(ob, batch, 16);
        if (!k)
            break;
        for (size_t i = 0; i < k; i++) {
            assert_true(n < max);
            if (ids)
                ids[n] = batch[i]->id;
            if (seqs)
                seqs[n] = seq_of(batch[i]);
            n++;
            outbox_entry_free(batch[i]);
        }
    }
    return n;
}

static size_t count_segments(const char *dir)
{
    size_t n = 0;
    DIR *d = opendir(dir);
    struct dirent *de;
    while (d && (de = readdir(d)))
        if (!strncmp(de->d_name, "seg-", 4))
            n++;
    if (d)
        closedir(d);
    return n;
}

/* Path of the last (newest) segment file. */
static void last_segment(const char *dir, char *out, size_t len)
{
    char best[256] = "";
    DIR *d = opendir(dir);
    struct dirent *de;
    while (d && (de = readdir(d)))
        if (!strncmp(de->d_name, "seg-", 4) && strcmp(de->d_name, best) > 0)
            snprintf(best, sizeof best, "%s", de->d_name);
    if (d)
        closedir(d);
    assert_true(best[0]);
    snprintf(out, len, "%s/%s", dir, best);
}

static off_t file_size(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_size;
}

static uint64_t depth(struct outbox *ob)
{
    struct outbox_stats st;
    outbox_get_stats(ob, &st);
    return st.depth;
}

/* ---- in memory ---------------------------------------------------------------- */

static void test_put_take_ack_order(void **state)
{
    (void)state;
    struct outbox *ob = open_ob(NULL, 100, 0);
    put_range(ob, 0, 5);
    struct outbox_entry *b[10];
    size_t n = outbox_take(ob, b, 10);
    assert_int_equal(n, 5);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(b[i]->id, i + 1);
        check_entry(b[i], (long)i);
        assert_int_equal(b[i]->created_ms, 1000 + (int64_t)i);
        assert_int_equal(b[i]->deadline_ms, 0);
    }
    /* in flight: not taken twice */
    struct outbox_entry *more[10];
    assert_int_equal(outbox_take(ob, more, 10), 0);
    struct outbox_stats st;
    outbox_get_stats(ob, &st);
    assert_int_equal(st.depth, 5);
    assert_int_equal(st.inflight, 5);
    assert_int_equal(st.oldest_ms, 1000);
    for (size_t i = 0; i < n; i++) {
        outbox_ack(ob, b[i]->id);
        outbox_entry_free(b[i]);
    }
    outbox_get_stats(ob, &st);
    assert_int_equal(st.depth, 0);
    assert_int_equal(st.inflight, 0);
    assert_int_equal(st.bytes, 0);
    assert_int_equal(st.oldest_ms, 0);
    /* a take limited by max */
    put_range(ob, 5, 5);
    assert_int_equal(outbox_take(ob, b, 2), 2);
    assert_int_equal(b[0]->id, 6);
    assert_int_equal(b[1]->id, 7);
    outbox_entry_free(b[0]);
    outbox_entry_free(b[1]);
    assert_int_equal(outbox_take(ob, b, 10), 3);
    assert_int_equal(b[0]->id, 8);
    for (int i = 0; i < 3; i++)
        outbox_entry_free(b[i]);
    outbox_close(ob);
}

static void test_out_of_order_acks(void **state)
{
    (void)state;
    struct outbox *ob = open_ob(NULL, 100, 0);
    put_range(ob, 0, 6);
    uint64_t ids[16];
    assert_int_equal(take_all(ob, ids, NULL, 16), 6);
    outbox_ack(ob, 3);
    outbox_ack(ob, 1);
    outbox_ack(ob, 6);
    outbox_ack(ob, 6);  /* twice: harmless */
    outbox_ack(ob, 99); /* unknown: harmless */
    assert_int_equal(depth(ob), 3);
    outbox_requeue_all(ob);
    long seqs[16];
    assert_int_equal(take_all(ob, ids, seqs, 16), 3);
    assert_int_equal(ids[0], 2);
    assert_int_equal(ids[1], 4);
    assert_int_equal(ids[2], 5);
    assert_int_equal(seqs[0], 1);
    outbox_ack(ob, 5);
    outbox_ack(ob, 2);
    outbox_ack(ob, 4);
    assert_int_equal(depth(ob), 0);
    /* the ring keeps working after holes */
    put_range(ob, 10, 3);
    assert_int_equal(take_all(ob, ids, NULL, 16), 3);
    assert_int_equal(ids[0], 7);
    outbox_close(ob);
}

static void test_requeue_keeps_order(void **state)
{
    (void)state;
    struct outbox *ob = open_ob(NULL, 100, 0);
    put_range(ob, 0, 6);
    uint64_t ids[16];
    assert_int_equal(take_all(ob, ids, NULL, 16), 6);
    outbox_requeue(ob, 4);
    outbox_requeue(ob, 2);
    outbox_requeue(ob, 2); /* not in flight any more: no effect */
    assert_int_equal(take_all(ob, ids, NULL, 16), 2);
    assert_int_equal(ids[0], 2);
    assert_int_equal(ids[1], 4);
    outbox_ack(ob, 1);
    outbox_requeue_all(ob);
    long seqs[16];
    assert_int_equal(take_all(ob, ids, seqs, 16), 5);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(ids[i], (uint64_t)i + 2);
        assert_int_equal(seqs[i], i + 1);
    }
    struct outbox_stats st;
    outbox_get_stats(ob, &st);
    assert_int_equal(st.inflight, 5);
    outbox_close(ob);
}

/* Batching (gateway/sender.c) forms a publish from the queued entries of one
 * route with a batch key, passing over other routes' entries: those stay
 * queued and in order, and a count-only run marks nothing. The batch key
 * travels with the entry in memory but is not stored on disk. */
static fg_err put_batched(struct outbox *ob, const char *route, long i, int batch_max)
{
    char payload[64];
    snprintf(payload, sizeof payload, "{\"seq\":%ld}", i);
    struct fg_message m = {.route = route,
                           .purpose = "batch testing",
                           .topic = "site/s/b",
                           .payload = payload,
                           .len = strlen(payload),
                           .policy_name = "batchtest",
                           .batch_max = batch_max,
                           .batch_delay_ms = batch_max ? 200 : 0};
    return outbox_put(ob, &m, 1000 + i);
}

static enum outbox_join join_route_b(void *ctx, const struct outbox_entry *first,
                                     const struct outbox_entry *e, size_t n)
{
    (void)ctx;
    (void)n;
    if (strcmp(e->route, "b") != 0)
        return OUTBOX_SKIP;
    return !first || e->batch_max == first->batch_max ? OUTBOX_JOIN : OUTBOX_STOP;
}

static void check_take_run(struct outbox *ob)
{
    /* count only: nothing is marked */
    assert_int_equal(outbox_take_run(ob, NULL, 3, join_route_b, NULL), 3);
    struct outbox_stats st;
    outbox_get_stats(ob, &st);
    assert_int_equal(st.inflight, 0);
    struct outbox_entry *run[8];
    assert_int_equal(outbox_take_run(ob, run, 3, join_route_b, NULL), 3);
    for (int i = 0; i < 3; i++) {
        assert_string_equal(run[i]->route, "b");
        assert_int_equal(run[i]->id, (uint64_t)(2 * i + 1)); /* ids 1, 3, 5 */
        assert_int_equal(run[i]->batch_max, 3);
        assert_int_equal(run[i]->batch_delay_ms, 200);
        outbox_entry_free(run[i]);
    }
    /* the passed-over singles are still there, in order, before the later b */
    struct outbox_entry *b[8];
    assert_int_equal(outbox_take(ob, b, 8), 4);
    assert_int_equal(b[0]->id, 2);
    assert_int_equal(b[1]->id, 4);
    assert_int_equal(b[2]->id, 6);
    assert_int_equal(b[3]->id, 7);
    assert_int_equal(b[0]->batch_max, 0);
    for (int i = 0; i < 4; i++)
        outbox_entry_free(b[i]);
}

static void test_take_run_passes_over_other_routes(void **state)
{
    struct fx *f = *state;
    char why[256] = "";
    struct outbox *ob = open_ex(f->dir, 100, 0, 0, why, sizeof why);
    assert_non_null(ob);
    for (long i = 0; i < 6; i++)
        assert_int_equal(put_batched(ob, i % 2 ? "s" : "b", i, i % 2 ? 0 : 3), FG_OK);
    assert_int_equal(put_batched(ob, "b", 6, 3), FG_OK);
    check_take_run(ob);
    outbox_close(ob);
    /* reopened: every record is back, none of them batched any more */
    ob = open_ex(f->dir, 100, 0, 0, why, sizeof why);
    assert_non_null(ob);
    struct outbox_entry *b[8];
    assert_int_equal(outbox_take(ob, b, 8), 7);
    for (int i = 0; i < 7; i++) {
        assert_int_equal(b[i]->batch_max, 0);
        outbox_entry_free(b[i]);
    }
    outbox_close(ob);
}

static void test_bounds(void **state)
{
    (void)state;
    char why[256];
    struct outbox *ob = open_ex(NULL, 10, 2, 0, why, sizeof why);
    for (long i = 0; i < 9; i++)
        assert_int_equal(put_i(ob, i, 0, 1), FG_OK);
    assert_false(outbox_full(ob));
    assert_int_equal(put_i(ob, 9, 0, 1), FG_OK);
    assert_true(outbox_full(ob)); /* at max: the gateway pauses inputs */
    /* Inputs that arrive before the pause takes effect were acknowledged
     * already: they find room (the bound is soft) up to a hard limit of four
     * times max + slack, which only a broker ignoring the pause reaches. */
    long i = 10;
    for (; i < 48; i++)
        assert_int_equal(put_i(ob, i, 0, 1), FG_OK);
    assert_int_equal(put_i(ob, i, 0, 1), FG_ERR_FULL);
    assert_int_equal(depth(ob), 48);
    struct outbox_entry *b[2];
    assert_int_equal(outbox_take(ob, b, 1), 1);
    outbox_ack(ob, b[0]->id);
    outbox_entry_free(b[0]);
    assert_int_equal(put_i(ob, i, 0, 1), FG_OK); /* room again once something leaves */
    outbox_close(ob);

    /* the byte bound */
    struct outbox_options o = {
        .max_messages = 1000, .max_bytes = 100, .slack_messages = 0, .sync = OUTBOX_SYNC_NEVER};
    assert_int_equal(outbox_open(&o, &ob, why, sizeof why), FG_OK);
    char pay[40];
    memset(pay, 'x', sizeof pay);
    struct fg_message m = {.route = "r",
                           .purpose = "p",
                           .topic = "t",
                           .payload = pay,
                           .len = sizeof pay,
                           .policy_name = "pol"};
    assert_int_equal(outbox_put(ob, &m, 1), FG_OK);
    assert_int_equal(outbox_put(ob, &m, 1), FG_OK);
    assert_false(outbox_full(ob));
    m.len = 20;
    assert_int_equal(outbox_put(ob, &m, 1), FG_OK); /* exactly 100: full, inputs pause */
    assert_true(outbox_full(ob));
    m.len = 40;
    for (int i = 0; i < 7; i++) /* soft up to four times the bound: 380 bytes */
        assert_int_equal(outbox_put(ob, &m, 1), FG_OK);
    assert_int_equal(outbox_put(ob, &m, 1), FG_ERR_FULL); /* 420 > 400 */
    outbox_close(ob);
}

struct purge_count {
    uint64_t calls, total;
    char last_route[32];
};

static void on_purge(void *ctx, const char *route, uint64_t count)
{
    struct purge_count *p = ctx;
    p->calls++;
    p->total += count;
    snprintf(p->last_route, sizeof p->last_route, "%s", route);
}

static void test_retention_purge(void **state)
{
    struct fx *f = *state;
    struct outbox *ob = open_ob(f->dir, 100, 0);
    const int64_t now = 1000000;
    assert_int_equal(put_i(ob, 0, 1000, now), FG_OK); /* id 1, deadline now+1000 */
    assert_int_equal(put_i(ob, 1, 1000, now), FG_OK); /* id 2 */
    assert_int_equal(put_i(ob, 2, 1000, now), FG_OK); /* id 3 */
    assert_int_equal(put_i(ob, 3, 0, now), FG_OK);    /* id 4, no limit */
    assert_int_equal(put_i(ob, 4, 5000, now), FG_OK); /* id 5 */
    struct outbox_entry *b[1];
    assert_int_equal(outbox_take(ob, b, 1), 1); /* id 1 in flight: not purged under the sender */
    assert_int_equal(b[0]->deadline_ms, now + 1000);
    outbox_entry_free(b[0]);
    struct purge_count pc = {0};
    assert_int_equal(outbox_purge_expired(ob, now + 999, on_purge, &pc), 0);
    assert_int_equal(outbox_purge_expired(ob, now + 1000, on_purge, &pc), 2);
    assert_int_equal(pc.total, 2);
    assert_int_equal(outbox_purge_expired(ob, now + 5000, on_purge, &pc), 1);
    assert_int_equal(pc.total, 3);
    assert_string_equal(pc.last_route, "route-1"); /* seq 4 % 3 */
    outbox_requeue_all(ob);                        /* id 1 back in the queue, expired */
    assert_int_equal(outbox_purge_expired(ob, now + 6000, NULL, NULL), 1);
    struct outbox_stats st;
    outbox_get_stats(ob, &st);
    assert_int_equal(st.purged, 4);
    assert_int_equal(st.depth, 1);
    outbox_sync(ob);
    outbox_close(ob);
    /* purged entries stay gone after a reopen */
    ob = open_ob(f->dir, 100, 0);
    assert_int_equal(outbox_recovered(ob), 1);
    long seqs[4];
    assert_int_equal(take_all(ob, NULL, seqs, 4), 1);
    assert_int_equal(seqs[0], 3);
    outbox_close(ob);
}

/* ---- durable ------------------------------------------------------------------ */

static void test_durable_reopen(void **state)
{
    struct fx *f = *state;
    struct outbox *ob = open_ob(f->dir, 1000, 0);
    for (long i = 0; i < 50; i++)
        assert_int_equal(put_i(ob, i, i % 2 ? 3600000 : 0, 5000 + i), FG_OK);
    outbox_close(ob);

    ob = open_ob(f->dir, 1000, 0);
    assert_int_equal(outbox_recovered(ob), 50);
    assert_int_equal(depth(ob), 50);
    struct outbox_entry *b[64];
    size_t n = outbox_take(ob, b, 64);
    assert_int_equal(n, 50);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(b[i]->id, i + 1);
        check_entry(b[i], (long)i);
        assert_int_equal(b[i]->created_ms, 5000 + (int64_t)i);
        assert_int_equal(b[i]->deadline_ms, i % 2 ? 5000 + (int64_t)i + 3600000 : 0);
        outbox_entry_free(b[i]);
    }
    outbox_close(ob); /* nothing acknowledged: all of it again */
    ob = open_ob(f->dir, 1000, 0);
    assert_int_equal(outbox_recovered(ob), 50);
    outbox_close(ob);
}

static void test_ack_sync_reopen(void **state)
{
    struct fx *f = *state;
    struct outbox *ob = open_ob(f->dir, 1000, 0);
    put_range(ob, 0, 20);
    uint64_t ids[32];
    assert_int_equal(take_all(ob, ids, NULL, 32), 20);
    for (uint64_t id = 1; id <= 20; id += 2)
        outbox_ack(ob, id);
    outbox_sync(ob);
    outbox_close(ob);

    ob = open_ob(f->dir, 1000, 0);
    assert_int_equal(outbox_recovered(ob), 10);
    long seqs[32];
    assert_int_equal(take_all(ob, ids, seqs, 32), 10);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(ids[i], (uint64_t)(2 * i + 2));
        assert_int_equal(seqs[i], 2 * i + 1);
    }
    outbox_close(ob);
}

/* A crash between an upstream ACK and the next outbox_sync: the entry comes
 * back (a duplicate with the same id), it is never lost. The "crash" is a copy
 * of the directory taken before the sync. */
static void test_unsynced_ack_comes_back(void **state)
{
    struct fx *f = *state;
    struct outbox *ob = open_ob(f->dir, 1000, 0);
    put_range(ob, 0, 10);
    uint64_t ids[16];
    assert_int_equal(take_all(ob, ids, NULL, 16), 10);
    for (int i = 0; i < 5; i++)
        outbox_ack(ob, ids[i]);
    char copy[300], cmd[700];
    snprintf(copy, sizeof copy, "%s/crashed", f->base);
    snprintf(cmd, sizeof cmd, "cp -r '%s' '%s'", f->dir, copy);
    assert_int_equal(system(cmd), 0);
    outbox_close(ob);

    ob = open_ob(copy, 1000, 0);
    assert_int_equal(outbox_recovered(ob), 10);
    outbox_close(ob);
    ob = open_ob(f->dir, 1000, 0); /* the closed one recorded its acks */
    assert_int_equal(outbox_recovered(ob), 5);
    outbox_close(ob);
}

static void test_torn_tail(void **state)
{
    struct fx *f = *state;
    struct outbox *ob = open_ob(f->dir, 1000, 0);
    put_range(ob, 0, 10);
    outbox_close(ob);
    char seg[512];
    last_segment(f->dir, seg, sizeof seg);
    off_t size = file_size(seg);
    assert_int_equal(truncate(seg, size - 5), 0);

    char why[512];
    ob = open_ex(f->dir, 1000, 0, 0, why, sizeof why);
    assert_true(why[0] != '\0'); /* says it cut something off */
    assert_non_null(strstr(why, "recovered"));
    assert_int_equal(outbox_recovered(ob), 9);
    uint64_t ids[16];
    long seqs[16];
    assert_int_equal(take_all(ob, ids, seqs, 16), 9);
    for (int i = 0; i < 9; i++) {
        assert_int_equal(ids[i], (uint64_t)i + 1);
        assert_int_equal(seqs[i], i);
    }
    outbox_close(ob);
    /* cut back to the last whole record: the next open is clean */
    assert_int_equal(file_size(seg), size / 10 * 9);
    ob = open_ob(f->dir, 1000, 0);
    assert_int_equal(outbox_recovered(ob), 9);
    outbox_close(ob);
}

static void test_flipped_byte(void **state)
{
    struct fx *f = *state;
    struct outbox *ob = open_ob(f->dir, 1000, 0);
    put_range(ob, 0, 10); /* seqs 0..9: records of equal size */
    outbox_close(ob);
    char seg[512];
    last_segment(f->dir, seg, sizeof seg);
    off_t rec = file_size(seg) / 10;
    int fd = open(seg, O_RDWR);
    assert_true(fd >= 0);
    off_t at = 4 * rec + rec / 2; /* inside the fifth record's body */
    unsigned char c;
    assert_int_equal(pread(fd, &c, 1, at), 1);
    c ^= 0x20;
    assert_int_equal(pwrite(fd, &c, 1, at), 1);
    close(fd);

    char why[512];
    ob = open_ex(f->dir, 1000, 0, 0, why, sizeof why);
    assert_non_null(strstr(why, "damaged")); /* said, not hidden */
    /* the damaged record is skipped, never replayed; the five after it come back */
    assert_int_equal(outbox_recovered(ob), 9);
    struct outbox_entry *b[16];
    size_t n = outbox_take(ob, b, 16);
    assert_int_equal(n, 9);
    for (size_t i = 0; i < n; i++) {
        long seq = i < 4 ? (long)i : (long)i + 1;
        assert_int_equal(b[i]->id, (uint64_t)seq + 1);
        check_entry(b[i], seq); /* no garbage */
        outbox_entry_free(b[i]);
    }
    outbox_close(ob);
}

static void test_segments_deleted(void **state)
{
    struct fx *f = *state;
    struct outbox *ob = open_ob(f->dir, 1000, 4096);
    put_range(ob, 0, 200);
    size_t files = count_segments(f->dir);
    struct outbox_stats st;
    outbox_get_stats(ob, &st);
    assert_true(files >= 4);
    assert_int_equal(st.segments, files);
    uint64_t ids[256];
    assert_int_equal(take_all(ob, ids, NULL, 256), 200);
    for (int i = 0; i < 100; i++) /* the first half */
        outbox_ack(ob, ids[i]);
    outbox_sync(ob);
    size_t half = count_segments(f->dir);
    assert_true(half < files);
    assert_true(half >= 2);
    outbox_close(ob);

    ob = open_ob(f->dir, 1000, 4096);
    assert_int_equal(outbox_recovered(ob), 100);
    long seqs[256];
    assert_int_equal(take_all(ob, ids, seqs, 256), 100);
    for (int i = 0; i < 100; i++) {
        assert_int_equal(ids[i], (uint64_t)i + 101);
        assert_int_equal(seqs[i], i + 100);
    }
    for (int i = 0; i < 100; i++)
        outbox_ack(ob, ids[i]);
    outbox_sync(ob);
    assert_int_equal(count_segments(f->dir), 1); /* only the active one */
    outbox_get_stats(ob, &st);
    assert_int_equal(st.segments, 1);
    outbox_close(ob);
    ob = open_ob(f->dir, 1000, 4096);
    assert_int_equal(outbox_recovered(ob), 0);
    outbox_close(ob);
}

static void test_ids_increase_after_reopen(void **state)
{
    struct fx *f = *state;
    uint64_t next = 1;
    for (int round = 0; round < 3; round++) {
        struct outbox *ob = open_ob(f->dir, 1000, 4096);
        assert_int_equal(outbox_recovered(ob), 0);
        put_range(ob, 0, 120); /* several segments a round */
        uint64_t ids[128];
        assert_int_equal(take_all(ob, ids, NULL, 128), 120);
        assert_true(ids[0] >= next); /* reopening skips the reserved block: never reuse */
        for (int i = 0; i < 120; i++) {
            assert_int_equal(ids[i], ids[0] + (uint64_t)i);
            outbox_ack(ob, ids[i]);
        }
        next = ids[119] + 1;
        outbox_sync(ob);
        assert_int_equal(count_segments(f->dir), 1);
        outbox_close(ob);
    }
}

static void test_enospc(void **state)
{
    struct fx *f = *state;
    setenv("FAIRGATE_FAULT_OUTBOX_ENOSPC", f->flag, 1);
    struct outbox *ob = open_ob(f->dir, 1000, 0);
    assert_int_equal(put_i(ob, 0, 0, 1), FG_OK);
    FILE *fl = fopen(f->flag, "w");
    assert_non_null(fl);
    fclose(fl);
    assert_int_equal(put_i(ob, 1, 0, 1), FG_ERR_IO);
    assert_true(outbox_write_failing(ob));
    assert_int_equal(put_i(ob, 2, 0, 1), FG_ERR_IO); /* later ones wait behind it */
    struct outbox_stats st;
    outbox_get_stats(ob, &st);
    assert_int_equal(st.depth, 3);
    assert_true(st.write_errors >= 1);
    uint64_t ids[8];
    long seqs[8];
    /* what is not stored is not sent */
    assert_int_equal(take_all(ob, ids, seqs, 8), 1);
    assert_int_equal(seqs[0], 0);
    outbox_sync(ob); /* still failing */
    assert_true(outbox_write_failing(ob));
    assert_int_equal(take_all(ob, ids, seqs, 8), 0);
    assert_int_equal(unlink(f->flag), 0);
    outbox_sync(ob);
    assert_false(outbox_write_failing(ob));
    assert_int_equal(take_all(ob, ids, seqs, 8), 2);
    assert_int_equal(seqs[0], 1);
    assert_int_equal(seqs[1], 2);
    assert_int_equal(put_i(ob, 3, 0, 1), FG_OK);
    outbox_close(ob); /* nothing acknowledged */
    unsetenv("FAIRGATE_FAULT_OUTBOX_ENOSPC");

    ob = open_ob(f->dir, 1000, 0);
    assert_int_equal(outbox_recovered(ob), 4);
    struct outbox_entry *b[8];
    size_t n = outbox_take(ob, b, 8);
    assert_int_equal(n, 4);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(b[i]->id, i + 1);
        check_entry(b[i], (long)i);
        outbox_entry_free(b[i]);
    }
    outbox_close(ob);
}

/* ---- regressions: defects the fault tests found, fixed ---------------------------- */

/* A directory may hold more unacknowledged entries than the bound (after
 * outbox.max_messages was lowered): every one of them is recovered - the
 * gateway then pauses inputs until the backlog drains - none is dropped. */
static void test_recovery_beyond_capacity_keeps_the_rest(void **state)
{
    struct fx *f = *state;
    struct outbox *ob = open_ob(f->dir, 1000, 4096);
    put_range(ob, 0, 200);
    outbox_close(ob);

    ob = open_ob(f->dir, 50, 4096); /* a smaller bound than what is stored */
    uint64_t recovered = outbox_recovered(ob);
    assert_int_equal(recovered, 200);
    assert_true(outbox_full(ob));
    uint64_t ids[256];
    size_t n = take_all(ob, ids, NULL, 256);
    for (size_t i = 0; i < n; i++)
        outbox_ack(ob, ids[i]);
    outbox_sync(ob);
    outbox_close(ob);

    ob = open_ob(f->dir, 1000, 4096);
    uint64_t rest = outbox_recovered(ob);
    fprintf(stderr,
            "stored 200, recovered %llu under the smaller bound and acknowledged them; "
            "%llu of the other %llu came back\n",
            (unsigned long long)n, (unsigned long long)rest, (unsigned long long)(200 - n));
    outbox_close(ob);
    assert_int_equal(rest, 200 - n);
}

/* outbox_log.c olog_open(): the next id is one past the largest id found in
 * the log. With outbox.sync interval or never, a power cut can lose the tail
 * of the log - records of entries that were already sent and acknowledged
 * upstream (they leave before the fsync). After the restart their ids are
 * handed out again to new messages, so a consumer that deduplicates on
 * fairgate-id (design section 7) drops new data as duplicates. The lost tail
 * is simulated by cutting the log back to a record boundary. */
static void test_ids_not_reused_after_lost_tail(void **state)
{
    struct fx *f = *state;
    struct outbox *ob = open_ob(f->dir, 1000, 0);
    put_range(ob, 0, 10);
    uint64_t ids[16];
    assert_int_equal(take_all(ob, ids, NULL, 16), 10);
    outbox_close(ob); /* sent (ids 1..10 are upstream), acks not recorded yet */
    char seg[512];
    last_segment(f->dir, seg, sizeof seg);
    off_t size = file_size(seg);
    assert_int_equal(truncate(seg, size / 10 * 7), 0); /* the page cache lost the last 3 */

    char why[512];
    ob = open_ex(f->dir, 1000, 0, 0, why, sizeof why);
    assert_int_equal(outbox_recovered(ob), 7);
    assert_int_equal(take_all(ob, ids, NULL, 16), 7);
    assert_int_equal(put_i(ob, 100, 0, 1), FG_OK); /* a new, different message */
    assert_int_equal(take_all(ob, ids, NULL, 16), 1);
    fprintf(stderr, "ids 1..10 were sent before the power cut; the next new message got id %llu\n",
            (unsigned long long)ids[0]);
    outbox_close(ob);
    assert_true(ids[0] > 10);
}

/* Runs outbox_open with stderr captured into log[]. */
static struct outbox *open_capture(const char *dir, char *why, size_t why_len, char *log,
                                   size_t log_len)
{
    char path[] = "/tmp/fg-outbox-log-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    struct outbox *ob = open_ex(dir, 1000, 0, 0, why, why_len);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    ssize_t n = pread(fd, log, log_len - 1, 0);
    log[n > 0 ? n : 0] = '\0';
    close(fd);
    unlink(path);
    fprintf(stderr, "%s", log);
    return ob;
}

/* outbox_log.c olog_open(): any bad record in the last segment is reported as
 * "a torn last record", even when whole, valid records follow it - that is
 * damage (bit rot, a bad sector), and those following records (messages not
 * yet sent) are discarded. A crash can only tear the very end of the file;
 * calling this a torn record tells the operator nothing was lost. */
static void test_mid_segment_damage_not_called_torn(void **state)
{
    struct fx *f = *state;
    struct outbox *ob = open_ob(f->dir, 1000, 0);
    put_range(ob, 0, 10);
    outbox_close(ob);
    char seg[512];
    last_segment(f->dir, seg, sizeof seg);
    off_t rec = file_size(seg) / 10;
    int fd = open(seg, O_RDWR);
    assert_true(fd >= 0);
    unsigned char c;
    assert_int_equal(pread(fd, &c, 1, 4 * rec + rec / 2), 1);
    c ^= 0x20;
    assert_int_equal(pwrite(fd, &c, 1, 4 * rec + rec / 2), 1);
    close(fd);
    char why[512], log[4096];
    ob = open_capture(f->dir, why, sizeof why, log, sizeof log);
    assert_int_equal(outbox_recovered(ob), 9);
    outbox_close(ob);
    assert_null(strstr(log, "torn last record")); /* 5 whole records followed it */
    assert_non_null(strstr(log, "damaged"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_put_take_ack_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_out_of_order_acks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_requeue_keeps_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bounds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_take_run_passes_over_other_routes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retention_purge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_durable_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ack_sync_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unsynced_ack_comes_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_tail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flipped_byte, setup, teardown),
        cmocka_unit_test_setup_teardown(test_segments_deleted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ids_increase_after_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_enospc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recovery_beyond_capacity_keeps_the_rest, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_ids_not_reused_after_lost_tail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mid_segment_damage_not_called_torn, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
