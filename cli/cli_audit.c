/* fairgate audit init|verify|show|export|report|prune: a thin CLI over audit/audit.h. */
#include <errno.h>
#include <sodium.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/wc_options.h"
#include "common/fg_command.h"
#include "common/fg_opt.h"
#include "common/fg_util.h"
#include "audit/audit.h"
#include "audit/inbox.h"

/* Exit codes of verify (documented in docs/audit.md). */
enum { EXIT_INTACT = 0, EXIT_DAMAGED = 1, EXIT_USAGE = 2, EXIT_TORN = 3 };

struct opts {
    const char *log, *state, *key, *witness, *html, *format, *out, *pub, *as;
    const char *since, *until, *route, *action, *actor, *before, *gap, *lang, *to, *config;
    bool update_witness, quiet, allow_legacy;
    int cp_every;
};

#define T struct opts
/* LOG is positional; --log LOG is kept as an old spelling. */
#define OPT_LOG FG_OPT_STR(T, log, "log", 0, "FILE", NULL)
#define OPT_STATE_AS(what)                                                                         \
    FG_OPT_STR(T, state, "state", 0, "DIR",                                                        \
               "record this " what " in the log (as audit." what ")"),                             \
        FG_OPT_STR(T, as, "as", 0, "ACTOR", "who reads, with --state (default operator)")
#define OPT_FILTERS                                                                                \
    FG_OPT_STR(T, since, "since", 0, "T", "events at or after T (RFC 3339 or YYYY-MM-DD, UTC)"),   \
        FG_OPT_STR(T, until, "until", 0, "T", "events before T"),                                  \
        FG_OPT_STR(T, route, "route", 0, "R", "events of route R"),                                \
        FG_OPT_STR(T, action, "action", 0, "A", "events of action A (e.g. flow.summary)"),         \
        FG_OPT_STR(T, actor, "actor", 0, "A", "events by actor A")

static const struct fg_opt init_table[] = {
    FG_OPT_STR(T, state, "state", 0, "DIR", "the audit state directory (signing keys)"),
    FG_OPT_STR(T, log, "log", 0, "FILE", "the audit log to create"),
    FG_OPT_STR(T, pub, "pub", 0, "FILE", "also write the first public key (hex) to FILE"),
    FG_OPT_INT(T, cp_every, "checkpoint-every", 0, "N",
               "the sealing bound this log states for ever: a checkpoint at least every N "
               "events (default 1000)",
               1, 1000000),
};
static const struct fg_opt verify_table[] = {
    OPT_LOG,
    FG_OPT_STR(T, key, "key", 0, "PUBKEY_FILE", "the first public key"),
    FG_OPT_STR(T, witness, "witness", 0, "FILE", "the last checkpoint you accepted"),
    FG_OPT_FLAG(T, update_witness, "update-witness", 0, "move the witness to this checkpoint"),
    FG_OPT_FLAG(T, allow_legacy, "allow-legacy", 0,
                "accept the chain of a log written before sealing bounds existed (says what it "
                "cannot detect)"),
    FG_OPT_FLAG(T, quiet, "quiet", 'q', "print only problems"),
};
static const struct fg_opt show_table[] = {OPT_LOG, OPT_FILTERS, OPT_STATE_AS("read")};
static const struct fg_opt export_table[] = {
    OPT_LOG,
    FG_OPT_CHOICE(T, format, "format", 0, "csv|json", "the output format"),
    FG_OPT_STR(T, out, "out", 0, "FILE", "write there instead of to stdout"),
    OPT_FILTERS,
    OPT_STATE_AS("export"),
};
static const struct fg_opt report_table[] = {
    OPT_LOG,
    FG_OPT_STR(T, key, "key", 0, "PUBKEY", "the first public key"),
    FG_OPT_STR(T, html, "html", 0, "OUT", "the HTML file to write"),
    FG_OPT_STR(T, to, "to", 0, "DIR",
               "write DIR/audit-report-LANG.html for en, nl and de and DIR/verification.txt "
               "(verdict and key fingerprint), as the gateway does"),
    FG_OPT_CHOICE(T, lang, "lang", 0, "en|nl|de",
                  "the report's language (default from "
                  "FAIRGATE_LANG or LANG, else en)"),
    FG_OPT_STR(T, witness, "witness", 0, "FILE", "the last checkpoint you accepted"),
    FG_OPT_STR(T, gap, "gap", 0, "DURATION", "list silences longer than this (default 1h)"),
    FG_OPT_FLAG(T, allow_legacy, "allow-legacy", 0,
                "exit 0 for a log written before sealing bounds existed, as in verify"),
    FG_OPT_STR(T, config, "config", 'c', "FAIRGATE_YAML",
               "the gateway's configuration: the report then says, route by route, how coarse "
               "the data is under the policy it names"),
    FG_OPT_FLAG(T, quiet, "quiet", 'q', "print nothing on success"),
    OPT_STATE_AS("report"),
};
static const struct fg_opt prune_table[] = {
    OPT_LOG,
    FG_OPT_STR(T, before, "before", 0, "DATE",
               "delete events before the first checkpoint after DATE"),
    FG_OPT_STR(T, state, "state", 0, "DIR", "the audit state directory"),
    FG_OPT_STR(T, key, "key", 0, "PUBKEY", "the first public key (default DIR/audit-first.pub)"),
};
#undef T

