#!/usr/bin/env bash
# Upstream outage with fairgate inside mosquitto: inputs arrive steadily at
# QoS 1 while the upstream broker is stopped for FAIRGATE_OUTAGE_S (default 20)
# seconds and restarted on the same port. The site's broker keeps the
# minimised messages for the bridge's persistent session (max_queued_messages
# as broker-config writes it) and the bridge delivers them after reconnecting.
# Every acknowledged seq must arrive; duplicates and the drain time are printed.
source "$(dirname "$0")/lib.sh"
FAIRGATE_MODE=plugin
source "$(dirname "$0")/lib_gateway.sh"
source "$(dirname "$0")/lib_fault.sh"
[ -f "$PLUGIN" ] || { echo "SKIP: $PLUGIN not built"; exit 77; }

RATE=200
BEFORE=5
OUTAGE=${FAIRGATE_OUTAGE_S:-20}
AFTER=5
COUNT=$((RATE * (BEFORE + OUTAGE + AFTER)))
fault_types_and_policy 1h
make_test_ca "$WORK/upca" localhost
mkdir -p "$WORK/upstream-db"
broker_conf upstream "$(free_port)" "cafile $WORK/upca/ca.crt" "certfile $WORK/upca/server.crt" \
    "keyfile $WORK/upca/server.key" "persistence true" "persistence_location $WORK/upstream-db/" \
    "autosave_interval 1"
run_broker upstream
local_PORT=$(free_port)
fault_config "$WORK/fairgate.yaml"
start_plugin_broker "$WORK/fairgate.yaml" "restart_timeout 1 5"
subscribe_upstream "$WORK/upstream.jsonl" --session --stamp --id "fg-sub-outage-$$" \
    --idle 3600000 --total 3600000
"$TOOLS/fg_seqpub" --port "$local_PORT" --topic "$SEQ_TOPIC" --count "$COUNT" --rate "$RATE" \
    --timeout 30000 >"$WORK/pub.out" 2>>"$WORK/pub.log" &
PUB_PID=$!; PIDS+=("$PUB_PID")
sleep "$BEFORE"
stop_pid TERM "$upstream_PID"
echo "upstream down for $OUTAGE s"
sleep "$OUTAGE"
run_broker upstream
t_restart=$(date +%s%3N)
wait "$PUB_PID" || fail "publisher: $(cat "$WORK/pub.out")"
forget_pid "$PUB_PID"
echo "publisher: $(cat "$WORK/pub.out")"
wait_seqs "$WORK/upstream.jsonl" 0 "$COUNT" 60 || true
sleep 2
stop_pid TERM "$SUB_PID"
stop_plugin_broker
seq_report "$WORK/upstream.jsonl" 0 "$COUNT" || fail "messages lost during the upstream outage"
python3 - "$WORK/upstream.jsonl" "$t_restart" "$AFTER" <<'PY'
import json, sys
t = [json.loads(l).get("t", 0) for l in open(sys.argv[1]) if l.strip()]
print("the last message arrived %.1f s after the upstream restart (inputs ran on for %d s)" % ((max(t) - int(sys.argv[2])) / 1000.0, int(sys.argv[3])))
PY
pass "upstream outage of $OUTAGE s with the plugin: every acknowledged input arrived"
