/* The daemon's insides, shared by its files (one job each):
 *   gateway.c          start, main loop, stop
 *   links.c            the two MQTT connections (local in, upstream out)
 *   input.c            Paho's messageArrived: pipeline, then the outbox write
 *   sender.c           outbox -> upstream, within the server's Receive Maximum
 *   housekeeping.c     audit events and ticks, flows, retention, key events,
 *                      re-identification writes, the stats line
 *   poison.c           quarantine of what the upstream refuses; one-by-one probing
 *   status.c           metrics snapshot, degraded reasons, the retained status
 *   policy_loading.c   sensor types, policy file, signatures, reloads
 * THREAD SAFETY: Paho's receive thread runs the callbacks of links.c, input.c
 * and sender.c; everything else runs on the main thread. Callbacks only touch
 * atomics, the outbox (its own lock), the pipeline (its own lock) and queues;
 * disk work other than the outbox write of an input happens on the main thread. */
#ifndef GATEWAY_INTERNAL_H
#define GATEWAY_INTERNAL_H

#include <MQTTAsync.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "gateway/config.h"
#include "gateway/gateway.h"
#include "gateway/metrics.h"
#include "pipeline/pipeline.h"

#define SEND_BATCH 64

typedef enum { LINK_DOWN = 0, LINK_CONNECTING, LINK_UP } link_state;

/* Why inputs are paused. */
enum gw_pause { GW_PAUSE_NONE = 0, GW_PAUSE_FULL, GW_PAUSE_WRITE, GW_PAUSE_DISK };

/* Connected, messages waiting, and no acknowledgement for this long: the
 * upstream is stalled (status "degraded", reason upstream-stalled). */
#define GW_STALL_MS 15000

struct link {
    const char *name; /* "local" or "upstream", for logs */
    MQTTAsync client;
    atomic_int state;
    _Atomic int64_t next_attempt_ms; /* monotonic ms */
    _Atomic int64_t up_since_ms;     /* when the current connection began */
    int64_t backoff_ms;              /* connect failures */
    _Atomic int64_t flap_backoff_ms; /* connections that ended soon after they began */
    atomic_int receive_max;          /* upstream: the server's Receive Maximum */
    atomic_int subscribed;
    atomic_bool paused; /* local: disconnected on purpose for back-pressure (metrics read it) */
    atomic_int probe;   /* main thread: explain the last TLS failure */
    bool probed;        /* explained since the last success */
};

/* Outputs of one input, staged on Paho's thread while the pipeline runs and
 * written to the outbox right after it returned (no I/O inside the policy). */
struct staged_batch {
    struct staged_msg *msgs;
    size_t n, cap;
    char *buf;
    size_t used, bufcap;
    bool nomem;
};

#define GW_POISON_MAX 64
struct gw_poison_req {
    uint64_t id;
    char reason[128];
};

struct gateway {
    struct fg_config *cfg;
    struct audit *audit;             /* every flow, policy and key event; opened before any input */
    struct audit_reporter *reporter; /* report.dir: the council's report on a schedule */
    struct flows *flows;
    struct reident *reident; /* NULL without a works council key: nothing kept */
    char audit_dir[4096];
    char upstream_uri[300];
    uint64_t seen_connects, seen_losses, rej_audited[PIPE_REJ__COUNT];
    int64_t last_flow_ms, last_flow_wall_ms, last_rotate_ms;
    char policy_stamp[128];
    int64_t policy_polled_ms;
    bool expiry_reported;
    struct sensor_registry *sensors;
    struct pipeline *pipe;     /* decode -> policy -> minimised messages */
    atomic_bool policy_loaded; /* a policy is in force (else nothing is forwarded) */
    struct pseudonym_keyring *keys;
    struct outbox *outbox;
    struct link local, upstream;
    struct gw_counters c;
    uint64_t rej_last[PIPE_REJ__COUNT]; /* at last stats line */
    uint64_t reident_reported;          /* re-identification losses last logged */
    atomic_uint_fast64_t rej_logged_mask;
    atomic_int inflight;
    _Atomic int64_t batch_due_ms; /* sender.c: a held batch must leave by then (wall ms); 0 none */
    atomic_uint generation;       /* bumped at every upstream connection */
    pthread_mutex_t wake_lock;
    pthread_cond_t wake;
    atomic_int sleeping, work;
    pthread_mutex_t pump_lock;
    int64_t last_stats_ms, last_sync_ms;
    atomic_int write_failing;
    atomic_int pause_reason;           /* enum gw_pause while local.paused */
    bool disk_low;                     /* main thread: free space below disk_headroom */
    uint64_t disk_free, disk_headroom; /* bytes, on the outbox's filesystem */
    _Atomic int64_t last_progress_ms;  /* monotonic: last upstream ack or connect */
    char state_text[256];              /* last degraded reasons logged (main thread) */
    atomic_uint_fast64_t quarantined, quarantined_total;
    /* poison.c: refused messages waiting for the main thread; probe mode */
    pthread_mutex_t poison_lock;
    struct gw_poison_req poison[GW_POISON_MAX];
    size_t npoison;
    atomic_int probe_left;                       /* > 0: send one at a time */
    atomic_int upstream_recreate;                /* a fresh Paho client before reconnecting */
    _Atomic uint64_t last_sent_id, last_done_id; /* last handed to Paho / answered */