static const struct fg_opt_cmd init_cmd = {
    "fairgate audit init",
    "--state DIR --log FILE [--pub FILE] [--checkpoint-every N]",
    "Creates the audit log and its first signing key. Prints the first public key\n"
    "and its fingerprint: give both to the works council, who verify with it.",
    init_table,
    FG_OPT_N(init_table),
    0,
    1};
static const struct fg_opt_cmd verify_cmd = {
    "fairgate audit verify",
    "LOG --key PUBKEY_FILE [--witness FILE] [--update-witness] [--allow-legacy] [--quiet]",
    "Checks JSON, sequence, hash chain, checkpoint signatures and key hand-overs\n"
    "from the first public key. With a witness (the last checkpoint you accepted)\n"
    "also checks that the log extends it. Prints the first bad line and the kind:\n"
    "edited, inserted, deleted, reordered, truncated, rolled back, forked,\n"
    "re-signed with a later key, wrong key, seals missing (more lines or time\n"
    "without a checkpoint or key hand-over than the bounds on line 1 allow),\n"
    "legacy log (no bounds: exit 1 unless --allow-legacy).\n"
    "exit: 0 intact, 1 damaged, 2 usage or unreadable, 3 only a torn last line",
    verify_table,
    FG_OPT_N(verify_table),
    0,
    1};
static const struct fg_opt_cmd show_cmd = {
    "fairgate audit show",
    "LOG [--since T] [--until T] [--route R] [--action A]\n[--actor A] [--state DIR [--as ACTOR]]",
    "Prints events as an aligned table. Times are RFC 3339 or YYYY-MM-DD (UTC).\n"
    "With --state the read itself is appended to the log as audit.read.",
    show_table,
    FG_OPT_N(show_table),
    0,
    1};
static const struct fg_opt_cmd export_cmd = {
    "fairgate audit export",
    "LOG --format csv|json [--out FILE] [filters of show]\n[--state DIR [--as ACTOR]]",
    "csv columns: seq,time,actor,action,route,destination,purpose,categories,count,object\n"
    "(categories joined with ';'). json: an array of the events as logged.\n"
    "With --state the export itself is appended to the log as audit.export.",
    export_table,
    FG_OPT_N(export_table),
    0,
    1};
