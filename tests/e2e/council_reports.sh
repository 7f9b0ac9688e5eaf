#!/usr/bin/env bash
# The works council's reports on real brokers, with the numbers checked against
# the log itself: the audit report (en, nl, de) counts what the daemon wrote
# (messages, categories, routes, days, rejected inputs in the daemon's own
# {reason: n} shape), measures a restart from gateway.stop, names refused
# re-identifications, exits non-zero on a damaged log; the gateway writes the
# report into report.dir on SIGUSR1; the subject report of one worker lists
# their re-identification (who, when, why) and its bounds, in Dutch.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_gateway.sh"

K=$WORK/keys; mkdir -p "$K"
"$FAIRGATE" keys init --role employer "$K/emp" >/dev/null
"$FAIRGATE" keys init --role works-council "$K/wc" >/dev/null
"$FAIRGATE" keys init --role works-council "$K/wc-other" >/dev/null
P=$WORK/policy.yaml
cat >"$P" <<YAML
policy: council-test
version: 1
valid_until: 2099-12-31
pseudonyms: { rotate: 24h, keep_keys: 30d }
site_zones: [dock, hall]
routes:
  - name: man-down
    purpose: emergency response
    from: uwb-badge
    to: site/{site}/alerts/{zone}
    fields: { badge: pseudonymise, zone: keep }
YAML
"$FAIRGATE" policy sign "$P" --key "$K/emp.key" --role employer >/dev/null
"$FAIRGATE" policy sign "$P" --key "$K/wc.key" --role works-council >/dev/null
out=$("$FAIRGATE" policy verify "$P" --trust employer="$K/emp.pub" --trust works-council="$K/wc.pub" --lang nl) ||
    fail "policy verify refused a policy signed by both"
grep -q "^Oordeel: dit beleid mag van kracht worden" <<<"$out" || fail "policy verify --lang nl gives no Dutch verdict"
out=$("$FAIRGATE" policy verify "$P" --trust employer="$K/emp.pub" --trust works-council="$K/wc-other.pub" --lang de) &&
    fail "policy verify accepted the wrong works-council key"
grep -q "^Ergebnis: abgelehnt, unterschrieben hat angeblich der Betriebsrat" <<<"$out" || { echo "$out"; fail "no German verdict for a wrong key"; }
pass "policy verify states its verdict in Dutch and German"
start_pair
write_config "$WORK/fairgate.yaml" "$P" "trust: { employer: $K/emp.pub, works_council: $K/wc.pub }" \
    "audit: { flow_interval: 1s }" "report: { dir: $WORK/council, every: 24h }"
sed -i 's/required_roles: ""/required_roles: "employer,works-council"/' "$WORK/fairgate.yaml"
start_gateway "$WORK/fairgate.yaml"
subscribe_upstream "$WORK/upstream.jsonl" --count 3 --idle 10000
T=raw/uwb-badge/t1
pub() { mosquitto_pub -p "$local_PORT" -q 1 -V mqttv5 -t "$1" -m "$2"; }
for b in B-12345 B-22222 B-12345; do pub $T "{\"badge\":\"$b\",\"zone\":\"dock\"}"; done
pub $T 'not json'                        # malformed
pub $T '{"badge":77}'                    # wrong type
pub raw/coffee/c1 '{"cups":3}'           # unknown topic
wait "$SUB_PID" || true
wait_for grep -q "rejected=3" "$WORK/gateway.log" || fail "gateway did not count 3 rejected inputs"
sleep 2 # one flow summary interval
PS=$(python3 -c "import json,sys; print(json.loads(json.loads(open(sys.argv[1]).readline())['payload'])['badge'])" "$WORK/upstream.jsonl")
C="--config $WORK/fairgate.yaml"
"$FAIRGATE" reidentify $C --route man-down --pseudonym "$PS" --reason "man-down alarm at the dock, first aid" \
    --key "$K/wc.key" >/dev/null 2>&1 || fail "works council could not re-identify"
! "$FAIRGATE" reidentify $C --route man-down --pseudonym "$PS" --reason "employer_curious_about_this_worker_very_long_reason_without_spaces_xxxxxxxxxxxxxxxxxxxxxxxx" \
    --key "$K/emp.key" >/dev/null 2>&1 || fail "the employer re-identified"