    atomic_uint last_sent_gen;
    uint64_t suspect_id; /* Paho's thread only */
    int strikes;         /* drops while the suspect was alone in flight */
    int64_t poison_checked_ms;
    struct staged_batch batch; /* Paho's receive thread only */
    char outdir[4096];
    char instance[40];       /* this gateway's id (state_dir/gateway-id): prefixes message ids */
    struct metrics *metrics; /* NULL unless metrics.port */
    struct metrics_histogram latency;
    int64_t started_ms;
    int cert_days[2]; /* local, upstream client certificate at start; -1: none */
};

extern volatile sig_atomic_t gw_stop, gw_reload, gw_report;

/* gateway.c */
void gw_wake_main(struct gateway *gw);

/* input.c */
extern const struct pipeline_observer gw_pipeline_observer;
int gw_on_message(void *context, char *topic, int topic_len, MQTTAsync_message *m);
void gw_batch_free(struct staged_batch *b);

/* links.c */
FG_MUST_CHECK fg_err gw_create_clients(struct gateway *gw);
void gw_manage_local(struct gateway *gw, int64_t mono);
void gw_manage_upstream(struct gateway *gw, int64_t mono);
bool gw_preflight(const char *name, const struct config_broker *b, int *days_left);
/* The link is down (any thread): bookkeeping once per connection, then the
 * main loop reconnects with back-off. */
void gw_link_down(struct gateway *gw, struct link *l, const char *cause);

/* sender.c */
void gw_pump(struct gateway *gw);
void gw_pump_from_callback(struct gateway *gw);
int gw_send_wait_ms(struct gateway *gw, int max_ms);

/* housekeeping.c (main thread) */
void gw_audit_event(struct gateway *gw, const char *action, cJSON *object);
FG_MUST_CHECK fg_err gw_open_audit(struct gateway *gw);
void gw_on_key_event(void *ctx, const char *action, int64_t epoch);
void gw_second_tick(struct gateway *gw, int64_t now);
void gw_housekeeping(struct gateway *gw, int64_t mono, bool final);
void gw_log_stats(struct gateway *gw, bool final);

/* poison.c */
void gw_poison_refused(struct gateway *gw, uint64_t id, int reason_code);
void gw_poison_acked(struct gateway *gw, uint64_t id);
void gw_poison_on_loss(struct gateway *gw, int inflight, unsigned generation);
void gw_poison_sent(struct gateway *gw, uint64_t id, unsigned generation);
int gw_send_window(struct gateway *gw, int window);
void gw_poison_housekeeping(struct gateway *gw, int64_t mono);

/* status.c */
void gw_fill_metrics(void *ctx, struct metrics_snapshot *s);
void gw_publish_status(struct gateway *gw);
/* Main thread, every second: one log line (and a fresh status message) per
 * change of the degraded reasons, never one per message. */
void gw_check_state(struct gateway *gw);

/* policy_loading.c (main thread) */
FG_MUST_CHECK fg_err gw_load_sensors(struct gateway *gw);
struct policy *gw_load_policy(struct gateway *gw, bool reload);
void gw_install_policy(struct gateway *gw, struct policy *p, bool reload);
bool gw_policy_files_changed(struct gateway *gw, int64_t mono);
void gw_check_policy_expiry(struct gateway *gw, int64_t now);

#endif
