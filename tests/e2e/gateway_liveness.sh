#!/usr/bin/env bash
# Issue 16, "liveness that tells the truth": with the upstream broker
# SIGSTOPped (TCP up, nothing acknowledged) /status, /metrics and the log say
# `degraded` (upstream-stalled) within the threshold, once; when the outbox
# fills, the pause shows as a reason too; after SIGCONT the state is ok
# again, said in one line.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_gateway.sh"
source "$(dirname "$0")/lib_fault.sh"

fault_types_and_policy 1h
start_pair
METRICS_PORT=$(free_port)
fault_config "$WORK/fairgate.yaml" "metrics: { port: $METRICS_PORT }" \
    "outbox: { max_messages: 40 }" "upstream: { keepalive: 120s }"
start_gateway "$WORK/fairgate.yaml"
subscribe_upstream "$WORK/upstream.jsonl" --idle 600000 --total 600000
get() { exec 3<>"/dev/tcp/127.0.0.1/$METRICS_PORT"; printf 'GET %s HTTP/1.0\r\n\r\n' "$1" >&3; cat <&3; exec 3<&-; }

"$TOOLS/fg_seqpub" --port "$local_PORT" --topic "$SEQ_TOPIC" --count 20 --rate 100 \
    >"$WORK/pub.out" 2>>"$WORK/pub.log" || fail "publisher"
wait_seqs "$WORK/upstream.jsonl" 0 20 15 || fail "nothing flowed before the stall"
get /status | grep -q '"state":"ok"' || fail "not ok before the stall: $(get /status | tail -1)"

kill -STOP "$upstream_PID"
"$TOOLS/fg_seqpub" --port "$local_PORT" --topic "$SEQ_TOPIC" --count 100 --start 20 --rate 100 \
    >"$WORK/pub2.out" 2>>"$WORK/pub.log" || fail "publisher"
wait_log "status: degraded: .*acknowledges nothing" 1 30 || {
    kill -CONT "$upstream_PID"; fail "a stalled upstream was not reported"; }
st=$(get /status | tail -1)
echo "$st"
grep -q '"state":"degraded"' <<<"$st" || { kill -CONT "$upstream_PID"; fail "/status not degraded"; }
grep -q 'upstream-stalled' <<<"$st" || { kill -CONT "$upstream_PID"; fail "/status gives no reason"; }
grep -q 'inputs-paused-full' <<<"$st" || { kill -CONT "$upstream_PID"; fail "the input pause is hidden"; }
get /metrics | grep -q 'fairgate_degraded_reason{reason="upstream-stalled"} 1' ||
    { kill -CONT "$upstream_PID"; fail "metrics do not say it"; }
grep "status: degraded" "$WORK/gateway.log"
kill -CONT "$upstream_PID"
wait_log "status: ok again" 1 60 || fail "never ok again after the upstream came back"
n=$(log_count "status: degraded")
((n <= 4)) || fail "$n degraded lines: one per change of state expected"
wait_seqs "$WORK/upstream.jsonl" 0 120 60 || fail "not everything arrived after the stall"
stop_gateway
stop_pid TERM "$SUB_PID"
sanitizers_clean
pass "a stalled upstream and the input pause show as degraded (status, metrics, one log line), ok again after"
