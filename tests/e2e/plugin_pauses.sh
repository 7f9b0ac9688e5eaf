#!/usr/bin/env bash
# How long fairgate inside mosquitto stalls the broker's one thread while the
# slow work happens: 1,000 badge messages a second (a new pseudonym, sealed for
# the works council, every few messages) while pseudonym keys rotate every
# second and are destroyed two seconds later, the signed policy is replaced
# every 2 s (read, signatures checked, parsed, installed), and the audit log
# writes a checkpoint every 10 events and a flow summary every second. Prints
# the plugin's per-callback pause histogram; asserts only that the work
# happened (rotations, reloads, traffic) and that no input was refused at a
# rotation, never a time.
source "$(dirname "$0")/lib.sh"
FAIRGATE_MODE=plugin
source "$(dirname "$0")/lib_gateway.sh"
SECS=${FAIRGATE_PAUSE_S:-15}
FAIRGATE_PAUSE_ROTATE_SET=${FAIRGATE_PAUSE_ROTATE:-}   # FAIRGATE_PAUSE_ROTATE=24h: the same without rotations

K=$WORK/keys; mkdir -p "$K"
"$FAIRGATE" keys init --role employer "$K/emp" >/dev/null
"$FAIRGATE" keys init --role works-council "$K/wc" >/dev/null
P=$WORK/policy.yaml
policy() { # VERSION
    cat >"$P.new" <<YAML
policy: pause-test
version: $1
valid_until: 2099-12-31
pseudonyms: { rotate: ${FAIRGATE_PAUSE_ROTATE:-1s}, keep_keys: 2s }
site_zones: [assembly-1, assembly-2, warehouse, canteen, office, dock]
routes:
  - name: positions
    purpose: evacuation roll-call
    from: uwb-badge
    to: site/{site}/positions/{zone}
    fields: { badge: pseudonymise, zone: keep, x: generalise(5), y: generalise(5) }
    retention: 1h
YAML
    rm -f "$P.new.sig"
    "$FAIRGATE" policy sign "$P.new" --key "$K/emp.key" --role employer >/dev/null
    "$FAIRGATE" policy sign "$P.new" --key "$K/wc.key" --role works-council >/dev/null
    mv "$P.new.sig" "$P.sig"; mv "$P.new" "$P"
}
policy 1
plugin_ports
write_config "$WORK/fairgate.yaml" "$P" "trust: { employer: $K/emp.pub, works_council: $K/wc.pub }" \
    "audit: { flow_interval: 1s, checkpoint_events: 10 }"
sed -i 's/required_roles: ""/required_roles: "employer,works-council"/' "$WORK/fairgate.yaml"
start_gateway "$WORK/fairgate.yaml"
subscribe_upstream "$WORK/upstream.jsonl" --idle 5000

"$FAIRGATE" simulate --port "$local_PORT" --rate 1000 --duration "${SECS}s" --workers 400 --seed 5 \
    2>>"$WORK/sim.log" &
SIM=$!; PIDS+=("$SIM")
for v in $(seq 2 $((SECS / 2))); do sleep 2; policy "$v"; done
wait "$SIM" || fail "simulator failed"
sleep 2
stop_gateway
wait "$SUB_PID" || true
[ -s "$WORK/upstream.jsonl" ] || fail "nothing arrived upstream"
reloads=$(grep -c "reloaded policy pause-test" "$WORK/gateway.log" || true)
rotations=$(grep -c "new pseudonym epoch" "$WORK/gateway.log" || true)
destroyed=$(grep -c "deleted the re-identification table" "$WORK/gateway.log" || true)
echo "policy reloads $reloads, key rotations $rotations, sealed tables destroyed $destroyed"
((reloads >= 3 && (rotations >= 5 || ${#FAIRGATE_PAUSE_ROTATE_SET} > 0))) || fail "the slow work did not happen"
if grep -q "refused an input: policy error" "$WORK/gateway.log"; then
    fail "inputs were refused at a key rotation (the new epoch had no key yet)"
fi
"$FAIRGATE" audit verify "$WORK/state/audit.log" --key "$WORK/state/audit/audit-first.pub" >/dev/null ||
    fail "audit log does not verify"
grep "stats: final" "$WORK/gateway.log" | sed 's/.*stats: final: //'
pass "pauses of the broker's loop measured under rotation, reloads and audit writes"