static const struct fg_opt_cmd report_cmd = {
    "fairgate audit report",
    "LOG --key PUBKEY (--html OUT | --to DIR) [--lang en|nl|de]\n[--witness FILE] [--gap DURATION] "
    "[--state DIR [--as ACTOR]]",
    "Writes one self-contained HTML file for a works council meeting: a first page\n"
    "in plain words (what left the site, purposes, who looked at whom and why, what\n"
    "was refused, what weakened co-determination, whether the log is intact), charts\n"
    "per day and per route, then every event in words. Printable on A4.\n"
    "exit: 0 intact, 1 damaged (the report says so), 2 usage or unreadable,\n"
    "3 intact except a torn last line",
    report_table,
    FG_OPT_N(report_table),
    0,
    1};
static const struct fg_opt_cmd prune_cmd = {
    "fairgate audit prune",
    "LOG --before DATE --state DIR [--key PUBKEY]",
    "Deletes events before the first checkpoint at or after DATE and writes an\n"
    "anchor line on top: the works council's first public key still verifies.\n"
    "The log must verify first (--key defaults to DIR/audit-first.pub). Run it\n"
    "with the daemon stopped. The prune itself is audited.",
    prune_table,
    FG_OPT_N(prune_table),
    0,
    1};

/* Parses the options and the one positional LOG; returns FG_OPT_OK or the parse result. */
static int parse(const struct fg_opt_cmd *c, int argc, char **argv, struct opts *o)
{
    char **args;
    int n;
    int rc = fg_opt_parse(c, argc, argv, o, &args, &n);
    if (rc == FG_OPT_OK && n == 1) {
        if (o->log)
            return fg_opt_error(c, "the log is named twice ('%s' and '%s')", o->log, args[0]);
        o->log = args[0];
    }
    return rc;
}

static bool need(const char *v, const char *what, const char *cmd)
{
    if (!v)
        fprintf(stderr, "fairgate audit %s: %s is required (see --help)\n", cmd, what);
    return v != NULL;
}

static bool load_key(const char *path, unsigned char pk[32])
{
    fg_err e = audit_load_pubkey(path, pk);
    if (e != FG_OK)
        fprintf(stderr, "fairgate audit: cannot read public key %s: %s\n", path, fg_strerror(e));
    return e == FG_OK;
}

/* Reading is audited: with --state the read is appended under the current key. */
static int record_read(const struct opts *o, const char *action, cJSON *obj)
{
    if (!o->state) {
        cJSON_Delete(obj);
        return 0;
    }
    /* Through the running gateway when it holds the log, else directly. */
    char why[512] = "";
    fg_err e = audit_submit(o->log, o->state, o->as ? o->as : "operator", action, obj, 5000, why,
                            sizeof why);
    cJSON_Delete(obj);
    if (e != FG_OK) {
        fprintf(stderr, "fairgate audit: could not record this read in %s: %s\n", o->log,
                why[0] ? why : fg_strerror(e));
        return 1;
    }
    return 0;
}

/* ---- init ----------------------------------------------------------------------- */

static int cmd_init(int argc, char **argv)
{
    struct opts o = {0};
    int prc = parse(&init_cmd, argc, argv, &o);
    if (prc != FG_OPT_OK)
        return fg_opt_exit(prc);
    if (!need(o.state, "--state DIR", "init") || !need(o.log, "--log FILE", "init"))
        return EXIT_USAGE;
    struct stat st;
    if (stat(o.log, &st) == 0 && st.st_size > 0) {
        fprintf(stderr, "fairgate audit init: %s already exists; refusing to start a new log\n",
                o.log);
        return 1;
    }
    /* --checkpoint-every N: the sealing bound this log states for ever (default 1000) */
    struct audit_options ao = {
        .log_path = o.log, .state_dir = o.state, .checkpoint_every_events = (int)o.cp_every};
    struct audit *a;
    char why[512] = "";
    fg_err e = audit_open(&ao, &a, why, sizeof why);
    if (e != FG_OK) {
        fprintf(stderr, "fairgate audit init: %s\n", why[0] ? why : fg_strerror(e));
        return 1;
    }
    unsigned char pk[32];
    audit_first_pubkey(a, pk);
    audit_close(a);
    char hex[65], b64[64], fp[32], pubpath[4096];
    sodium_bin2hex(hex, sizeof hex, pk, 32);
    sodium_bin2base64(b64, sizeof b64, pk, 32, sodium_base64_VARIANT_ORIGINAL);
    audit_fingerprint(pk, fp, sizeof fp);
    snprintf(pubpath, sizeof pubpath, "%s/audit-first.pub", o.state);
    if (o.pub) {
        char line[80];
        int n = snprintf(line, sizeof line, "%s\n", hex);
        if (fg_write_file_atomic(o.pub, line, (size_t)n, 0644) != FG_OK) {
            fprintf(stderr, "fairgate audit init: cannot write %s\n", o.pub);
            return 1;
        }
        snprintf(pubpath, sizeof pubpath, "%s", o.pub);
    }
    printf("audit log:        %s\n"
           "first public key: %s\n"
           "         base64:  %s\n"
           "fingerprint:      %s\n"
           "public key file:  %s\n\n"
           "Give the key file to the works council and read the fingerprint aloud;\n"
           "they verify with: fairgate audit verify %s --key %s --witness WITNESS "
           "--update-witness\n",
           o.log, hex, b64, fp, pubpath, o.log, pubpath);
    return 0;
}

