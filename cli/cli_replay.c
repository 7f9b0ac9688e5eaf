/* fairgate replay: runs a policy offline over recorded telemetry (JSON lines)
 * and prints exactly the messages that would leave, then (on stderr, so the
 * output stays JSON lines) what was dropped and suppressed, and why. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fg_command.h"
#include "common/fg_json.h"
#include "common/fg_opt.h"
#include "common/fg_util.h"
#include "cli/sensor_opts.h"
#include "pipeline/pipeline.h"
#include "policy/policy.h"

#define MAX_LINE (1 << 20)

struct replay {
    uint64_t lines, left, bad_line, no_route, decode_err[FG_ERR__COUNT], apply_err;
    FILE *out;
};

static fg_err print_output(void *ctx, const struct fg_message *o)
{
    struct replay *rp = ctx;
    size_t cap = o->len * 6 + 1024;
    char *line = malloc(cap); /* offline tool: allocation per output is fine here */
    if (!line)
        return FG_ERR_NOMEM;
    struct fg_jw w;
    fg_jw_init(&w, line, cap);
    fg_jw_obj_open(&w);
    fg_jw_key(&w, "topic");
    fg_jw_cstr(&w, o->topic);
    fg_jw_key(&w, "payload");
    fg_jw_str(&w, o->payload, o->len);
    fg_jw_key(&w, "route");
    fg_jw_cstr(&w, o->route);
    fg_jw_key(&w, "purpose");
    fg_jw_cstr(&w, o->purpose);
    fg_jw_obj_close(&w);
    fg_err e = fg_jw_finish(&w) ? FG_OK : FG_ERR_TOO_BIG;
    if (!e)
        fprintf(rp->out, "%s\n", line);
    free(line);
    rp->left++;
    return e;
}

static void rm_keydir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *de;
        char path[4096];
        while ((de = readdir(d)))
            if (de->d_name[0] != '.') {
                snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
                unlink(path);
            }
        closedir(d);
    }
    rmdir(dir);
}

struct replay_opts {
    const char *policy, *keys, *site;
    struct cli_sensor_opts sensors;
};
static const struct fg_opt replay_table[] = {
    FG_OPT_STR(struct replay_opts, policy, "policy", 'p', "FILE", "the policy to apply (required)"),
    CLI_SENSOR_OPTS(struct replay_opts, sensors),
    FG_OPT_STR(struct replay_opts, keys, "keys", 0, "DIR",
               "pseudonym key directory to use and keep (default: a temporary one)"),
    FG_OPT_STR(struct replay_opts, site, "site", 0, "NAME", "the site name (default site)"),
};
static const struct fg_opt_cmd replay_cmd = {
    "fairgate replay",
    "--policy FILE [--sensors DIR]... [--keys DIR] [--site NAME]\n< telemetry.jsonl",
    "Runs the policy offline over recorded telemetry, one JSON object per line:\n"
    "  {\"topic\": \"raw/uwb-badge/t1\", \"time\": \"2026-11-27T08:00:00Z\", \"payload\": "
    "\"{...}\"}\n"
    "(payload_b64 instead of payload for binary; time optional: else the record's own\n"
    "timestamp field drives the clock). Prints every message that would leave as a JSON\n"
    "line {topic, payload, route, purpose} on stdout, then a summary on stderr of what\n"
    "was dropped (by reason) and suppressed. Pseudonym keys live in a temporary\n"
    "directory that is removed afterwards, unless --keys names one.",
    replay_table,
    FG_OPT_N(replay_table),
    0,
    0};

/* The pipeline counts every rejection; the replay keeps decode errors by
 * their cause, for a summary an integrator can act on. */
static void on_reject(void *ctx, pipeline_reject r, fg_err cause, const char *why)
{
    struct replay *rp = ctx;
    (void)why;
    if (r == PIPE_REJ_NO_ROUTE)
        rp->no_route++;
    else if (r == PIPE_REJ_POLICY_ERROR || r == PIPE_REJ_INVALID_TEXT || r == PIPE_REJ_OVERFLOW)
        rp->apply_err++;
    else if (r != PIPE_REJ_NO_POLICY)
        rp->decode_err[cause > 0 && cause < FG_ERR__COUNT ? cause : FG_ERR_PARSE]++;
}

static const struct pipeline_observer replay_observer = {.emit = print_output, .reject = on_reject};

