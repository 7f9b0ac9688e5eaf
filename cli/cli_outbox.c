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
#include "common/fg_opt.h"
#include "common/fg_util.h"
#include "outbox/outbox.h"
#include "outbox/quarantine.h"

struct outbox_opts {
    const char *config, *id, *reason;
};
static const struct fg_opt list_table[] = {
    FG_OPT_STR(struct outbox_opts, config, "config", 'c', "FILE", "the gateway's configuration"),
};
static const struct fg_opt change_table[] = {
    FG_OPT_STR(struct outbox_opts, config, "config", 'c', "FILE", "the gateway's configuration"),
    FG_OPT_STR(struct outbox_opts, id, "id", 0, "ID|all",
               "a message number from `fairgate outbox list`, or all"),
    FG_OPT_STR(struct outbox_opts, reason, "reason", 0, "TEXT", "why (recorded in the audit log)"),
};
static const struct fg_opt_cmd list_cmd = {
    "fairgate outbox list",
    "--config FILE",
    "Shows the queue (not yet acknowledged upstream) and the messages the upstream\n"
    "broker refused, quarantined so that the queue moves on (id, time, route, topic,\n"
    "state and why). Each use is audited.",
    list_table,
    FG_OPT_N(list_table),
    0,
    0};
static const struct fg_opt_cmd retry_cmd = {
    "fairgate outbox retry",
    "--config FILE --id ID|all --reason TEXT",
    "Sends quarantined messages back to the queue of the running gateway (it takes\n"
    "them within a second). Recorded in the audit log with the reason given.",
    change_table,
    FG_OPT_N(change_table),
    0,
    0};
static const struct fg_opt_cmd drop_cmd = {
    "fairgate outbox drop",
    "--config FILE --id ID|all --reason TEXT",
    "Deletes quarantined messages for good. Recorded in the audit log with the\n"
    "reason given.",
    change_table,
    FG_OPT_N(change_table),
    0,
    0};

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

static int outbox_run(const struct fg_opt_cmd *c, const char *sub, int argc, char **argv)
{
    bool list = !strcmp(sub, "list"), retry = !strcmp(sub, "retry");
    struct outbox_opts opt = {0};
    int prc = fg_opt_parse(c, argc, argv, &opt, NULL, NULL);
    if (prc != FG_OPT_OK)
        return fg_opt_exit(prc);
    if (!opt.config)
        return fg_opt_error(c, "--config FILE is required");
    if (!list && (!opt.id || !opt.reason))
        return fg_opt_error(c, "--id and --reason are required");
    const char *v[3] = {opt.config, opt.id, opt.reason};
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

static int list_main(int argc, char **argv)
{
    return outbox_run(&list_cmd, "list", argc, argv);
}
static int retry_main(int argc, char **argv)
{
    return outbox_run(&retry_cmd, "retry", argc, argv);
}
static int drop_main(int argc, char **argv)
{
    return outbox_run(&drop_cmd, "drop", argc, argv);
}

static int outbox_main(int argc, char **argv)
{
    static const struct fg_subcmd subs[] = {
        {"list", "the messages the upstream refused (quarantine)", list_main},
        {"retry", "send quarantined messages back to the queue", retry_main},
        {"drop", "delete quarantined messages for good", drop_main},
    };
    return fg_subcmd_run("fairgate outbox", subs, FG_OPT_N(subs), argc, argv);
}

const struct fg_command fg_cmd_outbox = {
    .name = "outbox",
    .summary = "list, retry or drop messages the upstream refused (quarantine)",
    .main = outbox_main,
};
