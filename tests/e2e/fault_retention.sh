#!/usr/bin/env bash
# Retention while the upstream is away: route retention 2 s, nobody listening
# on the upstream port. 20 inputs are stored, then deleted unsent when their
# retention ends (the log says so). When an upstream broker appears on that
# port, none of them arrives; a message published after that does (so the
# subscriber was listening, and the outbox sends in order: anything not
# deleted would have come first).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_gateway.sh"
source "$(dirname "$0")/lib_fault.sh"

N=20
fault_types_and_policy 2s
make_test_ca "$WORK/upca" localhost
start_broker local
broker_conf upstream "$(free_port)" "cafile $WORK/upca/ca.crt" "certfile $WORK/upca/server.crt" \
    "keyfile $WORK/upca/server.key" "persistence false"
fault_config "$WORK/fairgate.yaml"
run_gateway "$WORK/fairgate.yaml"
wait_log "subscribed to" 1 15 || fail "gateway did not subscribe"
wait_log "connecting to the upstream broker failed" 1 15 || fail "no failed upstream connection logged"

"$TOOLS/fg_seqpub" --port "$local_PORT" --topic "$SEQ_TOPIC" --count "$N" \
    >"$WORK/pub.out" 2>>"$WORK/pub.log" || fail "publisher: $(cat "$WORK/pub.out")"
echo "publisher: $(cat "$WORK/pub.out")"
wait_log "in=$N queued=$N " 1 15 || fail "the gateway did not queue $N messages"

purged() {
    grep -o "deleted [0-9]* unsent message(s) of route seq" "$WORK/gateway.log" |
        awk '{s += $2} END {print s + 0}'
}
deadline=$((SECONDS + 20))
while (($(purged) < N)) && ((SECONDS < deadline)); do sleep 0.2; done
(($(purged) == N)) || fail "expected $N messages deleted for retention, the log says $(purged)"
grep -m1 "deleted .* unsent message(s) of route seq: retention ended" "$WORK/gateway.log"
wait_log "purged=$N " 1 5 || fail "stats do not count $N purged"

run_broker upstream
echo "upstream broker started on port $upstream_PORT"
subscribe_upstream "$WORK/upstream.jsonl" --idle 600000 --total 600000
wait_log "upstream: connected to" 1 45 || fail "the gateway did not connect upstream"
"$TOOLS/fg_seqpub" --port "$local_PORT" --topic "$SEQ_TOPIC" --count 1 --start 1000 \
    >"$WORK/pub2.out" 2>>"$WORK/pub.log" || fail "publisher: $(cat "$WORK/pub2.out")"
wait_seqs "$WORK/upstream.jsonl" 1000 1 20 || fail "the control message did not arrive"
sleep 1
stop_pid TERM "$SUB_PID"
stop_gateway
python3 - "$WORK/upstream.jsonl" <<'PY' || fail "expired messages were sent"
import json, sys
seqs = [json.loads(json.loads(l)["payload"])["seq"] for l in open(sys.argv[1]) if l.strip()]
old = [s for s in seqs if s < 1000]
print("upstream received %d message(s): %d of the expired ones, control seq 1000 %s"
      % (len(seqs), len(old), "arrived" if 1000 in seqs else "missing"))
sys.exit(1 if old or 1000 not in seqs else 0)
PY
grep -q "final: .*purged=$N " "$WORK/gateway.log" || fail "final stats do not count $N purged"
sanitizers_clean
pass "retention: $N messages deleted unsent, none arrived late"