/* What one replay run holds: the policy, its keys, the clock. */
struct run {
    struct sensor_registry *reg;
    struct policy *p;
    struct pseudonym_keyring *keys;
    const char *keys_dir;
    char tmpdir[64];
    bool own_keys, expired_said;
    struct pipeline *pl; /* owns the policy once set */
    unsigned char *bin;  /* decoded payload_b64 */
    struct replay rp;
};

/* Loads the sensor types, the policy and its keys. Returns 0 or an exit code. */
static int run_open(struct run *r, const struct replay_opts *o)
{
    char why[1024] = "";
    if (sodium_init() < 0)
        return 1;
    if (cli_sensor_registry("replay", &o->sensors, &r->reg))
        return 1;
    if (policy_load_file(o->policy, r->reg, o->site, &r->p, why, sizeof why)) {
        fprintf(stderr, "error: %s\n", why);
        return 1;
    }
    snprintf(r->tmpdir, sizeof r->tmpdir, "/tmp/fairgate-replay.XXXXXX");
    r->keys_dir = o->keys;
    r->own_keys = !o->keys;
    if (r->own_keys && !(r->keys_dir = mkdtemp(r->tmpdir))) {
        r->own_keys = false;
        perror("replay: temporary key directory");
        return 1;
    }
    if (pseudonym_keyring_open(r->keys_dir, policy_rotate_ms(r->p), policy_keep_keys_ms(r->p),
                               &r->keys, why, sizeof why)) {
        fprintf(stderr, "replay: %s\n", why);
        return 1;
    }
    struct pipeline_options po = {.sensors = r->reg,
                                  .keys = r->keys,
                                  .obs = &replay_observer,
                                  .ctx = &r->rp,
                                  .replay_clock = true};
    if (pipeline_new(&po, &r->pl) != FG_OK) {
        fprintf(stderr, "replay: out of memory\n");
        return 1;
    }
    if (pipeline_set_policy(r->pl, r->p, fg_now_ms()) != FG_OK)
        return 1;
    return 0;
}

static void run_close(struct run *r)
{
    if (r->pl)
        pipeline_free(r->pl); /* and the policy */
    else
        policy_free(r->p);
    pseudonym_keyring_close(r->keys);
    if (r->own_keys)
        rm_keydir(r->keys_dir);
    sensor_registry_free(r->reg);
    free(r->bin);
}

/* One telemetry line into topic, payload and time (INT64_MIN: none given);
 * false when it is not a telemetry line. *j must be freed by the caller. */
static bool parse_line(struct run *r, const char *line, size_t ll, cJSON **j, const char **topic,
                       const unsigned char **payload, size_t *plen, int64_t *t)
{
    *j = cJSON_ParseWithLength(line, ll);
    const cJSON *jt = *j ? cJSON_GetObjectItemCaseSensitive(*j, "topic") : NULL;
    const cJSON *jp = *j ? cJSON_GetObjectItemCaseSensitive(*j, "payload") : NULL;
    const cJSON *jb = *j ? cJSON_GetObjectItemCaseSensitive(*j, "payload_b64") : NULL;
    const cJSON *jtime = *j ? cJSON_GetObjectItemCaseSensitive(*j, "time") : NULL;
    *payload = NULL;
    *plen = 0;
    if (cJSON_IsString(jp)) {
        *payload = (const unsigned char *)jp->valuestring;
        *plen = strlen(jp->valuestring);
    } else if (cJSON_IsString(jb) &&
               sodium_base642bin(r->bin, MAX_LINE, jb->valuestring, strlen(jb->valuestring), NULL,
                                 plen, NULL, sodium_base64_VARIANT_ORIGINAL) == 0)
        *payload = r->bin;
    *t = INT64_MIN;
    if (cJSON_IsString(jtime) && !fg_parse_time(jtime->valuestring, strlen(jtime->valuestring), t))
        *t = INT64_MIN;
    *topic = cJSON_IsString(jt) ? jt->valuestring : NULL;
    return *topic && *payload && !(jtime && *t == INT64_MIN);
}

/* One line of input; returns nonzero when the run must stop. The pipeline's
 * replay clock: this line's time, else the record's timestamp, else the last
 * time seen; it never runs backwards, so windows close in order. */
static int replay_line(struct run *r, const char *line, size_t ll)
{
    cJSON *j;
    const char *topic;
    const unsigned char *payload;
    size_t plen;
    int64_t t;
    if (!parse_line(r, line, ll, &j, &topic, &payload, &plen, &t)) {
        r->rp.bad_line++;
        cJSON_Delete(j);
        return 0;
    }
    pipeline_reject rej;
    fg_err e = pipeline_input(r->pl, topic, payload, plen, t, &rej, NULL);
    cJSON_Delete(j);
    int64_t clock = pipeline_clock(r->pl);
    if (!r->expired_said && rej != PIPE_REJ_UNKNOWN_TOPIC && clock != PIPELINE_TIME_UNKNOWN &&
        policy_expired(r->p, clock)) {
        fprintf(stderr, "replay: the policy has expired at this time: nothing leaves\n");
        r->expired_said = true;
    }
    return e != FG_OK;
}

