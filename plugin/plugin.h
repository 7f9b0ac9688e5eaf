/* fairgate inside mosquitto: shared state of the plugin's two threads.
 *
 * The broker's thread (mosquitto is single-threaded) runs MOSQ_EVT_MESSAGE
 * and MOSQ_EVT_TICK: the pipeline core (pipeline/: decode, policy), emit
 * with mosquitto_broker_publish, close aggregation windows. It never reads policy files, never
 * writes the audit log and never rotates keys: a housekeeping thread does those and hands a newly
 * admitted policy over through `pending`, which the broker's thread installs at its next tick. */
#ifndef FGP_PLUGIN_H
#define FGP_PLUGIN_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "audit/audit.h"
#include "audit/flows.h"
#include "council/reident.h"
#include "gateway/config.h"
#include "pipeline/pipeline.h"

/* Time spent inside one broker callback, in buckets: the broker's loop is
 * stalled exactly this long. */
#define FGP_HIST_BUCKETS 6 /* <10us <100us <1ms <10ms <100ms >=100ms */
struct fgp_pause {
    atomic_uint_fast64_t count, total_ns, max_ns;
    atomic_uint_fast64_t bucket[FGP_HIST_BUCKETS];
};

struct fgp {
    struct fg_config cfg;
    bool cfg_loaded;
    char instance[40]; /* state_dir/gateway-id: prefixes message ids */
    char audit_dir[4096];
    char destination[300]; /* for flow summaries: "mosquitto bridge" */
    struct sensor_registry *sensors;
    struct audit *audit;
    struct flows *flows;
    struct reident *reident;
    struct pseudonym_keyring *keys;
    int64_t rotate_ms;                /* of the policy at start: the key ring's epoch length */
    struct pipeline *pl;              /* the daemon's pipeline core; driven by the broker thread */
    struct policy *active;            /* the pipeline's policy (broker thread: for its expiry) */
    _Atomic(struct policy *) pending; /* admitted by housekeeping, installed at tick */
    atomic_bool expired_seen;         /* broker thread saw the active policy expire */
    atomic_bool reload_requested;     /* mosquitto reloaded its configuration (SIGHUP) */
    bool expired_flagged;             /* broker thread: flagged once per policy */
    uint64_t next_id;                 /* broker thread */
    int64_t last_tick_ms, last_stats_ms;
    /* counters (atomics: housekeeping audits them) */
    atomic_uint_fast64_t in, accepted, emitted, publish_failed, passed;
    atomic_uint_fast64_t rejected[PIPE_REJ__COUNT];
    uint64_t rej_audited[PIPE_REJ__COUNT]; /* housekeeping */
    char why[256];                         /* broker thread: the last rejection's cause */
    uint64_t rej_logged_mask;              /* broker thread */
    struct fgp_pause pause_msg, pause_tick;
    /* housekeeping thread */
    pthread_t hk;
    bool hk_running;
    atomic_bool stop;
    pthread_mutex_t hk_lock;
    pthread_cond_t hk_wake;
    char policy_stamp[128];
#define FGP_KEY_EVENTS 64
    struct {
        int64_t epoch;
        bool destroyed;           /* else rotated */
    } key_events[FGP_KEY_EVENTS]; /* noted under the key ring's lock, audited after */
    int nkey_events;
};

/* housekeeping.c */
void fgp_audit_event(struct fgp *g, const char *action, cJSON *object); /* frees object */
FG_MUST_CHECK fg_err fgp_housekeeping_start(struct fgp *g);
void fgp_housekeeping_stop(struct fgp *g);
/* Admits the configured policy (blocks: files, signatures) and audits the result. */
struct policy *fgp_admit_policy(struct fgp *g, bool reload, bool previous);
void fgp_pause_record(struct fgp_pause *p, uint64_t ns);
/* "max 123 us, 99.9% under 100 us (n=...)" */
void fgp_pause_format(const struct fgp_pause *p, char *out, size_t len);

#endif
