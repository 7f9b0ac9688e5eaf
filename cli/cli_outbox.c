/* fairgate outbox list|retry|drop: what the upstream refused (the quarantine,
 * outbox/quarantine.h) and what waits in the queue. Works beside a running
 * daemon: retry hands entries to it (it re-queues them within a second), drop
 * deletes them from the quarantine. Every use is audited. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/inbox.h"
#include "cli/wc_options.h"
#include "common/fg_command.h"
#include "common/fg_util.h"
#include "outbox/quarantine.h"

static int usage(FILE *f, int rc)
{
    fprintf(f, "usage: fairgate outbox list  --config FILE\n"
               "       fairgate outbox retry --config FILE --id ID|all --reason TEXT\n"
               "       fairgate outbox drop  --config FILE --id ID|all --reason TEXT\n\n"
               "Messages the upstream broker refused are quarantined so the queue moves on.\n"
               "list shows the queue (not yet acknowledged upstream) and the quarantine (id,\n"
               "time, route, topic, state and why); retry sends quarantined ones back to the\n"
               "queue of the running gateway; drop deletes them for good. Each use is\n"
               "recorded in the audit log, retry and drop with the reason given.\n");
    return rc;
}

static void print_item(void *ctx, const struct quarantine_item *it)
{
    (void)ctx;
    char when[40];
    fg_format_time(it->time_ms, when, sizeof when);
    printf("%" PRIu64 "\t%s\t%s\t%s\tquarantined: %s\n", it->id, when, it->route, it->topic,
           it->reason);
}

static void print_queued(void *ctx, const struct outbox_entry *e)
{
    (void)ctx;
    char when[40];
    fg_format_time(e->created_ms, when, sizeof when);
    printf("%" PRIu64 "\t%s\t%s\t%s\tqueued\n", e->id, when, e->route, e->topic);
}

static int outbox_main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
        return usage(argc < 2 ? stderr : stdout, argc < 2 ? 2 : 0);
    const char *sub = argv[1];
    bool list = !strcmp(sub, "list"), retry = !strcmp(sub, "retry"), drop = !strcmp(sub, "drop");
    if (!list && !retry && !drop)
        return usage(stderr, 2);
    static const char *const names[] = {"config", "id", "reason"};
    const char *v[3];
    int opt = wc_options(argc - 1, argv + 1, names, v, 3);
    if (opt)
        return usage(opt == 1 ? stdout : stderr, opt == 1 ? 0 : 2);
    if (!v[0] || (!list && (!v[1] || !v[2])))
        return usage(stderr, 2);
    bool all = v[1] && !strcmp(v[1], "all");
    uint64_t id = 0;
    if (!list && !all) {
        char *end = NULL;
        id = strtoull(v[1], &end, 10);
        if (!end || *end || !id) {
            fprintf(stderr, "outbox: --id is a message number from `fairgate outbox list`, or "
                            "all\n");
            return 2;
        }
    }
    struct wc_state st;
    if (wc_state_load(&st, v[0], "outbox"))
        return 2;
    char dir[4200];
    if (st.cfg.outbox_dir)
        snprintf(dir, sizeof dir, "%s", st.cfg.outbox_dir);
    else
        snprintf(dir, sizeof dir, "%s/outbox", st.cfg.state_dir);
    size_t n = 0;
    fg_err e;
    size_t queued = 0;
    if (list) {
        printf("id\ttime\troute\ttopic\tstate\n");
        e = outbox_scan(dir, print_queued, NULL, &queued);
        if (!e)
            e = quarantine_list(dir, print_item, NULL, &n);
    } else
        e = quarantine_take(dir, id, all, retry, &n);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "command", sub);
    if (!list) {
        cJSON_AddStringToObject(o, "id", v[1]);
        cJSON_AddStringToObject(o, "reason", v[2]);
    }
    cJSON_AddNumberToObject(o, "count", (double)n);
    cJSON_AddStringToObject(o, "result", e ? fg_strerror(e) : "ok");
    char awhy[512];
    fg_err ae = audit_submit(st.audit_log, st.audit_dir, "operator", "outbox.quarantine", o, 5000,
                             awhy, sizeof awhy);
    cJSON_Delete(o);
    wc_state_free(&st);
    if (ae)
        fprintf(stderr, "outbox: could not be audited: %s\n", awhy);
    if (e) {
        fprintf(stderr, "outbox: %s: %s\n", dir, fg_strerror(e));
        return 1;
    }
    if (list)
        fprintf(stderr, "%zu message(s) in quarantine, %zu queued\n", n, queued);
    else
        fprintf(stderr, "%zu message(s) %s\n", n,
                retry ? "sent back to the queue (the gateway takes them within a second)"
                      : "deleted from the quarantine");
    if (!list && !n) {
        fprintf(stderr, "outbox: no quarantined message with id %s\n", v[1]);
        return 1;
    }
    return ae ? 1 : 0;
}

const struct fg_command fg_cmd_outbox = {
    .name = "outbox",
    .summary = "list, retry or drop messages the upstream refused (quarantine)",
    .main = outbox_main,
};