/* ---- verify ----------------------------------------------------------------------- */

static void print_result(const char *log, const struct audit_verify_result *r, bool quiet,
                         bool legacy_ok)
{
    if (r->ok || legacy_ok) {
        if (!quiet)
            printf("%s: %s: %zu events, %zu checkpoints, %zu key hand-overs, epoch %llu%s\n", log,
                   legacy_ok ? "chain intact (LEGACY LOG)" : "intact", r->events, r->checkpoints,
                   r->handovers, (unsigned long long)r->epoch,
                   r->anchored ? " (pruned; anchor verified)" : "");
        if (!quiet && legacy_ok)
            printf("%s: WARNING: no sealing bounds: checkpoints or hand-overs removed by "
                   "someone without a key would NOT be detected\n",
                   log);
        if (!quiet && !legacy_ok)
            printf("%s: sealing bounds: a checkpoint at least every %llu lines and every %lld "
                   "s, a new key at least every %lld s\n",
                   log, (unsigned long long)r->bounds.events,
                   (long long)(r->bounds.interval_ms / 1000),
                   (long long)(r->bounds.rotate_ms / 1000));
        if (!quiet && r->unsealed)
            printf("%s: %zu unsealed line(s) since %s, after the last checkpoint (%s): chained, "
                   "not yet signed; anyone with the file could still change them\n",
                   log, r->unsealed, r->unsealed_since,
                   r->last_seal_time[0] ? r->last_seal_time : "none");
        else if (!quiet)
            printf("%s: everything is sealed (last checkpoint %s)\n", log, r->last_seal_time);
        int64_t since = 0;
        if (!quiet && r->unsealed && !legacy_ok &&
            fg_parse_time(r->unsealed_since, strlen(r->unsealed_since), &since) &&
            fg_now_ms() - since > r->bounds.interval_ms)
            printf("%s: note: the unsealed lines are older than the checkpoint interval: a "
                   "running writer would have sealed them, so the writer crashed and has not "
                   "restarted, or they were rewritten\n",
                   log);
        return;
    }
    printf("%s: line %zu: %s: %s\n", log, r->bad_line, audit_damage_str(r->damage), r->detail);
    if (r->torn_tail)
        printf("%s: every complete line verifies (%zu events); the next open repairs the "
               "tail\n",
               log, r->events);
}

