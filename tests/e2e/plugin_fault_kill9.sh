#!/usr/bin/env bash
# kill -9 of the broker that runs fairgate inside itself, in a loop: a publisher
# sends seqs at QoS 1; the broker (persistence on, Debian's default autosave of
# 30 min) is killed with SIGKILL after a random 0.3-1.5 s and restarted,
# FAIRGATE_KILL_ROUNDS times (default 10). Measures, and prints, what the
# docs state for plugin mode: acknowledged inputs whose minimised message never
# reached the upstream (lost: in the broker's memory only, waiting for the
# bridge or in flight on it) and duplicates (the bridge resending at QoS 1 after
# a reconnect). Then the worst case: the upstream is down, 500 inputs are
# acknowledged and queued for the bridge, and the broker is killed before its
# next autosave. It fails only if a phase proved nothing: losses are the
# documented semantics of this mode (docs/operations.md).
source "$(dirname "$0")/lib.sh"
FAIRGATE_MODE=plugin
source "$(dirname "$0")/lib_gateway.sh"
source "$(dirname "$0")/lib_fault.sh"

ROUNDS=${FAIRGATE_KILL_ROUNDS:-10}
RATE=300
BATCH=600
fault_types_and_policy 1h
[ -f "$PLUGIN" ] || { echo "SKIP: $PLUGIN not built"; exit 77; }
make_test_ca "$WORK/upca" localhost
mkdir -p "$WORK/upstream-db"
broker_conf upstream "$(free_port)" "cafile $WORK/upca/ca.crt" "certfile $WORK/upca/server.crt" \
    "keyfile $WORK/upca/server.key" "persistence true" "persistence_location $WORK/upstream-db/" \
    "autosave_interval 1"
run_broker upstream
local_PORT=$(free_port)
fault_config "$WORK/fairgate.yaml"
mkdir -p "$WORK/db"
LINES=("persistence true" "persistence_location $WORK/db/")
start_plugin_broker "$WORK/fairgate.yaml" "${LINES[@]}"
start_session_sub "$WORK/upstream.jsonl"
: >"$WORK/acked"
base=0
for ((r = 1; r <= ROUNDS; r++)); do
    "$TOOLS/fg_seqpub" --port "$local_PORT" --topic "$SEQ_TOPIC" --start "$base" --count "$BATCH" \
        --rate "$RATE" --timeout 3000 >"$WORK/pub.out" 2>>"$WORK/pub.log" &
    PUB_PID=$!; PIDS+=("$PUB_PID")
    ms=$((300 + RANDOM % 1201))
    sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
    stop_pid KILL "$local_PID"
    wait "$PUB_PID" || true
    forget_pid "$PUB_PID"
    # mosquitto acknowledges one client's QoS 1 publishes in order: acked = the first M
    m=$(awk '{print $4}' "$WORK/pub.out")
    echo "$base ${m:-0}" >>"$WORK/acked"
    base=$((base + BATCH))
    start_plugin_broker "$WORK/fairgate.yaml" "${LINES[@]}"
done
sleep 5 # the bridge drains what survived
prev=-1
for _ in $(seq 1 30); do
    n=$(wc -l <"$WORK/upstream.jsonl"); [ "$n" = "$prev" ] && break; prev=$n; sleep 1
done
python3 - "$WORK/upstream.jsonl" "$WORK/acked" <<'PY' || fail "report"
import json, sys
acked = set()
for line in open(sys.argv[2]):
    b, m = map(int, line.split())
    acked.update(range(b, b + m))
seen = {}
for line in open(sys.argv[1]):
    if line.strip():
        m = json.loads(line)
        seen.setdefault(json.loads(m["payload"])["seq"], []).append(m["props"].get("fairgate-id"))
lost = sorted(acked - set(seen))
dups = sum(len(v) - 1 for v in seen.values())
same = sum(len(v) - len(set(v)) for v in seen.values())
print("plugin kill -9: acknowledged %d, delivered %d of them, lost %d (%.2f%%), duplicates %d "
      "(same fairgate-id %d), delivered although not acknowledged %d"
      % (len(acked), len(acked & set(seen)), len(lost), 100.0 * len(lost) / max(1, len(acked)),
         dups, same, len(set(seen) - acked)))
assert acked and seen, "nothing acknowledged or nothing delivered: the test proved nothing"
PY
pass "kill -9 x $ROUNDS of the broker with the plugin: losses and duplicates measured"

# Worst case: upstream away, inputs queued for the bridge in the broker's memory.
stop_pid TERM "$upstream_PID"
W0=100000
"$TOOLS/fg_seqpub" --port "$local_PORT" --topic "$SEQ_TOPIC" --start "$W0" --count 500 \
    --rate 500 --timeout 5000 >"$WORK/pub2.out" 2>>"$WORK/pub.log" || fail "publisher: $(cat "$WORK/pub2.out")"
grep -q "acked 500" "$WORK/pub2.out" || fail "not all 500 acknowledged"
stop_pid KILL "$local_PID"
run_broker upstream
start_plugin_broker "$WORK/fairgate.yaml" "${LINES[@]}"
sleep 5
stop_plugin_broker
stop_pid TERM "$SUB_PID"
python3 - "$WORK/upstream.jsonl" "$W0" <<'PY' || fail "report"
import json, sys
w0 = int(sys.argv[2])
got = set()
for line in open(sys.argv[1]):
    if line.strip():
        s = json.loads(json.loads(line)["payload"])["seq"]
        if w0 <= s < w0 + 500:
            got.add(s)
print("plugin kill -9 while the upstream is away: 500 acknowledged and queued, %d delivered "
      "after restart, %d lost" % (len(got), 500 - len(got)))
PY
pass "kill -9 during an upstream outage: measured"
