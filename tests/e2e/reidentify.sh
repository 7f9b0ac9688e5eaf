#!/usr/bin/env bash
# Re-identification and the worker's own report, on real brokers: only the works
# council's key reveals who is behind a pseudonym, the employer's does not, and
# nobody can after the epoch key is destroyed. Every attempt and every subject
# report is in the audit log, which verifies.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_gateway.sh"

K=$WORK/keys; mkdir -p "$K"
"$FAIRGATE" keys init --role employer "$K/emp" >/dev/null
"$FAIRGATE" keys init --role works-council "$K/wc" >/dev/null
P=$WORK/policy.yaml
policy() { # ROTATE KEEP [VERSION]: a changed policy needs a higher version
    cat >"$P" <<YAML
policy: reident-test
version: ${3:-1}
valid_until: 2099-12-31
pseudonyms: { rotate: $1, keep_keys: $2 }
site_zones: [dock]
routes:
  - name: man-down
    purpose: emergency response
    from: uwb-badge
    to: site/{site}/alerts/{zone}
    fields: { badge: pseudonymise, zone: keep }
YAML
    rm -f "$P.sig"
    "$FAIRGATE" policy sign "$P" --key "$K/emp.key" --role employer >/dev/null
    "$FAIRGATE" policy sign "$P" --key "$K/wc.key" --role works-council >/dev/null
}
policy 24h 30d
start_pair
write_config "$WORK/fairgate.yaml" "$P" "trust: { employer: $K/emp.pub, works_council: $K/wc.pub }" \
    "audit: { flow_interval: 1s }"
sed -i 's/required_roles: ""/required_roles: "employer,works-council"/' "$WORK/fairgate.yaml"
start_gateway "$WORK/fairgate.yaml"
subscribe_upstream "$WORK/upstream.jsonl" --count 4 --idle 10000
for b in B-12345 B-22222 B-12345 B-33333; do
    mosquitto_pub -p "$local_PORT" -q 1 -V mqttv5 -t raw/uwb-badge/t1 -m "{\"badge\":\"$b\",\"zone\":\"dock\"}"
done
wait "$SUB_PID" || true
sleep 2   # one flow summary interval
PS=$(python3 -c "import json,sys; print(json.loads(open(sys.argv[1]).readline())['payload'])" "$WORK/upstream.jsonl" |
    python3 -c "import json,sys; print(json.load(sys.stdin)['badge'])")
