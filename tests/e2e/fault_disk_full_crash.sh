#!/usr/bin/env bash
# Disk full, then a crash: while outbox writes fail (FAIRGATE_FAULT_OUTBOX_ENOSPC)
# inputs keep arriving until the gateway has paused; then it is killed with
# SIGKILL, the disk recovers and the gateway restarts. Design section 7: an
# input is acknowledged only after its output is durable, so every seq the
# local broker acknowledged must still arrive upstream. (Inputs whose write
# failed were kept in memory only, yet acknowledged: this test shows how many
# such inputs a crash at that moment loses.)
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
in=$(grep -o "stats: in=[0-9]*" "$WORK/gateway.log" | tail -1 | cut -d= -f2)
stop_pid KILL "$GW_PID"
echo "gateway killed (-9) while paused; it had taken ${in:-?} input(s) (last stats line)"
rm -f "$FLAG"
start_gateway "$WORK/fairgate.yaml"
wait_seqs "$WORK/upstream.jsonl" 0 "$N" 10 || true
sleep 1
stop_gateway
stop_pid TERM "$SUB_PID"
seq_report "$WORK/upstream.jsonl" 0 "$N" ||
    fail "inputs acknowledged while their output was in memory only were lost in the crash"
sanitizers_clean
pass "disk full then kill -9: nothing acknowledged was lost"
