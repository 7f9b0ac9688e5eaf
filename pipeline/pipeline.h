/* The pipeline core: topic + payload -> decode (sensors/) -> policy (policy/)
 * -> minimised messages. No MQTT library, no disk, no daemon: what leaves and
 * what must be recorded is reported to an observer (a const table passed
 * down), so the daemon, `fairgate replay`, the tests, the benchmark and a
 * broker plugin all drive this one entry point.
 *
 * THREAD SAFETY: pipeline_input may run on several threads at once (a read
 * lock guards the policy); pipeline_set_policy and pipeline_tick take the
 * write/read lock. Blocking: the pipeline itself never blocks on I/O; it
 * blocks exactly as long as the observer's functions do, so an observer called
 * from a broker's or Paho's thread must not wait for the disk. */
#ifndef PIPELINE_H
#define PIPELINE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/fg_error.h"
#include "pipeline/message.h"
#include "policy/policy.h"
#include "policy/pseudonym.h"
#include "sensors/sensor.h"

/* Why an input was not forwarded. Counted, logged by reason, never with content. */
typedef enum {
    PIPE_REJ_OVERSIZE = 0,
    PIPE_REJ_MALFORMED,
    PIPE_REJ_WRONG_TYPE,
    PIPE_REJ_OUT_OF_RANGE,
    PIPE_REJ_MISSING_FIELD,
    PIPE_REJ_UNKNOWN_TOPIC,
    PIPE_REJ_NO_ROUTE,
    PIPE_REJ_NO_POLICY,
    PIPE_REJ_POLICY_ERROR,
    PIPE_REJ_OVERFLOW,     /* the observer refused an output as full (outbox hard limit) */
    PIPE_REJ_INVALID_TEXT, /* a value cannot become a valid MQTT topic or property */
    PIPE_REJ__COUNT,
    PIPE_REJ_NONE = -1
} pipeline_reject;

/* Static, never NULL: "oversize payload", "malformed payload", ... */
const char *pipeline_reject_name(pipeline_reject r);

/* What the pipeline reports upward. Every member may be NULL except emit. */
struct pipeline_observer {
    /* A minimised message to send. Returning an error stops this input's
     * policy run: FG_ERR_FULL counts as PIPE_REJ_OVERFLOW, others as policy error. */
    fg_err (*emit)(void *ctx, const struct fg_message *m);
    /* A pseudonym was made: value is the raw identifier behind it (never log
     * or store it in clear; the daemon queues it for the sealed table). */
    void (*pseudonym)(void *ctx, int64_t epoch, const char *route, const char *value, size_t len,
                      const char *pseudonym);
    /* An input was rejected (already counted). cause is the decoder's or the
     * policy's error; why names fields, never values. */
    void (*reject)(void *ctx, pipeline_reject r, fg_err cause, const char *why);
};

struct pipeline_options {
    const struct sensor_registry *sensors; /* borrowed, outlives the pipeline */
    struct pseudonym_keyring *keys;        /* borrowed; its observer is set to ours */
    size_t max_payload;                    /* 0: no bound */
    const struct pipeline_observer *obs;   /* borrowed */
    void *ctx;
    /* Replay: time comes from the inputs (the `now_ms` given, else the record's
     * timestamp, else the last time seen); the clock never runs backwards, and
     * pseudonym keys and aggregation windows tick with it before each input. */
    bool replay_clock;
};

#define PIPELINE_TIME_UNKNOWN INT64_MIN

struct pipeline_counters {
    atomic_uint_fast64_t in, emitted;
    atomic_uint_fast64_t rejected[PIPE_REJ__COUNT];
};

struct pipeline;

FG_MUST_CHECK fg_err pipeline_new(const struct pipeline_options *opt, struct pipeline **out);
/* Frees the pipeline and its policy (windows still open are not flushed:
 * call pipeline_tick(.., flush=true) first). */
void pipeline_free(struct pipeline *pl);

/* Installs p (owned from now on; NULL: nothing is forwarded). The previous
 * policy's open aggregation windows then close under its own rules (emitted
 * through the observer) and it is freed; the result is that flush's. */
FG_MUST_CHECK fg_err pipeline_set_policy(struct pipeline *pl, struct policy *p, int64_t now_ms);

/* One input. Returns FG_OK when it was processed, also if it was rejected
 * (then *reject says why and the reason is counted); an error only if the
 * observer's emit failed in a way that is neither full nor a policy error.
 * emitted (may be NULL) gets the number of messages handed to emit. */
FG_MUST_CHECK fg_err pipeline_input(struct pipeline *pl, const char *topic, const void *payload,
                                    size_t len, int64_t now_ms, pipeline_reject *reject,
                                    int *emitted);

/* Closes aggregation windows due by now_ms (all when flush), emitting through
 * the observer. */
FG_MUST_CHECK fg_err pipeline_tick(struct pipeline *pl, int64_t now_ms, bool flush);

/* Counts (and reports to the observer) a rejection found after the pipeline
 * returned, e.g. when the caller could not store an output. */
void pipeline_count_reject(struct pipeline *pl, pipeline_reject r, fg_err cause, const char *why);

/* Counters since pipeline_new (atomics: read them from any thread). */
const struct pipeline_counters *pipeline_counters(const struct pipeline *pl);
/* The replay clock (PIPELINE_TIME_UNKNOWN before the first input). */
int64_t pipeline_clock(const struct pipeline *pl);

/* Runs fn with the current policy (may be NULL) under the read lock: for
 * metrics and status, which read route counters. fn must not block. */
void pipeline_with_policy(struct pipeline *pl, void (*fn)(void *ctx, const struct policy *p),
                          void *ctx);

#endif