[ ${#PS} = 24 ] || fail "no pseudonym upstream"
grep -q "B-12345" "$WORK/upstream.jsonl" && fail "raw badge id upstream"
grep -rq "B-12345" "$WORK/state/reident" && fail "the re-identification table holds an identifier in clear"

C="--config $WORK/fairgate.yaml"
# with the daemon running: events go through its audit inbox
out=$("$FAIRGATE" reidentify $C --route man-down --pseudonym "$PS" --reason "man-down alarm, first aid team needs the name" --key "$K/wc.key")
[ "$out" = B-12345 ] || fail "works council key did not reveal B-12345 (got '$out')"
if "$FAIRGATE" reidentify $C --route man-down --pseudonym "$PS" --reason "employer wants to know who that is" --key "$K/emp.key" >"$WORK/emp.out" 2>&1; then
    fail "the employer's key re-identified"
fi
grep -q "B-12345" "$WORK/emp.out" && fail "identifier leaked to the employer"
if "$FAIRGATE" reidentify $C --route other-route --pseudonym "$PS" --reason "wrong route on purpose" --key "$K/wc.key" >/dev/null 2>&1; then
    fail "a pseudonym of another route was resolved"
fi
pass "only the works council's key re-identifies, and only on the right route"

"$FAIRGATE" subject-report $C --id B-12345 --key "$K/wc.key" --lang en --html "$WORK/report.html" >"$WORK/report.txt" ||
    { cat "$WORK/report.txt"; fail "subject report failed"; }
grep -q "Route man-down, from" "$WORK/report.txt" || { cat "$WORK/report.txt"; fail "report lacks the route"; }
grep -q "$PS" "$WORK/report.txt" || fail "report lacks the pseudonym"
grep -q ": 4 messages to .*, for \"emergency response\"" "$WORK/report.txt" || { cat "$WORK/report.txt"; fail "report lacks the flow"; }
grep -q "<table>" "$WORK/report.html" || fail "no HTML report"
pass "subject report lists the pseudonym and the flows that carried it"
stop_gateway

# Destroy the keys: rotate every second, keep keys one second.
policy 1s 1s 2
if plugin_mode; then
    : >"$WORK/gateway.log"; start_gateway "$WORK/fairgate.yaml"; cp /dev/null "$WORK/gateway2.log"
    wait_for grep -q "deleted the re-identification table" "$WORK/gateway.log" &&
        cp "$WORK/gateway.log" "$WORK/gateway2.log"
else
    "$FAIRGATE" run -c "$WORK/fairgate.yaml" >"$WORK/gateway2.log" 2>&1 &
    GW_PID=$!; PIDS+=("$GW_PID")
fi
wait_for grep -q "deleted the re-identification table" "$WORK/gateway2.log" || fail "table not deleted with its key"
stop_gateway
[ -z "$(ls "$WORK/state/reident")" ] || fail "sealed tables remain after key destruction"
if "$FAIRGATE" reidentify $C --route man-down --pseudonym "$PS" --reason "after key destruction" --key "$K/wc.key" >"$WORK/late.out" 2>&1; then
    fail "re-identified after key destruction"
fi
grep -q "not found" "$WORK/late.out" || fail "no clear message after destruction"
pass "after key destruction nobody can re-identify"

# issue 14: no input is lost at an epoch change (the next key exists before the boundary),
# and a deadline that passes while the daemon is stopped is kept by reidentify itself.
policy 1s 1s 3
mv "$WORK/gateway.log" "$WORK/gateway1.log"
start_gateway "$WORK/fairgate.yaml"
mv "$WORK/sub.log" "$WORK/sub1.log"   # subscribe_upstream waits for a line in a fresh sub.log
subscribe_upstream "$WORK/up3.jsonl" --count 30 --idle 10000
for i in $(seq 10 39); do
    mosquitto_pub -p "$local_PORT" -q 1 -V mqttv5 -t raw/uwb-badge/t1 -m "{\"badge\":\"B-70$i\",\"zone\":\"dock\"}"
    sleep 0.1
done
wait "$SUB_PID" || true
stop_gateway
[ "$(wc -l <"$WORK/up3.jsonl")" -eq 30 ] || fail "inputs lost across epoch changes: $(wc -l <"$WORK/up3.jsonl") of 30"
grep -q "not found" "$WORK/gateway.log" && fail "an input was rejected at an epoch change"
grep -q "final: in=30 .*rejected=0 " "$WORK/gateway.log" || fail "inputs rejected: $(grep final: "$WORK/gateway.log")"
pass "no input is rejected at an epoch change (30 inputs over 3 epochs)"
PS3=$(tail -n 1 "$WORK/up3.jsonl" | python3 -c "import json,sys; print(json.loads(json.load(sys.stdin)['payload'])['badge'])")
[ -n "$(ls "$WORK/state/reident")" ] || fail "no table left at stop (test needs one)"
sleep 3   # past the last epoch's end + keep_keys, with the daemon stopped
if "$FAIRGATE" reidentify $C --route man-down --pseudonym "$PS3" --reason "after the deadline, daemon stopped" --key "$K/wc.key" >"$WORK/off.out" 2>&1; then
    fail "re-identified after the deadline while the daemon was stopped"
fi
grep -q "not found" "$WORK/off.out" || fail "no clear refusal: $(cat "$WORK/off.out")"
[ -z "$(ls "$WORK/state/reident")" ] || fail "tables past their deadline remain: $(ls "$WORK/state/reident")"
ls "$WORK/state/keys" | grep -q '^pseudonym-' && fail "keys past their deadline remain"
grep -q '"action":"pseudonym.key_destroyed","object":{"epoch":[0-9]*,"by":"reidentify' "$WORK/state/audit.log" ||
    fail "the offline destruction is not audited"
pass "with the daemon stopped, reidentify destroys what is due (audited) and refuses"

"$FAIRGATE" audit verify "$WORK/state/audit.log" --key "$WORK/state/audit/audit-first.pub" >"$WORK/verify.txt" ||
    { cat "$WORK/verify.txt"; fail "audit log does not verify"; }
python3 - "$WORK/state/audit.log" <<'PY' || fail "audit events"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
re = [e["object"] for e in ev if e["action"] == "reidentify"]
results = [r["result"] for r in re]
assert any(r == "revealed" for r in results), results
assert any("not the works council" in r for r in results), results
assert sum("not found" in r for r in results) == 3, results
assert all(r["reason"] for r in re)
assert any(e["action"] == "subject_report" for e in ev)
assert any(e["action"] == "pseudonym.key_destroyed" for e in ev)
text = open(sys.argv[1]).read()
assert "B-12345" not in text, "identifier in the audit log"
print("audit: %d re-identification attempts (%s), subject report, key destruction" % (len(re), ", ".join(results)))
PY
pass "every attempt is audited; the log verifies and holds no identifier"
