#!/usr/bin/env bash
# Co-determination that cannot be weakened silently (issue 14), on real brokers:
#  - the employer's key relabelled as the works council's is refused by policy verify,
#    config check and the daemon (which seals re-identification tables to nobody else);
#  - required_roles reduced to the employer: the daemon runs, but every start writes a
#    trust event and a trust.weakened event, shown by /status, /metrics and the report;
#  - a changed works-council key is a weakening until `keys accept-trust`;
#  - a downgrade to an older, validly signed version is refused on reload.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_gateway.sh"

K=$WORK/keys; mkdir -p "$K"
for r in employer:emp works-council:wc works-council:wc2; do
    "$FAIRGATE" keys init --role "${r%%:*}" "$K/${r##*:}" >/dev/null
done
sed 's/ employer / works-council /' "$K/emp.pub" >"$K/fake-wc.pub"
"$FAIRGATE" keys show "$K/fake-wc.pub" | grep -q '^role: *employer$' ||
    fail "a relabelled key file shows the word, not its certified role"

P=$WORK/policy.yaml
mk_policy() { # VERSION TOPIC_WORD
    cat >"$P.$1" <<YAML
policy: codet-test
version: $1
valid_until: 2099-12-31
site_zones: [canteen, dock, hall]
routes:
  - name: zones
    purpose: occupancy
    from: uwb-badge
    to: site/{site}/$2/{zone}
    fields: { zone: keep }
YAML
    "$FAIRGATE" policy sign "$P.$1" --key "$K/emp.key" --role employer >/dev/null
    "$FAIRGATE" policy sign "$P.$1" --key "$K/wc.key" --role works-council >/dev/null
}
mk_policy 1 v1
mk_policy 2 v2
install_policy() { cp "$P.$1" "$P"; cp "$P.$1.sig" "$P.sig"; }
install_policy 2

start_pair
C=$WORK/fairgate.yaml
runs=0
restart() { # start_gateway waits for lines in gateway.log: start each run with a fresh one
    runs=$((runs + 1))
    [ -f "$WORK/gateway.log" ] && mv "$WORK/gateway.log" "$WORK/gateway.$runs.log"
    start_gateway "$C"
}
config() { # WORKS_COUNCIL_PUB REQUIRED [extra yaml...]
    local wc=$1 req=$2; shift 2
    write_config "$C" "$P" "trust: { employer: $K/emp.pub, works_council: $wc }" "$@"
    sed -i "s/required_roles: \"\"/required_roles: \"$req\"/" "$C"
}

# 1. Trust anchor swap: refused everywhere.
config "$K/fake-wc.pub" "employer,works-council"
if "$FAIRGATE" policy verify "$P" --config "$C" >"$WORK/pv.txt" 2>&1; then
    cat "$WORK/pv.txt"; fail "policy verify accepted the employer's key as the works council's"
fi
grep -q "certified as a key of the employer" "$WORK/pv.txt" || fail "policy verify: reason: $(cat "$WORK/pv.txt")"
if "$FAIRGATE" config check "$C" >"$WORK/cc.txt" 2>&1; then
    fail "config check said valid: $(cat "$WORK/cc.txt")"
fi
grep -q "certified as a key of the employer" "$WORK/cc.txt" || fail "config check: reason: $(cat "$WORK/cc.txt")"
set +e
timeout 20 "$FAIRGATE" run -c "$C" >"$WORK/swap.log" 2>&1
rc=$?
set -e
[ "$rc" != 0 ] && [ "$rc" != 124 ] || fail "the daemon ran with the employer's key as the works council's (rc $rc)"
grep -q "certified as a key of the employer\|not certified as a works-council key" "$WORK/swap.log" ||
    fail "daemon: no reason: $(cat "$WORK/swap.log")"
pass "the employer's key relabelled as the works council's is refused by verify, check and daemon"

# 2. Genuine keys, but only the employer required: runs, weakened, visible.
METRICS=()
if "$FAIRGATE" run --help-config | grep -q "^  metrics.port "; then
    MP=$(free_port)
    METRICS=("metrics: { port: $MP }")
fi
config "$K/wc.pub" "employer" "${METRICS[@]}"
rm -rf "$WORK/state"
restart
grep -q "WEAKENED" "$WORK/gateway.log" || fail "no weakening in the daemon log"
if [ -n "${MP:-}" ]; then
    wait_for grep -q "serving /metrics" "$WORK/gateway.log" || fail "metrics endpoint not started"
    exec 3<>"/dev/tcp/127.0.0.1/$MP"
    printf 'GET /status HTTP/1.0\r\n\r\n' >&3
    status=$(cat <&3); exec 3<&-
    grep -q '"trust_weakenings":[1-9]' <<<"$status" || fail "/status does not show the weakening: $status"
    grep -q 'codetermination_off' <<<"$status" || fail "/status does not name it"
    exec 3<>"/dev/tcp/127.0.0.1/$MP"
    printf 'GET /metrics HTTP/1.0\r\n\r\n' >&3
    metrics=$(cat <&3); exec 3<&-
    grep -q '^fairgate_trust_weakenings [1-9]' <<<"$metrics" || fail "no weakening metric"
    pass "/status and /metrics show the weakening"
fi

# 3. Downgrade on reload: the older, validly signed version 1 is refused.
sleep 1.1
install_policy 1
kill -HUP "$GW_PID"
wait_for grep -q "older than version 2" "$WORK/gateway.log" || fail "downgrade not refused"
stop_gateway
pass "a downgrade to an older signed version is refused on reload"

restart   # the weakening repeats at every start while it lasts
stop_gateway
LOG=$WORK/state/audit.log
n=$(grep -c '"action":"trust.weakened".*codetermination_off' "$LOG" || true)
[ "$n" -ge 3 ] || fail "codetermination_off audited $n time(s), wanted one per start and reload"
grep -q '"action":"trust","object":{"roles":{"employer":"' "$LOG" || fail "no trust event"
grep -q '"action":"policy.refused".*older than version 2' "$LOG" || fail "downgrade not audited"
"$FAIRGATE" audit report "$LOG" --key "$WORK/state/audit/audit-first.pub" --html "$WORK/r.html" \
    >/dev/null || fail "report"
grep -q 'id="weakenings" data-count="[1-9]' "$WORK/r.html" || fail "report does not show the weakening"
pass "every start writes trust and trust.weakened; the report shows the weakening on top"

# 4. A changed works-council key is a weakening until accepted (audited).
install_policy 2
config "$K/wc2.pub" "employer,works-council"
restart
stop_gateway
tail -n 20 "$LOG" | grep -q '"kind":"trust_key_changed","role":"works-council"' ||
    fail "changed works-council key not reported"
"$FAIRGATE" keys accept-trust "$C" >"$WORK/accept.txt" || fail "accept-trust: $(cat "$WORK/accept.txt")"
grep -q '"action":"trust.accepted"' "$LOG" || fail "acceptance not audited"
restart
stop_gateway
awk '/"action":"trust"/{last=NR} {line[NR]=$0} END{for(i=last;i<=NR;i++) print line[i]}' "$LOG" |
    grep -q 'trust_key_changed' && fail "key change still reported after accept-trust"
"$FAIRGATE" audit verify "$LOG" --key "$WORK/state/audit/audit-first.pub" >/dev/null ||
    fail "audit log does not verify"
pass "a changed key is a weakening until accept-trust, which is audited"
