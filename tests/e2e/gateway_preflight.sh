#!/usr/bin/env bash
# TLS pre-flight before connecting: a client key readable by others stops the
# gateway with one clear sentence; a client certificate that expires within 30
# days is warned about and audited, and the gateway runs.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_gateway.sh"

start_pair
"$FAIRGATE" certs init-ca --site Preflight "$WORK/site" >/dev/null
"$FAIRGATE" certs issue --ca "$WORK/site" --kind gateway --name gw --days 10 >/dev/null
cat "$WORK/upca/ca.crt" "$WORK/site/ca.crt" >"$WORK/both-ca.crt"
write_config "$WORK/fairgate.yaml" "$SRC/examples/policy-demo.yaml"
sed -i "s|tls: { ca: $WORK/upca/ca.crt }|tls: { ca: $WORK/both-ca.crt, cert: $WORK/site/gw.crt, key: $WORK/site/gw.key }|" "$WORK/fairgate.yaml"
grep -q "cert: $WORK/site/gw.crt" "$WORK/fairgate.yaml" || fail "config not rewritten"

chmod 644 "$WORK/site/gw.key"
if timeout 30 "$FAIRGATE" run -c "$WORK/fairgate.yaml" >"$WORK/refused.log" 2>&1; then fail "started with a world-readable key"; fi
grep -q "TLS pre-flight failed: .*gw.key.*readable by others" "$WORK/refused.log" ||
    { cat "$WORK/refused.log"; fail "no clear sentence for a world-readable key"; }
pass "a client key readable by others stops the gateway"

chmod 600 "$WORK/site/gw.key"
start_gateway "$WORK/fairgate.yaml"
grep -qE "client certificate .*gw.crt expires in (9|10) day" "$WORK/gateway.log" || fail "no expiry warning"
stop_gateway
grep -q '"action":"certificate.expiring".*"days_left":\(9\|10\)' "$WORK/state/audit.log" || fail "expiry not audited"
pass "a certificate expiring within 30 days is warned about and audited"
