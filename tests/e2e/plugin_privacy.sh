#!/usr/bin/env bash
# fairgate inside mosquitto keeps raw telemetry out of the broker itself: a
# curious client subscribed to '#' or 'raw/#' on the site's broker sees only
# minimised messages, a retained raw message is not kept, the persistence file
# (with messages queued for an offline subscriber and the bridge) holds no raw
# identifier, and without a valid policy raw inputs are refused with a reason
# code (0x87) instead of passing through.
source "$(dirname "$0")/lib.sh"
FAIRGATE_MODE=plugin
source "$(dirname "$0")/lib_gateway.sh"

N=300
plugin_ports
write_config "$WORK/fairgate.yaml" "$SRC/examples/policy-demo.yaml"
mkdir -p "$WORK/persist"
start_plugin_broker "$WORK/fairgate.yaml" "persistence true" \
    "persistence_location $WORK/persist/" "autosave_interval 3600"
subscribe_upstream "$WORK/upstream.jsonl" --idle 5000
subscribe_local "$WORK/local_all.jsonl" '#' --idle 5000
subscribe_local "$WORK/local_raw.jsonl" 'raw/#' --idle 5000
wait_for bash -c "[ \$(grep -c subscribed '$WORK/sub_local.log') -ge 2 ]" || fail "local subscribers"
# An offline subscriber with a persistent session: its messages are queued and persisted.
"$TOOLS/fg_sub" --port "$local_PORT" --host 127.0.0.1 --topic '#' --id offline-sub --session \
    --count 1 >/dev/null 2>>"$WORK/sub_offline.log" || true

"$FAIRGATE" simulate --port "$local_PORT" --count $N --rate 500 --workers 12 --seed 11 \
    --record "$WORK/raw.jsonl" 2>>"$WORK/sim.log" || fail "simulator failed (some input refused?)"
mosquitto_pub -p "$local_PORT" -q 1 -r -t raw/uwb-badge/t9 -m '{"badge":"B-99999","zone":"hall"}'
wait "$SUB_PID" || true
wait "$LOCAL_SUB_PID" || true
"$TOOLS/fg_sub" --port "$local_PORT" --host 127.0.0.1 --topic 'raw/#' --id late-raw --idle 1500 \
    >"$WORK/late_raw.jsonl" 2>>"$WORK/sub_local.log" || true
stop_plugin_broker   # writes the persistence file

[ -s "$WORK/upstream.jsonl" ] || fail "nothing reached upstream"
[ -s "$WORK/local_all.jsonl" ] || fail "the '#' subscriber saw nothing (test would prove nothing)"
[ ! -s "$WORK/local_raw.jsonl" ] || { head -3 "$WORK/local_raw.jsonl"; fail "a raw/# subscriber received messages"; }
[ ! -s "$WORK/late_raw.jsonl" ] || fail "a retained raw message was kept"
DB=$WORK/persist/mosquitto.db
[ -s "$DB" ] || fail "no persistence file written"
grep -q "site/test-site" "$DB" || fail "the persistence file holds no queued message (test would prove nothing)"
python3 - "$WORK/raw.jsonl" "$WORK/local_all.jsonl" "$WORK/upstream.jsonl" "$DB" <<'PY' || fail "raw data found"
import json, sys
raw = [json.loads(l) for l in open(sys.argv[1])]
secrets = {"B-99999"}
for r in raw:
    if "payload" not in r:
        continue
    try:
        p = json.loads(r["payload"])
    except ValueError:
        continue
    for k in ("badge", "holder", "tag", "operator", "driver", "worker", "login", "person"):
        if isinstance(p, dict) and isinstance(p.get(k), str) and len(p[k]) >= 4:
            secrets.add(p[k])
assert len(secrets) > 5, "too few identifiers to look for: %r" % secrets
for path in sys.argv[2:]:
    blob = open(path, "rb").read()
    for s in secrets:
        assert s.encode() not in blob, "raw identifier %s in %s" % (s, path)
    assert b"raw/" not in blob, "a raw topic (with its device id) in %s" % path
local = [json.loads(l) for l in open(sys.argv[2])]
assert all(m["topic"].startswith("site/") for m in local), {m["topic"] for m in local}
print("%d identifiers absent from the '#' subscriber, upstream and mosquitto.db; %d minimised messages seen locally"
      % (len(secrets), len(local)))
PY
pass "no raw payload, topic or identifier is routed, retained or persisted by the broker"

# Without a valid policy (the file is missing) raw inputs are refused, not passed.
write_config "$WORK/nopolicy.yaml" "$WORK/does-not-exist.yaml" "state_dir: $WORK/state2"
sed -i "0,/^state_dir: .*state$/{/^state_dir: .*state$/d}" "$WORK/nopolicy.yaml"
: >"$WORK/gateway.log"
: >"$WORK/sub_local.log"
start_plugin_broker "$WORK/nopolicy.yaml"
subscribe_local "$WORK/nopol_all.jsonl" '#' --idle 3000
wait_for grep -q subscribed "$WORK/sub_local.log" || fail "subscriber"
out=$("$TOOLS/fg_seqpub" --port "$local_PORT" --topic raw/uwb-badge/t1 --count 5 --timeout 5000 2>&1 || true)
echo "$out" | grep -q "acked 0" || fail "raw inputs without a policy were acknowledged: $out"
wait "$LOCAL_SUB_PID" || true
[ ! -s "$WORK/nopol_all.jsonl" ] || fail "something was routed without a policy"
grep -q "policy refused" "$WORK/gateway.log" || fail "no refusal logged"
stop_plugin_broker
grep -q "rejected=5 " "$WORK/gateway.log" ||
    fail "refusals not counted"
pass "without a valid policy raw inputs are refused (reason 0x87), never passed through"