static int cmd_verify(int argc, char **argv)
{
    struct opts o = {0};
    int prc = parse(&verify_cmd, argc, argv, &o);
    if (prc != FG_OPT_OK)
        return fg_opt_exit(prc);
    if (!need(o.log, "LOG", "verify") || !need(o.key, "--key PUBKEY_FILE", "verify"))
        return EXIT_USAGE;
    unsigned char pk[32];
    if (!load_key(o.key, pk))
        return EXIT_USAGE;
    const char *w = o.witness;
    if (w && o.update_witness && access(w, F_OK) != 0) {
        if (!o.quiet)
            printf("%s: no witness yet; it will be created\n", w);
        w = NULL;
    }
    struct audit_verify_result r;
    fg_err e = audit_verify_file(o.log, pk, w, &r);
    if (e != FG_OK) {
        fprintf(stderr, "fairgate audit verify: cannot read %s: %s\n",
                e == FG_ERR_NOT_FOUND ? (w && access(w, F_OK) != 0 ? w : o.log) : o.log,
                fg_strerror(e));
        return EXIT_USAGE;
    }
    /* A legacy log passes only when asked for explicitly, and says what it lacks. */
    bool legacy_ok = !r.ok && r.damage == AUDIT_LEGACY && o.allow_legacy;
    print_result(o.log, &r, o.quiet, legacy_ok);
    if (!r.ok && r.damage == AUDIT_LEGACY && !o.allow_legacy)
        printf("%s: to accept the chain of a log written before sealing bounds existed, run "
               "again with --allow-legacy\n",
               o.log);
    if (r.ok && o.witness && w && !r.witness_checked && !o.quiet)
        printf("%s: the witnessed checkpoint lies in the pruned part; not compared\n", o.log);
    if ((r.ok || legacy_ok) && o.update_witness && o.witness) {
        e = audit_write_witness(o.witness, &r);
        if (e != FG_OK) {
            fprintf(stderr, "fairgate audit verify: cannot write witness %s: %s\n", o.witness,
                    e == FG_ERR_MISSING ? "no checkpoint yet" : fg_strerror(e));
            return 1;
        }
        if (!o.quiet)
            printf("%s: witness updated to seq %llu\n", o.witness, (unsigned long long)r.cp_seq);
    }
    if (r.ok || legacy_ok)
        return EXIT_INTACT;
    return r.torn_tail ? EXIT_TORN : EXIT_DAMAGED;
}

/* ---- reading: show and export ----------------------------------------------------- */

struct rows {
    cJSON **ev;
    size_t n, cap;
};

static bool time_ok(const char *s, int64_t *ms)
{
    return fg_parse_time(s, strlen(s), ms);
}

static int load_rows(const struct opts *o, struct rows *r)
{
    char *buf;
    size_t len;
    int64_t since = INT64_MIN, until = INT64_MAX;
    if ((o->since && !time_ok(o->since, &since)) || (o->until && !time_ok(o->until, &until))) {
        fprintf(stderr, "fairgate audit: --since/--until take an RFC 3339 time or a date\n");
        return EXIT_USAGE;
    }
    fg_err e = fg_read_file(o->log, (size_t)1 << 34, &buf, &len);
    if (e != FG_OK) {
        fprintf(stderr, "fairgate audit: cannot read %s: %s\n", o->log, fg_strerror(e));
        return EXIT_USAGE;
    }
    size_t lineno = 0;
    for (char *p = buf, *end = buf + len; p < end;) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        lineno++;
        cJSON *ev = audit_parse_line(p, n);
        p += n + 1;
        if (!ev) {
            if (!(lineno == 1 && strncmp(buf, "{\"anchor\":", 10) == 0))
                fprintf(stderr, "fairgate audit: line %zu is not a valid event (skipped)\n",
                        lineno);
            continue;
        }
        const char *t = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ev, "time"));
        const cJSON *ob = cJSON_GetObjectItemCaseSensitive(ev, "object");
        const char *route = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ob, "route"));
        int64_t ms = 0;
        fg_parse_time(t, strlen(t), &ms);
        bool keep = ms >= since && ms < until &&
                    (!o->route || (route && strcmp(route, o->route) == 0)) &&
                    (!o->action ||
                     strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ev, "action")),
                            o->action) == 0) &&
                    (!o->actor ||
                     strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ev, "actor")),
                            o->actor) == 0);
        if (!keep) {
            cJSON_Delete(ev);
            continue;
        }
        if (r->n == r->cap) {
            r->cap = r->cap ? r->cap * 2 : 256;
            cJSON **nv = realloc(r->ev, r->cap * sizeof *nv);
            if (!nv) {
                cJSON_Delete(ev);
                free(buf);
                return 1;
            }
            r->ev = nv;
        }
        r->ev[r->n++] = ev;
    }
    free(buf);
    return 0;
}

