/* Re-identification sightings (council/reident.h): recorded in memory on the
 * hot path, sealed and written by reident_flush, once per (epoch, route,
 * pseudonym) even across restarts; every drop is counted. Also the outbox
 * quarantine (outbox/quarantine.h): put, list, retry, drop, retention. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "council/reident.h"
#include "outbox/quarantine.h"

struct fx {
    char dir[64];
    unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    assert_true(sodium_init() >= 0);
    strcpy(f->dir, "/tmp/fg-reident-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    crypto_sign_keypair(f->pk, f->sk);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static size_t lines_of(const char *path)
{
    FILE *fp = fopen(path, "r");
    size_t n = 0;
    int c;
    while (fp && (c = fgetc(fp)) != EOF)
        n += c == '\n';
    if (fp)
        fclose(fp);
    return n;
}

static void sightings_are_queued_then_written_once(void **state)
{
    struct fx *f = *state;
    char why[256], path[128];
    struct reident *r;
    assert_int_equal(reident_open(f->dir, f->pk, &r, why, sizeof why), FG_OK);
    reident_record(r, 7, "man-down", "B-1", 3, "aaaaaaaaaaaaaaaaaaaaaaaa");
    reident_record(r, 7, "man-down", "B-1", 3, "aaaaaaaaaaaaaaaaaaaaaaaa"); /* same: once */
    reident_record(r, 7, "man-down", "B-2", 3, "bbbbbbbbbbbbbbbbbbbbbbbb");
    snprintf(path, sizeof path, "%s/epoch-7.sealed", f->dir);
    /* nothing on disk until the main thread flushes */
    assert_int_equal(access(path, F_OK), -1);
    struct reident_stats st;
    reident_get_stats(r, &st);
    assert_int_equal(st.queued, 2);
    assert_int_equal(reident_flush(r), 2);
    assert_int_equal(lines_of(path), 2);
    reident_close(r);
    /* a restart sees the same pseudonym again: not sealed twice */
    assert_int_equal(reident_open(f->dir, f->pk, &r, why, sizeof why), FG_OK);
    reident_record(r, 7, "man-down", "B-1", 3, "aaaaaaaaaaaaaaaaaaaaaaaa");
    (void)reident_flush(r);
    assert_int_equal(lines_of(path), 2);
    /* and the works council's key opens it */
    char id[64];
    struct reident_hit hit;
    assert_int_equal(
        reident_lookup(f->dir, f->sk, "man-down", "bbbbbbbbbbbbbbbbbbbbbbbb", id, sizeof id, &hit),
        FG_OK);
    assert_string_equal(id, "B-2");
    reident_close(r);
}

static void drops_are_counted(void **state)
{
    struct fx *f = *state;
    char why[256], route[100];
    struct reident *r;
    assert_int_equal(reident_open(f->dir, f->pk, &r, why, sizeof why), FG_OK);
    memset(route, 'r', 80);
    route[80] = '\0';
    reident_record(r, 1, route, "B-1", 3, "aaaaaaaaaaaaaaaaaaaaaaaa"); /* route too long */
    reident_record(r, 1, "with space", "B-1", 3, "aaaaaaaaaaaaaaaaaaaaaaaa");
    struct reident_stats st;
    reident_get_stats(r, &st);
    assert_int_equal(st.dropped_too_long, 2);
    assert_int_equal(st.queued, 0);
    /* a table that cannot be written keeps the sighting queued and counts it */
    reident_record(r, 2, "ok", "B-1", 3, "aaaaaaaaaaaaaaaaaaaaaaaa");
    assert_int_equal(chmod(f->dir, 0500), 0);
    if (geteuid() != 0) { /* root writes anyway */
        assert_int_equal(reident_flush(r), 0);
        reident_get_stats(r, &st);
        assert_int_equal(st.write_errors, 1);
        assert_int_equal(st.queued, 1);
    }
    assert_int_equal(chmod(f->dir, 0700), 0);
    (void)reident_flush(r);
    reident_get_stats(r, &st);
    assert_int_equal(st.queued, 0);
    assert_int_equal(st.written, 1);
    reident_close(r);
}

struct seen {
    size_t n;
    uint64_t ids[8];
};

static void collect(void *ctx, const struct quarantine_item *it)
{
    struct seen *s = ctx;
    if (s->n < 8)
        s->ids[s->n++] = it->id;
}