static void print_route_stats(const struct policy *p)
{
    for (size_t i = 0; i < policy_route_count(p); i++) {
        struct policy_route_stats st;
        policy_route_stats(p, i, &st);
        fprintf(stderr,
                "route %s: %llu read, %llu not matching 'when', %llu left, %llu too late for "
                "their window\n",
                st.name, (unsigned long long)st.matched, (unsigned long long)st.filtered,
                (unsigned long long)st.emitted, (unsigned long long)st.late);
        if (st.groups_published || st.groups_suppressed || st.groups_secondary ||
            st.totals_published || st.totals_suppressed)
            fprintf(
                stderr,
                "  groups: %llu published, %llu suppressed (below min_group or overflow), "
                "%llu suppressed to protect them (secondary); totals: %llu published, %llu "
                "suppressed; %llu record(s) in overflow groups\n",
                (unsigned long long)st.groups_published, (unsigned long long)st.groups_suppressed,
                (unsigned long long)st.groups_secondary, (unsigned long long)st.totals_published,
                (unsigned long long)st.totals_suppressed, (unsigned long long)st.overflow_records);
        if (st.zones_other)
            fprintf(stderr, "  %llu zone value(s) not in the site's list sent as \"other\"\n",
                    (unsigned long long)st.zones_other);
    }
}

static void print_summary(const struct replay *rp, const struct policy *p)
{
    fprintf(stderr, "replay: %llu line(s) read, %llu message(s) would leave\n",
            (unsigned long long)rp->lines, (unsigned long long)rp->left);
    bool any_dropped = rp->bad_line || rp->no_route || rp->apply_err;
    for (int i = 1; i < FG_ERR__COUNT; i++)
        any_dropped = any_dropped || rp->decode_err[i];
    if (any_dropped)
        fprintf(stderr, "dropped:\n");
    if (rp->bad_line)
        fprintf(stderr, "  %llu not a telemetry line (JSON with topic and payload)\n",
                (unsigned long long)rp->bad_line);
    for (int i = 1; i < FG_ERR__COUNT; i++)
        if (rp->decode_err[i])
            fprintf(stderr, "  %llu rejected at decode: %s\n",
                    (unsigned long long)rp->decode_err[i], fg_strerror((fg_err)i));
    if (rp->no_route)
        fprintf(stderr, "  %llu of a sensor type no route reads\n",
                (unsigned long long)rp->no_route);
    if (rp->apply_err)
        fprintf(stderr, "  %llu refused by the policy engine (error)\n",
                (unsigned long long)rp->apply_err);
    print_route_stats(p);
}

static int replay_main(int argc, char **argv)
{
    struct replay_opts o = {.site = "site"};
    int prc = fg_opt_parse(&replay_cmd, argc, argv, &o, NULL, NULL);
    if (prc != FG_OPT_OK)
        return fg_opt_exit(prc);
    if (!o.policy)
        return fg_opt_error(&replay_cmd, "--policy FILE is required");
    struct run r = {.rp = {.out = stdout}};
    char *line = malloc(MAX_LINE);
    r.bin = malloc(MAX_LINE);
    int rc = line && r.bin ? run_open(&r, &o) : 1;
    bool opened = rc == 0;
    while (!rc && fgets(line, MAX_LINE, stdin)) {
        r.rp.lines++;
        size_t ll = strlen(line);
        while (ll && (line[ll - 1] == '\n' || line[ll - 1] == '\r'))
            line[--ll] = '\0';
        if (ll)
            rc = replay_line(&r, line, ll);
    }
    if (opened) {
        int64_t clock = pipeline_clock(r.pl);
        if (pipeline_tick(r.pl, clock == PIPELINE_TIME_UNKNOWN ? fg_now_ms() : clock, true))
            rc = 1;
        fflush(stdout);
        print_summary(&r.rp, r.p);
    }
    free(line);
    run_close(&r);
    return rc;
}

const struct fg_command fg_cmd_replay = {
    .name = "replay",
    .summary = "run a policy offline over recorded telemetry and show what would leave",
    .main = replay_main,
};