# the report on demand, written by the daemon itself
wait_for test -s "$WORK/council/verification.txt" || fail "no report at start in report.dir"
rm -f "$WORK/council/verification.txt"
kill -USR1 "$GW_PID"
wait_for test -s "$WORK/council/verification.txt" || fail "SIGUSR1 did not write the report"
grep -q "^\[nl\] .*ONBESCHADIGD" "$WORK/council/verification.txt" || fail "verification.txt lacks the Dutch verdict"
FP=$(grep -o '[0-9a-f]\{4\}\(-[0-9a-f]\{4\}\)\{5\}' "$WORK/council/verification.txt" | head -1)
grep -q "first key fingerprint $FP" "$WORK/gateway.log" || fail "verification.txt fingerprint differs from the daemon's"
for l in en nl de; do [ -s "$WORK/council/audit-report-$l.html" ] || fail "report.dir lacks $l"; done
pass "the gateway writes the verified report in en/nl/de with the fingerprint, on schedule and on SIGUSR1"

# the worker's own report, in Dutch
"$FAIRGATE" subject-report $C --id B-12345 --key "$K/wc.key" --lang nl --html "$WORK/subject.html" >"$WORK/subject.txt" \
    || fail "subject report failed"
grep -q "man-down alarm at the dock, first aid" "$WORK/subject.txt" || fail "subject report lacks the re-identification's reason"
grep -q "de ondernemingsraad" "$WORK/subject.txt" || fail "subject report does not say who re-identified"
grep -q "bovengrens" "$WORK/subject.txt" || fail "subject report lacks the upper-bound caveat"
grep -q "30 dagen" "$WORK/subject.txt" || fail "subject report does not say when keys are destroyed"
grep -Eq "period [0-9]|epoch [0-9]" "$WORK/subject.txt" "$WORK/subject.html" && fail "subject report shows epoch numbers"
grep -q 'lang="nl"' "$WORK/subject.html" || fail "subject html not Dutch"
grep -q 'data-reid="1"' "$WORK/subject.html" || fail "subject html lacks the re-identification"
pass "subject report (nl): re-identification with who and why, upper bound, keep_keys, dates"

# a restart: the gap runs from gateway.stop to the next gateway.start
stop_gateway
sleep 3
mv "$WORK/gateway.log" "$WORK/gateway-run1.log"
start_gateway "$WORK/fairgate.yaml"
stop_gateway
LOG=$WORK/state/audit.log
KEY=$WORK/state/audit/audit-first.pub
for l in en nl de; do
    "$FAIRGATE" audit report "$LOG" --key "$KEY" --lang $l --config "$WORK/fairgate.yaml" --html "$WORK/report.$l.html" >/dev/null ||
        fail "audit report --lang $l exit $?"
    grep -q "<html lang=\"$l\"" "$WORK/report.$l.html" || fail "report is not in $l"
done
R=$WORK/report.en.html
fig() { grep -o "data-figure=\"$1\" data-value=\"[0-9]*\"" "$R" | grep -o '[0-9]*"$' | tr -d '"'; }
msgs=$(jq -s '[.[] | select(.action=="flow.summary") | .object.count] | add // 0' "$LOG")
rej=$(jq -s '[.[] | select(.action=="input.rejected") | .object | to_entries[] | select(.value|type=="number") | .value] | add // 0' "$LOG")
[ "$msgs" -ge 3 ] || fail "the log has only $msgs messages"
[ "$rej" = 3 ] || fail "the log has $rej rejected inputs, expected 3"
[ "$(fig messages)" = "$msgs" ] || fail "report says $(fig messages) messages, the log $msgs"
[ "$(fig rejected)" = "$rej" ] || fail "report says $(fig rejected) rejected, the log $rej"
for l in nl de; do
    grep -q "data-figure=\"rejected\" data-value=\"$rej\"" "$WORK/report.$l.html" || fail "$l report: wrong rejected count"
