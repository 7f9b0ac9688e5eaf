/* fairgate replay: runs a policy offline over recorded telemetry (JSON lines)
 * and prints exactly the messages that would leave, then (on stderr, so the
 * output stays JSON lines) what was dropped and suppressed, and why. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fg_command.h"
#include "common/fg_json.h"
#include "common/fg_util.h"
#include "policy/policy.h"
#include "cli/policy_cli.h"

#define MAX_LINE (1 << 20)
#define MAX_SENSOR_DIRS 8

struct replay {
    uint64_t lines, left, bad_line, no_route, decode_err[FG_ERR__COUNT], apply_err;
    FILE *out;
};

static fg_err print_output(void *ctx, const struct policy_output *o)
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

static void usage(FILE *f)
{
    fprintf(f,
            "usage: fairgate replay --policy FILE [--sensors DIR]... [--keys DIR] [--site NAME]\n"
            "                       < telemetry.jsonl\n\n"
            "Runs the policy offline over recorded telemetry, one JSON object per line:\n"
            "  {\"topic\": \"raw/uwb-badge/t1\", \"time\": \"2026-11-27T08:00:00Z\", "
            "\"payload\": \"{...}\"}\n"
            "(payload_b64 instead of payload for binary; time optional: else the record's own\n"
            "timestamp field drives the clock). Prints every message that would leave as a JSON\n"
            "line {topic, payload, route, purpose} on stdout, then a summary on stderr of what\n"
            "was dropped (by reason) and suppressed. Pseudonym keys live in a temporary\n"
            "directory that is removed afterwards, unless --keys names one.\n");
}

static int64_t record_time(const struct sensor_record *rec)
{
    const struct sensor_type *t = rec->type;
    for (size_t i = 0; i < t->nfields; i++)
        if (t->fields[i].type == SENSOR_TIMESTAMP && rec->values[i].present)
            return rec->values[i].v.i;
    return INT64_MIN;
}

static int replay_main(int argc, char **argv)
{
    static const struct option lo[] = {
        {"policy", required_argument, 0, 'p'}, {"sensors", required_argument, 0, 's'},
        {"keys", required_argument, 0, 'k'},   {"site", required_argument, 0, 'S'},
        {"help", no_argument, 0, 'h'},         {0, 0, 0, 0}};
    const char *policy_file = NULL, *keys_dir = NULL, *site = "site";
    const char *dirs[MAX_SENSOR_DIRS];
    size_t ndirs = 0;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        switch (c) {
        case 'p':
            policy_file = optarg;
            break;
        case 's':
            if (ndirs == MAX_SENSOR_DIRS) {
                fprintf(stderr, "replay: too many --sensors\n");
                return 2;
            }
            dirs[ndirs++] = optarg;
            break;
        case 'k':
            keys_dir = optarg;
            break;
        case 'S':
            site = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!policy_file || optind != argc) {
        usage(stderr);
        return 2;
    }
    if (sodium_init() < 0)
        return 1;
    struct sensor_registry *reg;
    if (policy_cli_registry(dirs, ndirs, &reg))
        return 1;
    char why[1024] = "";
    struct policy *p = NULL;
    if (policy_load_file(policy_file, reg, site, &p, why, sizeof why)) {
        fprintf(stderr, "error: %s\n", why);
        sensor_registry_free(reg);
        return 1;
    }
    char tmpdir[] = "/tmp/fairgate-replay.XXXXXX";
    bool own_keys = !keys_dir;
    if (own_keys && !(keys_dir = mkdtemp(tmpdir))) {
        perror("replay: temporary key directory");
        policy_free(p);
        sensor_registry_free(reg);
        return 1;
    }
    struct pseudonym_keyring *keys = NULL;
    if (pseudonym_keyring_open(keys_dir, policy_rotate_ms(p), policy_keep_keys_ms(p), &keys, why,
                               sizeof why)) {
        fprintf(stderr, "replay: %s\n", why);
        if (own_keys)
            rm_keydir(keys_dir);
        policy_free(p);
        sensor_registry_free(reg);
        return 1;
    }
    static struct sensor_record rec;
    struct replay rp = {.out = stdout};
    char *line = malloc(MAX_LINE);
    unsigned char *bin = malloc(MAX_LINE);
    int64_t clock = INT64_MIN;
    int rc = 0;
    bool expired_said = false;
    while (line && bin && fgets(line, MAX_LINE, stdin)) {
        rp.lines++;
        size_t ll = strlen(line);
        while (ll && (line[ll - 1] == '\n' || line[ll - 1] == '\r'))
            line[--ll] = '\0';
        if (!ll)
            continue;
        cJSON *j = cJSON_ParseWithLength(line, ll);
        const cJSON *jt = j ? cJSON_GetObjectItemCaseSensitive(j, "topic") : NULL;
        const cJSON *jp = j ? cJSON_GetObjectItemCaseSensitive(j, "payload") : NULL;
        const cJSON *jb = j ? cJSON_GetObjectItemCaseSensitive(j, "payload_b64") : NULL;
        const cJSON *jtime = j ? cJSON_GetObjectItemCaseSensitive(j, "time") : NULL;
        const unsigned char *payload = NULL;
        size_t plen = 0;
        if (cJSON_IsString(jp)) {
            payload = (const unsigned char *)jp->valuestring;
            plen = strlen(jp->valuestring);
        } else if (cJSON_IsString(jb) &&
                   sodium_base642bin(bin, MAX_LINE, jb->valuestring, strlen(jb->valuestring), NULL,
                                     &plen, NULL, sodium_base64_VARIANT_ORIGINAL) == 0)
            payload = bin;
        int64_t t = INT64_MIN;
        if (cJSON_IsString(jtime) &&
            !fg_parse_time(jtime->valuestring, strlen(jtime->valuestring), &t))
            t = INT64_MIN;
        if (!cJSON_IsString(jt) || !payload || (jtime && t == INT64_MIN)) {
            rp.bad_line++;
            cJSON_Delete(j);
            continue;
        }
        fg_err e = sensor_decode(reg, jt->valuestring, payload, plen, &rec, why, sizeof why);
        cJSON_Delete(j);
        if (e) {
            rp.decode_err[e < FG_ERR__COUNT ? e : 0]++;
            continue;
        }
        if (t == INT64_MIN)
            t = record_time(&rec);
        if (t == INT64_MIN)
            t = clock == INT64_MIN ? fg_now_ms() : clock;
        if (t > clock)
            clock = t; /* the clock never runs backwards: windows close in order */
        rec.received_ms = clock;
        if (!expired_said && policy_expired(p, clock)) {
            fprintf(stderr, "replay: the policy has expired at this time: nothing leaves\n");
            expired_said = true;
        }
        if (pseudonym_keyring_tick(keys, clock) != FG_OK ||
            policy_tick(p, clock, false, print_output, &rp) != FG_OK) {
            rc = 1;
            break;
        }
        int emitted = 0;
        if (!policy_reads_type(p, rec.type))
            rp.no_route++;
        else if (policy_apply(p, keys, &rec, clock, print_output, &rp, &emitted) != FG_OK)
            rp.apply_err++;
        sodium_memzero(rec.arena, rec.arena_used);
    }
    if (policy_tick(p, clock == INT64_MIN ? fg_now_ms() : clock, true, print_output, &rp))
        rc = 1;
    fflush(stdout);
    /* summary */
    fprintf(stderr, "replay: %llu line(s) read, %llu message(s) would leave\n",
            (unsigned long long)rp.lines, (unsigned long long)rp.left);
    fprintf(stderr, "dropped:\n");
    if (rp.bad_line)
        fprintf(stderr, "  %llu not a telemetry line (JSON with topic and payload)\n",
                (unsigned long long)rp.bad_line);
    for (int i = 1; i < FG_ERR__COUNT; i++)
        if (rp.decode_err[i])
            fprintf(stderr, "  %llu rejected at decode: %s\n", (unsigned long long)rp.decode_err[i],
                    fg_strerror((fg_err)i));
    if (rp.no_route)
        fprintf(stderr, "  %llu of a sensor type no route reads\n",
                (unsigned long long)rp.no_route);
    if (rp.apply_err)
        fprintf(stderr, "  %llu refused by the policy engine (error)\n",
                (unsigned long long)rp.apply_err);
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
    free(line);
    free(bin);
    pseudonym_keyring_close(keys);
    if (own_keys)
        rm_keydir(keys_dir);
    policy_free(p);
    sensor_registry_free(reg);
    return rc;
}

const struct fg_command fg_cmd_replay = {
    .name = "replay",
    .summary = "run a policy offline over recorded telemetry and show what would leave",
    .main = replay_main,
};
