#!/usr/bin/env bash
# Co-determination on real brokers: the gateway puts a policy into effect only
# when the employer and the works council both signed its exact bytes with the
# configured keys and it has not expired. Unsigned, one signature, edited after
# signing, signed with an unknown key and expired policies are refused by
# `policy verify` and by the running daemon; a swap to an invalid policy at
# runtime leaves the old one in force; the audit log records every decision
# and verifies.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_gateway.sh"

K=$WORK/keys; mkdir -p "$K"
"$FAIRGATE" keys init --role employer "$K/emp" >/dev/null
"$FAIRGATE" keys init --role works-council "$K/wc" >/dev/null
"$FAIRGATE" keys init --role employer "$K/rogue" >/dev/null    # not the configured key
[ "$(stat -c %a "$K/wc.key")" = 600 ] || fail "secret key is not mode 0600"

P=$WORK/policy.yaml
mk_policy() { # VERSION VALID_UNTIL TOPIC_WORD
    cat >"$P.$1" <<YAML
policy: sig-test
version: $1
valid_until: $2
site_zones: [hall]
routes:
  - name: positions
    purpose: evacuation roll-call
    from: uwb-badge
    to: site/{site}/$3/{zone}
    fields: { badge: pseudonymise, zone: keep }
YAML
}
sign() { "$FAIRGATE" policy sign "$1" --key "$K/$2.key" --role "$3" >/dev/null; }
install_policy() { cp "$1" "$P"; if [ -f "$1.sig" ]; then cp "$1.sig" "$P.sig"; else rm -f "$P.sig"; fi; }
verify() { "$FAIRGATE" policy verify "$1" --trust employer="$K/emp.pub" --trust works-council="$K/wc.pub"; }

mk_policy 1 2099-12-31 v1; sign "$P.1" emp employer; sign "$P.1" wc works-council
mk_policy 2 2099-12-31 v2                                              # unsigned
mk_policy 3 2099-12-31 v3; sign "$P.3" emp employer                    # employer only
mk_policy 4 2099-12-31 v4; sign "$P.4" emp employer; sign "$P.4" wc works-council
sed -i 's/evacuation roll-call/evacuation roll-calL/' "$P.4"           # one byte edited after signing
mk_policy 5 2099-12-31 v5; sign "$P.5" rogue employer; sign "$P.5" wc works-council
mk_policy 6 2020-01-31 v6; sign "$P.6" emp employer; sign "$P.6" wc works-council   # expired

verify "$P.1" >"$WORK/v1.txt" || { cat "$WORK/v1.txt"; fail "policy verify refused the valid policy"; }
grep -q "VERDICT: may take effect" "$WORK/v1.txt" || fail "no positive verdict"
for n in 2 3 4 5 6; do
    if verify "$P.$n" >"$WORK/v$n.txt"; then cat "$WORK/v$n.txt"; fail "policy verify accepted case $n"; fi
done
grep -q "not signed" "$WORK/v2.txt" || fail "v2: reason"
grep -q "not signed by the works-council" "$WORK/v3.txt" || fail "v3: reason"
grep -q "changed after signing" "$WORK/v4.txt" || fail "v4: reason"
grep -q "not the configured employer key" "$WORK/v5.txt" || fail "v5: reason"
grep -q "expired" "$WORK/v6.txt" || fail "v6: reason"
pass "policy verify: valid accepted; unsigned, one role, edited, unknown key, expired refused"

start_pair
write_config "$WORK/fairgate.yaml" "$P" \
    "trust: { employer: $K/emp.pub, works_council: $K/wc.pub }"
sed -i 's/required_roles: \\"\\"/required_roles: "employer,works-council"/; s/required_roles: ""/required_roles: "employer,works-council"/' "$WORK/fairgate.yaml"
grep -q 'required_roles: "employer,works-council"' "$WORK/fairgate.yaml" || fail "config not rewritten"

install_policy "$P.2"     # start with an unsigned policy: nothing may leave
start_gateway "$WORK/fairgate.yaml"
subscribe_upstream "$WORK/upstream.jsonl" --idle 60000 --total 120000
grep -q "policy refused: the policy is not signed" "$WORK/gateway.log" || fail "unsigned policy not refused at start"

n=0
send() { n=$((n + 1)); mosquitto_pub -p "$local_PORT" -q 1 -V mqttv5 -t raw/uwb-badge/t1 -m "{\"badge\":\"B-5555$n\",\"zone\":\"hall\"}"; }
expect_upstream() { # COUNT TOPIC_WORD
    wait_for bash -c "[ \$(grep -c '/$2/' '$WORK/upstream.jsonl') -ge $1 ]" || {
        cat "$WORK/upstream.jsonl"; fail "expected $1 message(s) on /$2/ upstream"; }
}
send; sleep 1.5
[ ! -s "$WORK/upstream.jsonl" ] || fail "something left under an unsigned policy"
if plugin_mode; then   # inside mosquitto the publisher hears it: refused (0x87), not acknowledged
    out=$("$TOOLS/fg_seqpub" --port "$local_PORT" --topic raw/uwb-badge/t1 --count 3 --timeout 5000 2>&1 || true)
    echo "$out" | grep -q "acked 0" || fail "raw inputs under an unsigned policy were acknowledged: $out"
fi

swap() { # N: install case N and wait until the gateway has looked at it
    local before; before=$(grep -c "policy or signature file changed" "$WORK/gateway.log" || true)
    sleep 1.1   # distinct mtimes
    install_policy "$P.$1"
    wait_for bash -c "[ \$(grep -c 'policy or signature file changed' '$WORK/gateway.log') -gt $before ]" ||
        fail "gateway did not notice policy $1"
    sleep 0.3
}
swap 1; grep -q "reloaded policy sig-test version 1" "$WORK/gateway.log" || fail "valid policy not loaded"
send; expect_upstream 1 v1
for bad in 3 4 5 6; do
    swap "$bad"
    send; expect_upstream $((bad - 1)) v1     # still the old policy's topic
done
grep -q '/v[3-6]/' "$WORK/upstream.jsonl" && fail "a refused policy took effect"
kill -HUP "$GW_PID"; sleep 0.5   # SIGHUP goes through the same check
stop_gateway
pass "daemon: only the policy both sides signed took effect; refused swaps left it in force"

LOG=$WORK/state/audit.log
"$FAIRGATE" audit verify "$LOG" --key "$WORK/state/audit/audit-first.pub" >"$WORK/verify.txt" ||
    { cat "$WORK/verify.txt"; fail "audit log does not verify"; }
python3 - "$LOG" <<'PY' || fail "audit events"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
acts = [e["action"] for e in ev]
ref = [e["object"]["reason"] for e in ev if e["action"] == "policy.refused"]
exp = [e for e in ev if e["action"] == "policy.expired"]
loaded = [e["object"] for e in ev if e["action"] in ("policy.loaded", "policy.reloaded")]
want = ["not signed", "not signed by the works-council", "changed after signing", "not the configured employer key"]
for w in want:
    assert any(w in r for r in ref), "no refusal mentioning %r in %r" % (w, ref)
assert exp, "expired policy not audited"
assert len(loaded) == 1 and loaded[0]["version"] == 1, loaded
roles = sorted(s["role"] for s in loaded[0]["signers"])
assert roles == ["employer", "works-council"], roles
assert "gateway.start" in acts and "gateway.stop" in acts
print("audit: %d refusals, %d expired, 1 load signed by %s" % (len(ref), len(exp), roles))
PY
pass "the audit log verifies and records every policy decision"