static void free_rows(struct rows *r)
{
    for (size_t i = 0; i < r->n; i++)
        cJSON_Delete(r->ev[i]);
    free(r->ev);
}

static const char *s_of(const cJSON *ev, const char *k)
{
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ev, k));
    return s ? s : "";
}

static cJSON *filters_json(const struct opts *o, size_t rows)
{
    cJSON *f = cJSON_CreateObject();
    if (o->since)
        cJSON_AddStringToObject(f, "since", o->since);
    if (o->until)
        cJSON_AddStringToObject(f, "until", o->until);
    if (o->route)
        cJSON_AddStringToObject(f, "route", o->route);
    if (o->action)
        cJSON_AddStringToObject(f, "action", o->action);
    if (o->actor)
        cJSON_AddStringToObject(f, "actor", o->actor);
    cJSON_AddNumberToObject(f, "rows", (double)rows);
    return f;
}

static int cmd_show(int argc, char **argv)
{
    struct opts o = {0};
    int prc = parse(&show_cmd, argc, argv, &o);
    if (prc != FG_OPT_OK)
        return fg_opt_exit(prc);
    if (!need(o.log, "LOG", "show"))
        return EXIT_USAGE;
    struct rows r = {0};
    int rc = load_rows(&o, &r);
    if (rc)
        return rc;
    int w_seq = 3, w_actor = 5, w_action = 6;
    char num[32];
    for (size_t i = 0; i < r.n; i++) {
        int n = snprintf(num, sizeof num, "%.0f",
                         cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(r.ev[i], "seq")));
        w_seq = n > w_seq ? n : w_seq;
        int a = (int)strlen(s_of(r.ev[i], "actor")), b = (int)strlen(s_of(r.ev[i], "action"));
        w_actor = a > w_actor ? a : w_actor;
        w_action = b > w_action ? b : w_action;
    }
    printf("%*s  %-24s  %-*s  %-*s  %s\n", w_seq, "SEQ", "TIME", w_actor, "ACTOR", w_action,
           "ACTION", "OBJECT");
    for (size_t i = 0; i < r.n; i++) {
        char *obj = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(r.ev[i], "object"));
        const char *os = obj ? obj : "";
        printf("%*.0f  %-24s  %-*s  %-*s  %.100s%s\n", w_seq,
               cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(r.ev[i], "seq")),
               s_of(r.ev[i], "time"), w_actor, s_of(r.ev[i], "actor"), w_action,
               s_of(r.ev[i], "action"), os, strlen(os) > 100 ? "..." : "");
        free(obj);
    }
    size_t n = r.n;
    free_rows(&r);
    cJSON *ob = cJSON_CreateObject();
    cJSON_AddStringToObject(ob, "command", "show");
    cJSON_AddItemToObject(ob, "filters", filters_json(&o, n));
    return record_read(&o, "audit.read", ob);
}

/* A cell a spreadsheet would read as a formula (=, +, -, @, or a leading tab or CR
 * that some strip first) gets a leading ' so it stays text: names, purposes and
 * reasons come from people who may not be on the council's side. */
