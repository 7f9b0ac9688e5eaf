#!/usr/bin/env bash
# Upstream outage: inputs arrive steadily at QoS 1 while the upstream broker is
# stopped for a minute and then restarted on the same port (with persistence,
# so the test subscriber's session survives). Every seq must arrive upstream;
# an input is processed once, so no seq may arrive under two fairgate-ids.
# Prints the drain time (upstream restart until the backlog has arrived) and
# the duplicates. FAIRGATE_OUTAGE_S changes the outage (default 60 s).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_gateway.sh"
source "$(dirname "$0")/lib_fault.sh"

RATE=200
BEFORE=10                       # seconds of traffic before the outage
OUTAGE=${FAIRGATE_OUTAGE_S:-60}
AFTER=10                        # seconds of traffic after the restart
COUNT=$((RATE * (BEFORE + OUTAGE + AFTER)))

fault_types_and_policy 1h
make_test_ca "$WORK/upca" localhost
start_broker local
mkdir -p "$WORK/upstream-db"
broker_conf upstream "$(free_port)" "cafile $WORK/upca/ca.crt" "certfile $WORK/upca/server.crt" \
    "keyfile $WORK/upca/server.key" "persistence true" "persistence_location $WORK/upstream-db/" \
    "autosave_interval 1"
run_broker upstream
fault_config "$WORK/fairgate.yaml"
start_gateway "$WORK/fairgate.yaml"
subscribe_upstream "$WORK/upstream.jsonl" --session --stamp --id "fg-sub-outage-$$" \
    --idle 3600000 --total 3600000

t_pub=$(date +%s%3N)
"$TOOLS/fg_seqpub" --port "$local_PORT" --topic "$SEQ_TOPIC" --count "$COUNT" --rate "$RATE" \
    --timeout 30000 >"$WORK/pub.out" 2>>"$WORK/pub.log" &
PUB_PID=$!
PIDS+=("$PUB_PID")

sleep "$BEFORE"
stop_pid TERM "$upstream_PID"
t_stop=$(date +%s%3N)
echo "upstream stopped after $(((t_stop - t_pub) / 1000)) s of traffic; down for $OUTAGE s"
sleep "$OUTAGE"
wait_log "upstream broker lost" 1 1 || fail "the gateway did not notice the outage"
run_broker upstream
t_restart=$(date +%s%3N)
echo "upstream restarted on port $upstream_PORT"

wait "$PUB_PID" || fail "publisher: $(cat "$WORK/pub.out")"
forget_pid "$PUB_PID"
echo "publisher: $(cat "$WORK/pub.out")"
wait_seqs "$WORK/upstream.jsonl" 0 "$COUNT" 120 || true
sleep 2 # late duplicates
stop_pid TERM "$SUB_PID"
stop_gateway

seq_report "$WORK/upstream.jsonl" 0 "$COUNT" || fail "messages lost during the upstream outage"
source "$WORK/seq_figures.sh"
python3 - "$WORK/upstream.jsonl" "$t_pub" "$t_stop" "$t_restart" "$RATE" <<'PY'
import json, sys
path, t_pub, t_stop, t_restart, rate = sys.argv[1], *map(int, sys.argv[2:5]), int(sys.argv[5])
first = {}
for line in open(path):
    m = json.loads(line)
    seq = json.loads(m["payload"])["seq"]
    first.setdefault(seq, m["t"])
# seq i was due at t_pub + i/rate: the backlog is everything due before the restart
backlog = [s for s in first if t_pub + s * 1000 / rate < t_restart]
held = [s for s in backlog if t_pub + s * 1000 / rate >= t_stop]
last = max(first[s] for s in backlog)
print("outage backlog: %d messages published while upstream was down; drain time "
      "(upstream restart to the last of the backlog arriving): %.1f s"
      % (len(held), (last - t_restart) / 1000))
PY
reconnects=$(log_count "upstream: connected to")
echo "upstream connections by the gateway: $reconnects; duplicates: $DUPS (same fairgate-id $DUP_SAME, different fairgate-id $DUP_DIFF)"
[ "$DUP_DIFF" = 0 ] || fail "$DUP_DIFF seq(s) arrived under two fairgate-ids: an input was processed twice without a crash"
sanitizers_clean
pass "upstream outage of $OUTAGE s: all $COUNT messages arrived"
