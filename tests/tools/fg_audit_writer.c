/* A realistic audit log writer for the crash and tamper tests
 * (tests/e2e/audit_crash.sh, audit_tamper.sh): appends synthetic flow
 * summaries and gateway events through the real audit writer. A test tool,
 * built only with the tests; the product has no such command. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "audit/audit.h"
#include "common/fg_opt.h"
#include "common/fg_util.h"

struct opts {
    const char *state, *log, *fsync;
    long long events, cp_every, rotate_every, delay_us;
};
static const struct fg_opt table[] = {
    FG_OPT_STR(struct opts, state, "state", 0, "DIR", "the audit state directory"),
    FG_OPT_STR(struct opts, log, "log", 0, "FILE", "the audit log"),
    FG_OPT_LONG(struct opts, events, "events", 0, "N", "events to append (default 100)", 1,
                1000000000),
    FG_OPT_LONG(struct opts, cp_every, "checkpoint-every", 0, "N",
                "a checkpoint every N events (default 50)", 1, 1000000),
    FG_OPT_LONG(struct opts, rotate_every, "rotate-every", 0, "N",
                "hand over to a new key every N events", 1, 1000000000),
    FG_OPT_CHOICE(struct opts, fsync, "fsync", 0, "always|interval|never", "when to fsync"),
    FG_OPT_LONG(struct opts, delay_us, "delay-us", 0, "N", "sleep N microseconds per event", 0,
                10000000),
};
static const struct fg_opt_cmd cmd = {
    "fg_audit_writer",
    "--state DIR --log FILE [--events N] [--checkpoint-every N]\n"
    "[--rotate-every N] [--fsync always|interval|never] [--delay-us N]",
    "Test helper: appends synthetic flow summaries and gateway events.",
    table,
    FG_OPT_N(table),
    0,
    0};

int main(int argc, char **argv)
{
    struct opts o = {0};
    int prc = fg_opt_parse(&cmd, argc, argv, &o, NULL, NULL);
    if (prc != FG_OPT_OK)
        return fg_opt_exit(prc);
    if (!o.state || !o.log)
        return fg_opt_error(&cmd, "--state and --log are required");
    if (sodium_init() < 0)
        return 1;
    struct audit_options ao = {.log_path = o.log,
                               .state_dir = o.state,
                               .checkpoint_every_events = o.cp_every ? (int)o.cp_every : 50};
    if (o.fsync)
        ao.fsync_mode = strcmp(o.fsync, "always") == 0  ? AUDIT_FSYNC_ALWAYS
                        : strcmp(o.fsync, "never") == 0 ? AUDIT_FSYNC_NEVER
                                                        : AUDIT_FSYNC_INTERVAL;
    struct audit *a;
    char why[512] = "";
    fg_err e = audit_open(&ao, &a, why, sizeof why);
    if (e != FG_OK) {
        fprintf(stderr, "fg_audit_writer: %s\n", why[0] ? why : fg_strerror(e));
        return 1;
    }
    static const char *const flows[] = {
        ("{\"route\":\"occupancy\",\"destination\":\"site/{site}/occupancy/{zone}\","
         "\"purpose\":\"space planning and evacuation counts\",\"categories\":[\"zone\","
         "\"worker-id\"],\"count\":%ld,\"digest\":\"%s\"}"),
        ("{\"route\":\"man-down\",\"destination\":\"site/alarms/man-down\",\"purpose\":"
         "\"emergency response\",\"categories\":[\"worker-id\",\"zone\",\"time\","
         "\"safety-event\"],\"count\":%ld,\"digest\":\"%s\"}"),
        ("{\"route\":\"climate\",\"destination\":\"bms/climate\",\"purpose\":\"ventilation "
         "control\",\"categories\":[\"environment\",\"time\"],\"count\":%ld,\"digest\":\"%s\"}"),
    };
    e = audit_append_json(a, "gateway", "gateway.start", "{\"version\":\"" FAIRGATE_VERSION "\"}");
    e = e ? e
          : audit_append_json(a, "gateway", "policy.loaded",
                              "{\"policy\":\"factory-default\",\"version\":3,\"signers\":["
                              "\"employer\",\"works-council\"]}");
    long n = o.events > 0 ? (long)o.events : 100;
    for (long i = 0; i < n && e == FG_OK; i++) {
        char obj[1024], dig[65];
        unsigned char h[32];
        crypto_generichash(h, 32, (unsigned char *)&i, sizeof i, NULL, 0);
        sodium_bin2hex(dig, sizeof dig, h, 32);
        if (i % 97 == 50)
            e = audit_append_json(a, "works-council", "reidentify",
                                  "{\"route\":\"man-down\",\"epoch\":12,\"reason\":\"fall "
                                  "incident follow-up\",\"result\":\"granted\"}");
        else if (i % 53 == 20)
            e = audit_append_json(a, "gateway", "outbox.purged",
                                  "{\"route\":\"climate\",\"destination\":\"bms/climate\","
                                  "\"count\":3,\"reason\":\"retention\"}");
        else {
            snprintf(obj, sizeof obj, flows[i % 3], 1 + (i * 7) % 40, dig);
            e = audit_append_json(a, "gateway", "flow.summary", obj);
        }
        if (e == FG_OK && o.rotate_every > 0 && (i + 1) % o.rotate_every == 0)
            e = audit_rotate_epoch(a);
        if (i % 64 == 0)
            audit_tick(a, fg_monotonic_ms());
        if (o.delay_us > 0)
            usleep((useconds_t)o.delay_us);
    }
    if (e == FG_OK)
        e = audit_append_json(a, "gateway", "gateway.stop", NULL);
    audit_close(a);
    if (e != FG_OK) {
        fprintf(stderr, "fg_audit_writer: %s\n", fg_strerror(e));
        return 1;
    }
    return 0;
}
