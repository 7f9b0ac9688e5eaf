#!/usr/bin/env bash
# A policy whose valid_until passes while fairgate runs inside mosquitto: inputs
# are minimised before, refused (reason 0x87, nothing routed) after; the expiry
# is logged and audited, and the audit log verifies.
source "$(dirname "$0")/lib.sh"
FAIRGATE_MODE=plugin
source "$(dirname "$0")/lib_gateway.sh"

source "$(dirname "$0")/lib_fault.sh"
UNTIL=$(date -u -d "@$(($(date +%s) + 8))" +%Y-%m-%dT%H:%M:%SZ)
fault_types_and_policy 1h   # the seqtest sensor type and a one-route policy
sed -i "s/^valid_until: .*/valid_until: $UNTIL/" "$WORK/policy.yaml"
grep -q "valid_until: $UNTIL" "$WORK/policy.yaml" || fail "policy not rewritten"
plugin_ports
fault_config "$WORK/fairgate.yaml"
start_gateway "$WORK/fairgate.yaml"
subscribe_upstream "$WORK/upstream.jsonl" --idle 15000
out=$("$TOOLS/fg_seqpub" --port "$local_PORT" --topic "$SEQ_TOPIC" --count 3 --timeout 5000 2>&1 || true)
echo "$out" | grep -q "acked 3" || fail "inputs under a valid policy were not acknowledged: $out"
wait_for grep -q '"topic":"site/' "$WORK/upstream.jsonl" || fail "nothing minimised upstream before expiry"
before=$(wc -l <"$WORK/upstream.jsonl")
while (($(date +%s) <= $(date -u -d "$UNTIL" +%s))); do sleep 0.5; done
sleep 1
out=$("$TOOLS/fg_seqpub" --port "$local_PORT" --topic "$SEQ_TOPIC" --start 100 --count 3 --timeout 5000 2>&1 || true)
echo "$out" | grep -q "acked 0" || fail "inputs after expiry were acknowledged: $out"
wait_for grep -q "the policy has expired" "$WORK/gateway.log" || fail "expiry not logged"
sleep 1.5
[ "$(wc -l <"$WORK/upstream.jsonl")" = "$before" ] || fail "something left after the policy expired"
stop_gateway
stop_pid TERM "$SUB_PID"
"$FAIRGATE" audit verify "$WORK/state/audit.log" --key "$WORK/state/audit/audit-first.pub" >/dev/null ||
    fail "audit log does not verify"
grep -q '"action":"policy.expired"' "$WORK/state/audit.log" || fail "expiry not audited"
grep -q '"no valid policy":3' "$WORK/state/audit.log" || fail "refusals not audited by reason"
pass "an expired policy refuses raw inputs inside mosquitto; logged, audited, the log verifies"
