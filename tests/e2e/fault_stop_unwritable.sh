#!/usr/bin/env bash
# Issue 16, "stop never acknowledges what is not on disk": SIGTERM while the
# outbox cannot be written (FAIRGATE_FAULT_OUTBOX_ENOSPC, a test-build hook).
# The input whose output could not be written is never returned to Paho (so
# never acknowledged): the gateway exits non-zero with one line saying how
# many inputs the local broker will redeliver, and after a restart on a
# writable disk every acknowledged seq arrives upstream.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_gateway.sh"
source "$(dirname "$0")/lib_fault.sh"

N=40
FLAG=$WORK/enospc
export FAIRGATE_FAULT_OUTBOX_ENOSPC=$FLAG
fault_types_and_policy 1h
start_pair
fault_config "$WORK/fairgate.yaml"
start_gateway "$WORK/fairgate.yaml"
subscribe_upstream "$WORK/upstream.jsonl" --idle 600000 --total 600000

touch "$FLAG"
"$TOOLS/fg_seqpub" --port "$local_PORT" --topic "$SEQ_TOPIC" --count "$N" --rate 50 \
    >"$WORK/pub.out" 2>>"$WORK/pub.log" || fail "publisher: $(cat "$WORK/pub.out")"
echo "publisher: $(cat "$WORK/pub.out") while the outbox could not be written"
wait_log "cannot write the outbox" 1 10 || fail "no clear error about the outbox write"
t0=$SECONDS
kill -TERM "$GW_PID"
rc=0
wait "$GW_PID" || rc=$?
forget_pid "$GW_PID"
echo "gateway exited with status $rc after $((SECONDS - t0)) s"
[ "$rc" != 0 ] || fail "exit status 0 although an input could not be written"
((SECONDS - t0 <= 10)) || fail "the stop took $((SECONDS - t0)) s"
[ "$(log_count "the local broker will redeliver")" = 1 ] ||
    fail "not exactly one line saying how many inputs will be redelivered"
grep "the local broker will redeliver" "$WORK/gateway.log"
grep -q "acknowledged input(s) exist in memory only" "$WORK/gateway.log" &&
    fail "an acknowledged input was left in memory only"

rm -f "$FLAG"
start_gateway "$WORK/fairgate.yaml"
wait_seqs "$WORK/upstream.jsonl" 0 "$N" 20 || true
stop_gateway
stop_pid TERM "$SUB_PID"
seq_report "$WORK/upstream.jsonl" 0 "$N" || fail "an input was lost across the stop"
sanitizers_clean
pass "SIGTERM while the outbox cannot be written: exit $rc, nothing acknowledged lost"
