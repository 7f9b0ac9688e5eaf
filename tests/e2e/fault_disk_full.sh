#!/usr/bin/env bash
# Disk full: FAIRGATE_FAULT_OUTBOX_ENOSPC=PATH makes every outbox write fail
# with ENOSPC while PATH exists. 300 inputs at ~100/s; about midway the flag
# exists for ~3 s. The log must say clearly that the outbox cannot be written
# and inputs are paused, then that they resume; every seq must arrive; and a
# restart on the same state directory must find no damaged record.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_gateway.sh"
source "$(dirname "$0")/lib_fault.sh"

N=300
FLAG=$WORK/enospc
export FAIRGATE_FAULT_OUTBOX_ENOSPC=$FLAG
fault_types_and_policy 1h
start_pair
fault_config "$WORK/fairgate.yaml"
start_gateway "$WORK/fairgate.yaml"
subscribe_upstream "$WORK/upstream.jsonl" --idle 600000 --total 600000

"$TOOLS/fg_seqpub" --port "$local_PORT" --topic "$SEQ_TOPIC" --count "$N" --rate 100 \
    >"$WORK/pub.out" 2>>"$WORK/pub.log" &
PUB_PID=$!
PIDS+=("$PUB_PID")
sleep 1.5
touch "$FLAG"
echo "outbox writes fail (ENOSPC) from now for 3 s"
wait_log "cannot write the outbox" 1 10 || fail "no clear error about the outbox write"
grep -m1 "cannot write the outbox" "$WORK/gateway.log"
sleep 3
rm -f "$FLAG"
echo "outbox writable again"
wait "$PUB_PID" || fail "publisher: $(cat "$WORK/pub.out")"
forget_pid "$PUB_PID"
echo "publisher: $(cat "$WORK/pub.out")"
wait_log "resuming inputs" 1 15 || fail "inputs never resumed"
grep -m1 "resuming inputs" "$WORK/gateway.log"
wait_seqs "$WORK/upstream.jsonl" 0 "$N" 45 || true
sleep 1
stop_gateway
seq_report "$WORK/upstream.jsonl" 0 "$N" || fail "messages lost while the disk was full"
source "$WORK/seq_figures.sh"
errors=$(grep -c "outbox: cannot write the outbox" "$WORK/gateway.log" || true)
echo "paused for write errors $errors time(s); duplicates $DUPS (same id $DUP_SAME, different id $DUP_DIFF)"

# Same state directory again: what was written during and after the fault
# must read back whole.
n_before=$(wc -l <"$WORK/gateway.log")
start_gateway "$WORK/fairgate.yaml"
sleep 1
stop_gateway
tail -n +"$((n_before + 1))" "$WORK/gateway.log" >"$WORK/restart.log"
if grep -E "damaged record|torn last record|cannot truncate" "$WORK/restart.log"; then
    fail "outbox damaged after the disk-full episode"
fi
stop_pid TERM "$SUB_PID"
sanitizers_clean
pass "disk full: clear error, inputs paused and resumed, all $N arrived, outbox intact"