done
jq -rs '[.[] | select(.action=="flow.summary") | .object | {c: .categories[], n: .count}] | group_by(.c) | .[] | "\(.[0].c) \(map(.n)|add)"' "$LOG" | sort >"$WORK/cats.log"
grep -o 'data-category="[^"]*" data-count="[0-9]*"' "$R" | sed -E 's/data-category="([^"]*)" data-count="([0-9]*)"/\1 \2/' | sort >"$WORK/cats.report"
diff "$WORK/cats.log" "$WORK/cats.report" || fail "categories differ from the log"
jq -rs '[.[] | select(.action=="flow.summary") | .object] | group_by(.route) | .[] | "\(.[0].route) \(map(.count)|add)"' "$LOG" | sort >"$WORK/routes.log"
grep -o 'data-route="[^"]*" data-count="[0-9]*"' "$R" | sed -E 's/data-route="([^"]*)" data-count="([0-9]*)"/\1 \2/' | sort >"$WORK/routes.report"
diff "$WORK/routes.log" "$WORK/routes.report" || fail "routes differ from the log"
jq -rs '[.[] | select(.action=="flow.summary") | .object] | group_by(.since[0:10]) | .[] | "\(.[0].since[0:10]) \(map(.count)|add)"' "$LOG" | sort >"$WORK/days.log"
grep -o 'data-day="[^"]*" data-count="[0-9]*"' "$R" | sed -E 's/data-day="([^"]*)" data-count="([0-9]*)"/\1 \2/' | sort >"$WORK/days.report"
diff "$WORK/days.log" "$WORK/days.report" || fail "days differ from the log"
# restart gap: from the first run's gateway.stop to the second run's gateway.start
gap=$(python3 - "$LOG" <<'PY'
import json, sys, datetime
ev = [json.loads(l) for l in open(sys.argv[1]) if l.startswith('{"seq"')]
t = lambda e: int(datetime.datetime.fromisoformat(e['time'].replace('Z', '+00:00')).timestamp() * 1000)
stop = next(e for e in ev if e['action'] == 'gateway.stop')
start = [e for e in ev if e['action'] == 'gateway.start'][1]
print(t(start) - t(stop))
PY
)
grep -q "data-gap=\"restart\" data-gap-ms=\"$gap\"" "$R" || { grep -o 'data-gap=[^>]*' "$R"; fail "restart gap is not $gap ms"; }
[ "$gap" -ge 2500 ] || fail "restart gap only $gap ms"
# the employer's refused attempt stands out, and its long reason wraps
grep -q 'class="refused" data-action="reidentify"' "$R" || fail "refused re-identification not highlighted"
grep -q 'overflow-wrap:anywhere' "$R" || fail "no wrapping of long strings"
grep -q '@page{size:A4' "$R" || fail "no A4 print styles"
grep -q 'data-figure="refused" data-value="1"' "$R" || fail "first page does not count 1 refusal"
grep -q "route man-down: .*every single message: badge as a pseudonym that changes every day" "$R" ||
    fail "first page does not say how coarse route man-down is"
grep -q "elk afzonderlijk bericht: badge als pseudoniem dat elke dag wisselt" "$WORK/report.nl.html" ||
    fail "Dutch first page does not say how coarse route man-down is"
pass "report numbers equal the log: $msgs messages, $rej rejected, categories, routes, days, restart gap ${gap} ms"

# a damaged log: the report still says so, and the exit status too
cp "$LOG" "$WORK/bad.log"
sed -i '5s/"gateway"/"gatewaX"/' "$WORK/bad.log"
rc=0; "$FAIRGATE" audit report "$WORK/bad.log" --key "$KEY" --html "$WORK/bad.html" >/dev/null 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "report on a damaged log exited $rc, expected 1"
grep -q 'id="verification" data-ok="0"' "$WORK/bad.html" || fail "damaged report does not say so"
rc=0; "$FAIRGATE" audit report "$WORK/none.log" --key "$KEY" --html "$WORK/x.html" >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "report on a missing log exited $rc, expected 2"
pass "report exit codes: 0 intact, 1 damaged, 2 unreadable"

# kept for council_screenshots.sh, which renders them with chromium
A=$BUILD/test-artifacts/council; mkdir -p "$A"
for l in en nl de; do cp "$WORK/report.$l.html" "$A/audit-report-$l.html"; done
cp "$WORK/subject.html" "$A/subject-report-nl.html"