static void quarantine_lists_retries_drops_and_expires(void **state)
{
    struct fx *f = *state;
    char topic[] = "site/s/z/forbidden", payload[] = "{\"seq\":1}", route[] = "z",
         purpose[] = "test", policy[] = "p";
    struct outbox_entry e = {.id = 11,
                             .topic = topic,
                             .payload = payload,
                             .len = 9,
                             .route = route,
                             .purpose = purpose,
                             .policy = policy,
                             .created_ms = 1000,
                             .deadline_ms = 0};
    assert_int_equal(quarantine_put(f->dir, &e, "refused (PUBACK reason 135)", 2000), FG_OK);
    e.id = 12;
    e.deadline_ms = 5000; /* retention ends at 5 s */
    assert_int_equal(quarantine_put(f->dir, &e, "dropped twice", 2000), FG_OK);
    e.id = 13;
    e.deadline_ms = 0;
    assert_int_equal(quarantine_put(f->dir, &e, "dropped twice", 2000), FG_OK);
    struct seen s = {0};
    size_t n;
    assert_int_equal(quarantine_list(f->dir, collect, &s, &n), FG_OK);
    assert_int_equal(n, 3);
    assert_int_equal(s.ids[0], 11);
    /* retention holds in quarantine too */
    assert_int_equal(quarantine_expire(f->dir, 6000, NULL, NULL, &n), FG_OK);
    assert_int_equal(n, 1);
    /* retry moves one to retry.jsonl, which the daemon takes exactly once */
    assert_int_equal(quarantine_take(f->dir, 11, false, true, &n), FG_OK);
    assert_int_equal(n, 1);
    memset(&s, 0, sizeof s);
    assert_int_equal(quarantine_retries(f->dir, collect, &s, &n), FG_OK);
    assert_int_equal(n, 1);
    assert_int_equal(s.ids[0], 11);
    assert_int_equal(quarantine_retries(f->dir, collect, &s, &n), FG_OK);
    assert_int_equal(n, 0);
    /* drop all: empty */
    assert_int_equal(quarantine_take(f->dir, 0, true, false, &n), FG_OK);
    assert_int_equal(n, 1);
    assert_int_equal(quarantine_list(f->dir, NULL, NULL, &n), FG_OK);
    assert_int_equal(n, 0);
    char path[128];
    struct stat st;
    snprintf(path, sizeof path, "%s/quarantine.jsonl", f->dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 077, 0); /* minimised data, still not for others */
}

static void count_entry(void *ctx, const struct outbox_entry *e)
{
    struct seen *s = ctx;
    if (s->n < 8)
        s->ids[s->n++] = e->id;
}

/* `fairgate outbox list` reads the queue from the files, read-only, beside
 * the daemon that has them open: what is acknowledged is not listed. */
static void queue_is_listed_from_the_files(void **state)
{
    struct fx *f = *state;
    char dir[128], why[256];
    snprintf(dir, sizeof dir, "%s/outbox", f->dir);
    struct outbox_options oo = {.max_messages = 100, .max_bytes = 1 << 20, .dir = dir};
    struct outbox *o;
    assert_int_equal(outbox_open(&oo, &o, why, sizeof why), FG_OK);
    struct fg_message m = {
        .route = "r", .purpose = "p", .topic = "t", .payload = "{}", .len = 2, .policy_name = "x"};
    for (int i = 0; i < 3; i++)
        assert_int_equal(outbox_put(o, &m, 1000), FG_OK);
    struct outbox_entry *e[1];
    assert_int_equal(outbox_take(o, e, 1), 1);
    uint64_t first = e[0]->id;
    outbox_entry_free(e[0]);
    outbox_ack(o, first);
    outbox_sync(o); /* writes the ACK record */
    struct seen s = {0};
    size_t n;
    assert_int_equal(outbox_scan(dir, count_entry, &s, &n), FG_OK);
    assert_int_equal(n, 2);
    assert_int_equal(s.ids[0], first + 1);
    assert_int_equal(s.ids[1], first + 2);
    outbox_close(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(sightings_are_queued_then_written_once, setup, teardown),
        cmocka_unit_test_setup_teardown(drops_are_counted, setup, teardown),
        cmocka_unit_test_setup_teardown(quarantine_lists_retries_drops_and_expires, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(queue_is_listed_from_the_files, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
