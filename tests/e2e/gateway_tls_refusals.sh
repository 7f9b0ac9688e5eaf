#!/usr/bin/env bash
# Upstream TLS is verified, hostname included: a broker whose certificate does
# not name the host we connect to, one signed by another CA, and a plaintext
# port are all refused with a clear error, and nothing is delivered to them.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_gateway.sh"

make_test_ca "$WORK/upca" localhost          # the CA the gateway trusts
make_test_ca "$WORK/wrong" wronghost.example # same CA? no: a cert for another host...
# ...signed by the trusted CA, so only the hostname is wrong:
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=wronghost.example" \
    -keyout "$WORK/upca/wrong.key" -out "$WORK/upca/wrong.csr" 2>/dev/null
printf 'subjectAltName=DNS:wronghost.example\nextendedKeyUsage=serverAuth\n' >"$WORK/upca/wrong.cnf"
openssl x509 -req -in "$WORK/upca/wrong.csr" -CA "$WORK/upca/ca.crt" -CAkey "$WORK/upca/ca.key" \
    -CAcreateserial -days 2 -extfile "$WORK/upca/wrong.cnf" -out "$WORK/upca/wrong.crt" 2>/dev/null
chmod 600 "$WORK/upca/wrong.key"

start_broker local
check_refused() { # NAME DESCRIPTION PATTERN
    local name=$1 what=$2 pattern=$3 port_var="${1}_PORT"
    local port=${!port_var}
    cat >"$WORK/$name.yaml" <<YAML
site: t
state_dir: $WORK/state-$name
local: { host: 127.0.0.1, port: $local_PORT, client_id: fg-$name }
upstream: { host: localhost, port: $port, tls: { ca: $WORK/upca/ca.crt } }
policy: { file: $SRC/examples/policy-demo.yaml, required_roles: "" }
YAML
    "$FAIRGATE" run -c "$WORK/$name.yaml" >"$WORK/gw-$name.log" 2>&1 &
    local pid=$!
    PIDS+=("$pid")
    wait_for grep -q "subscribed to" "$WORK/gw-$name.log" || fail "$name: gateway did not start"
    mosquitto_pub -p "$local_PORT" -q 1 -V mqttv5 -t raw/uwb-badge/x -m '{"badge":"B-77777","zone":"z"}'
    wait_for grep -qE "$pattern" "$WORK/gw-$name.log" || { cat "$WORK/gw-$name.log"; fail "$name: no clear error ($pattern)"; }
    sleep 1
    grep -q "upstream: connected" "$WORK/gw-$name.log" && fail "$name: gateway connected to $what"
    kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
    grep -q "stopping with 1 message(s) not yet acknowledged" "$WORK/gw-$name.log" ||
        fail "$name: the message should still be waiting, not delivered"
    pass "refused $what"
}

start_broker wronghost "cafile $WORK/upca/ca.crt" "certfile $WORK/upca/wrong.crt" "keyfile $WORK/upca/wrong.key"
check_refused wronghost "a broker whose certificate names another host" "cannot connect securely: hostname mismatch: the certificate of localhost:[0-9]+ is for wronghost.example, not for localhost"

start_broker otherca "cafile $WORK/wrong/ca.crt" "certfile $WORK/wrong/server.crt" "keyfile $WORK/wrong/server.key"
check_refused otherca "a broker signed by an untrusted CA" "cannot connect securely: the certificate of localhost:[0-9]+ .* is not signed by the configured CA"

start_broker plain
check_refused plain "a plaintext port" "cannot connect securely: .*plaintext"