static void csv_field(FILE *f, const char *s)
{
    bool formula = strchr("=+-@\t\r", s[0]) && s[0];
    if (!formula && !strpbrk(s, ",\"\n\r")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    if (formula)
        fputc('\'', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static int cmd_export(int argc, char **argv)
{
    struct opts o = {0};
    int prc = parse(&export_cmd, argc, argv, &o);
    if (prc != FG_OPT_OK)
        return fg_opt_exit(prc);
    if (!need(o.log, "LOG", "export") || !need(o.format, "--format csv|json", "export"))
        return EXIT_USAGE;
    bool csv = strcmp(o.format, "csv") == 0;
    struct rows r = {0};
    int rc = load_rows(&o, &r);
    if (rc)
        return rc;
    FILE *f = o.out ? fopen(o.out, "w") : stdout;
    if (!f) {
        fprintf(stderr, "fairgate audit export: cannot write %s: %s\n", o.out, strerror(errno));
        free_rows(&r);
        return 1;
    }
    if (csv)
        fputs("seq,time,actor,action,route,destination,purpose,categories,count,object\n", f);
    else
        fputs("[", f);
    for (size_t i = 0; i < r.n; i++) {
        const cJSON *ev = r.ev[i];
        if (!csv) {
            char *s = cJSON_PrintUnformatted(ev);
            fprintf(f, "%s\n%s", i ? "," : "", s ? s : "null");
            free(s);
            continue;
        }
        const cJSON *ob = cJSON_GetObjectItemCaseSensitive(ev, "object");
        fprintf(f, "%.0f,", cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(ev, "seq")));
        const char *cols[] = {s_of(ev, "time"),  s_of(ev, "actor"),       s_of(ev, "action"),
                              s_of(ob, "route"), s_of(ob, "destination"), s_of(ob, "purpose")};
        for (size_t c = 0; c < 6; c++) {
            csv_field(f, cols[c]);
            fputc(',', f);
        }
        char cats[1024] = "";
        const cJSON *c;
        cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(ob, "categories"))
        {
            if (cJSON_IsString(c) && strlen(cats) + strlen(c->valuestring) + 2 < sizeof cats) {
                if (cats[0])
                    strcat(cats, ";");
                strcat(cats, c->valuestring);
            }
        }
        csv_field(f, cats);
        const cJSON *cnt = cJSON_GetObjectItemCaseSensitive(ob, "count");
        if (cJSON_IsNumber(cnt))
            fprintf(f, ",%.0f,", cnt->valuedouble);
        else
            fputs(",,", f);
        char *s = cJSON_PrintUnformatted(ob);
        csv_field(f, s ? s : "");
        free(s);
        fputc('\n', f);
    }
    if (!csv)
        fputs("\n]\n", f);
    if (o.out && fclose(f) != 0) {
        free_rows(&r);
        return 1;
    }
    size_t n = r.n;
    free_rows(&r);
    cJSON *ob = cJSON_CreateObject();
    cJSON_AddStringToObject(ob, "command", "export");
    cJSON_AddStringToObject(ob, "format", o.format);
    cJSON_AddItemToObject(ob, "filters", filters_json(&o, n));
    return record_read(&o, "audit.export", ob);
}

/* ---- report, prune ---------------------------------------------------------------- */

static int cmd_report(int argc, char **argv)
{
    struct opts o = {0};
    int prc = parse(&report_cmd, argc, argv, &o);
    if (prc != FG_OPT_OK)
        return fg_opt_exit(prc);
    if (!need(o.log, "LOG", "report") || !need(o.key, "--key PUBKEY", "report"))
        return EXIT_USAGE;
    if (!o.html && !o.to) {
        fprintf(stderr, "fairgate audit report: --html OUT or --to DIR is required\n");
        return EXIT_USAGE;
    }
    fg_lang lang = fg_lang_from_env();
    if (o.lang && !fg_lang_parse(o.lang, &lang)) {
        fprintf(stderr, "fairgate audit report: --lang is en, nl or de\n");
        return EXIT_USAGE;
    }
    unsigned char pk[32];
    int64_t gap = 0;
    if (!load_key(o.key, pk))
        return EXIT_USAGE;
    if (o.gap && !fg_parse_duration(o.gap, &gap)) {
        fprintf(stderr, "fairgate audit report: --gap takes a duration like 30m or 2h\n");
        return EXIT_USAGE;
    }
    cJSON *coarse = NULL;
    if (o.config && wc_policy_coarseness(o.config, "fairgate audit report", &coarse))
        return EXIT_USAGE;
    struct audit_verify_result vr;
    struct audit_report_options ro = {.coarse = coarse,
                                      .log_path = o.log,
                                      .out_path = o.html,
                                      .witness_path = o.witness,
                                      .pubkey = pk,
                                      .gap_ms = gap,
                                      .lang = lang,
                                      .result = &vr};
    char why[512] = "";
    fg_err e = o.to ? audit_report_to_dir(&ro, o.to, why, sizeof why)
                    : audit_report_html(&ro, why, sizeof why);
    cJSON_Delete(coarse);
    if (e != FG_OK) {
        fprintf(stderr, "fairgate audit report: %s\n", why[0] ? why : fg_strerror(e));
        return e == FG_ERR_NOT_FOUND || e == FG_ERR_IO ? EXIT_USAGE : 1;
    }
    if (!o.quiet)
        printf("wrote %s\n", o.to ? o.to : o.html);
    if (!vr.ok)
        fprintf(stderr,
                "fairgate audit report: the log is damaged at line %zu: %s (the report "
                "says so)\n",
                vr.bad_line, audit_damage_str(vr.damage));
    cJSON *ob = cJSON_CreateObject();
    cJSON_AddStringToObject(ob, "command", "report");
    int rc = record_read(&o, "audit.read", ob);
    /* a legacy log (no sealing bounds) passes only when asked for, as in verify */
    if (!vr.ok && !(vr.damage == AUDIT_LEGACY && o.allow_legacy))
        return vr.torn_tail ? EXIT_TORN : EXIT_DAMAGED;
    return rc;
}

static int cmd_prune(int argc, char **argv)
{
    struct opts o = {0};
    int prc = parse(&prune_cmd, argc, argv, &o);
    if (prc != FG_OPT_OK)
        return fg_opt_exit(prc);
    if (!need(o.log, "LOG", "prune") || !need(o.before, "--before DATE", "prune") ||
        !need(o.state, "--state DIR", "prune"))
        return EXIT_USAGE;
    int64_t before;
    if (!time_ok(o.before, &before)) {
        fprintf(stderr, "fairgate audit prune: --before takes a date or RFC 3339 time\n");
        return EXIT_USAGE;
    }
    char keypath[4096];
    if (o.key)
        snprintf(keypath, sizeof keypath, "%s", o.key);
    else
        snprintf(keypath, sizeof keypath, "%s/audit-first.pub", o.state);
    unsigned char pk[32];
    if (!load_key(keypath, pk))
        return EXIT_USAGE;
    uint64_t removed = 0;
    char why[512] = "";
    fg_err e = audit_prune(o.log, o.state, before, pk, &removed, why, sizeof why);
    if (e != FG_OK) {
        fprintf(stderr, "fairgate audit prune: %s\n", why[0] ? why : fg_strerror(e));
        return 1;
    }
    printf("%s: removed %llu events; the anchor line on top keeps the chain verifiable\n", o.log,
           (unsigned long long)removed);
    return 0;
}

/* ---- dispatch --------------------------------------------------------------------- */

static const struct fg_subcmd subs[] = {
    {"init", "create the log and the first signing key", cmd_init},
    {"verify", "check chain, signatures, hand-overs and a witness", cmd_verify},
    {"show", "print events as a table (the read is audited with --state)", cmd_show},
    {"export", "export events as csv or json", cmd_export},
    {"report", "one self-contained HTML report for the works council", cmd_report},
    {"prune", "delete old events, keeping the log verifiable", cmd_prune},
};

static int audit_main(int argc, char **argv)
{
    return fg_subcmd_run("fairgate audit", subs, FG_OPT_N(subs), argc, argv);
}

const struct fg_command fg_cmd_audit = {
    .name = "audit",
    .summary = "verify, read, report and prune the tamper-evident audit log",
    .main = audit_main,
};
