#!/usr/bin/env bash
# An exception (here: a worker id kept as it is) runs only under a signed
# policy: a gateway that requires no signatures still refuses an unsigned
# policy that declares one, says why, and forwards nothing under it.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_gateway.sh"

cat >"$WORK/policy.yaml" <<'YAML'
policy: door
version: 1
valid_until: 2099-12-31
routes:
  - name: door
    purpose: access control
    from: uwb-badge
    to: site/{site}/door
    fields: { badge: keep }
    exceptions: { keep-worker-id: the door controller needs the badge number }
    retention: 1d
YAML
"$FAIRGATE" policy check "$WORK/policy.yaml" >"$WORK/check.log" 2>&1 || fail "policy check refused it"
grep -q "declares the exception 'keep-worker-id'" "$WORK/check.log" || fail "check does not warn"

start_pair
write_config "$WORK/fairgate.yaml" "$WORK/policy.yaml"
subscribe_upstream "$WORK/upstream.jsonl" --idle 3000
"$FAIRGATE" run -c "$WORK/fairgate.yaml" >>"$WORK/gateway.log" 2>&1 &
GW_PID=$!
PIDS+=("$GW_PID")
wait_for grep -q "policy refused: the policy declares exceptions" "$WORK/gateway.log" ||
    fail "unsigned policy with an exception was not refused"
mosquitto_pub -p "$local_PORT" -q 1 -V mqttv5 -t raw/uwb-badge/t1 -m '{"badge":"B-31337"}' || true
sleep 1
stop_gateway
wait "$SUB_PID" || true
grep -q "B-31337" "$WORK/upstream.jsonl" && fail "the kept badge left under an unsigned policy"
[ -s "$WORK/upstream.jsonl" ] && fail "something left under a refused policy"
pass "an unsigned policy with an exception is refused and forwards nothing"
