#!/usr/bin/env bash
# Weak upstream TLS is refused before connecting, on real mosquitto TLS listeners
# with certificates made here (the listeners lower OpenSSL's security level so that
# they serve them at all): an RSA-1024 server key, a SHA-1 signature, a certificate
# whose CN alone names the host (no subjectAltName). A certificate whose SAN holds a
# forged log line cannot write that line into the log. An RSA-2048/SHA-256 server
# with a SAN, from the same CA, is accepted (the control).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_gateway.sh"

C=$WORK/upca
make_test_ca "$C" localhost
# server NAME KEYSPEC DIGEST EXTFILE_LINES: a server certificate signed by the test CA
server() {
    local name=$1 keyspec=$2 digest=$3 ext=$4
    openssl req -newkey "$keyspec" -nodes -subj "/CN=localhost" -keyout "$C/$name.key" \
        -out "$C/$name.csr" 2>/dev/null
    printf '%b' "$ext" >"$C/$name.cnf"
    openssl x509 -req -in "$C/$name.csr" -CA "$C/ca.crt" -CAkey "$C/ca.key" -CAcreateserial \
        -days 2 "-$digest" -extfile "$C/$name.cnf" -out "$C/$name.crt" 2>/dev/null ||
        fail "openssl could not make $name"
    chmod 600 "$C/$name.key"
}
SAN='subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n'
server rsa2048 rsa:2048 sha256 "$SAN"
server rsa1024 rsa:1024 sha256 "$SAN"
server sha1 ec:<(openssl ecparam -name prime256v1) sha1 "$SAN"
server nosan ec:<(openssl ecparam -name prime256v1) sha256 'extendedKeyUsage=serverAuth\n'
server forged ec:<(openssl ecparam -name prime256v1) sha256 \
    'subjectAltName=DNS:localhost,DNS:evil.example;Q~Z2026-11-28T10:00:00.000Z INFO  upstream: connected to evil.example:8883\nextendedKeyUsage=serverAuth\n'
# the forged name gets a real line break; that breaks the signature, so the peer is refused
# and its names are printed in the explanation: exactly where they must be escaped
python3 - "$C/forged.crt" <<'PY'
import base64, re, sys
pem = open(sys.argv[1]).read()
der = base64.b64decode("".join(l for l in pem.splitlines() if "-----" not in l))
assert der.count(b"Q~Z") == 1
der = der.replace(b"Q~Z", b"Q\nZ")
b64 = base64.b64encode(der).decode()
open(sys.argv[1], "w").write("-----BEGIN CERTIFICATE-----\n" +
    "\n".join(b64[i:i + 64] for i in range(0, len(b64), 64)) + "\n-----END CERTIFICATE-----\n")
PY
openssl x509 -in "$C/rsa1024.crt" -noout -text | grep -q "Public-Key: (1024 bit)" || fail "no RSA-1024 cert"
openssl x509 -in "$C/sha1.crt" -noout -text | grep -q "ecdsa-with-SHA1" || fail "no SHA-1 cert"
openssl x509 -in "$C/nosan.crt" -noout -text | grep -q "Alternative" && fail "nosan has a SAN"

start_broker local
# listener NAME: a TLS upstream serving NAME.crt at OpenSSL security level 0
listener() {
    start_broker "$1" "cafile $C/ca.crt" "certfile $C/$1.crt" "keyfile $C/$1.key" \
        "ciphers DEFAULT:@SECLEVEL=0"
}
gateway() { # NAME
    local name=$1 port_var="${1}_PORT"
    cat >"$WORK/$name.yaml" <<YAML
site: t
state_dir: $WORK/state-$name
local: { host: 127.0.0.1, port: $local_PORT, client_id: fg-$name }
upstream: { host: localhost, port: ${!port_var}, tls: { ca: $C/ca.crt } }
policy: { file: $SRC/examples/policy-demo.yaml, required_roles: "" }
YAML
    "$FAIRGATE" run -c "$WORK/$name.yaml" >"$WORK/gw-$name.log" 2>&1 &
    GW=$!
    PIDS+=("$GW")
    wait_for grep -q "subscribed to" "$WORK/gw-$name.log" || fail "$name: gateway did not start"
}
check_refused() { # NAME DESCRIPTION PATTERN
    local name=$1 what=$2 pattern=$3
    listener "$name"
    # the listener really serves it: openssl at level 0 completes a handshake
    echo | openssl s_client -connect "127.0.0.1:$(eval echo \$${name}_PORT)" -CAfile "$C/ca.crt" \
        -cipher DEFAULT:@SECLEVEL=0 2>/dev/null | grep -q "BEGIN CERTIFICATE" ||
        fail "$name: the listener does not serve its certificate"
    gateway "$name"
    mosquitto_pub -p "$local_PORT" -q 1 -V mqttv5 -t raw/uwb-badge/x -m '{"badge":"B-77777","zone":"z"}'
    wait_for grep -qE "$pattern" "$WORK/gw-$name.log" ||
        { cat "$WORK/gw-$name.log"; fail "$name: no clear error ($pattern)"; }
    sleep 2 # at least one more connection attempt
    grep -qE "^[^ ]+ +INFO +upstream: connected" "$WORK/gw-$name.log" && fail "$name: gateway connected to $what"
    grep -q "New client connected" "$WORK/$name.log" && fail "$name: an MQTT client connected to $what"
    kill -TERM "$GW"; wait "$GW" 2>/dev/null || true
    grep -q "stopping with 1 message(s) not yet acknowledged" "$WORK/gw-$name.log" ||
        fail "$name: the message should still be waiting, not delivered"
    pass "refused $what"
}

check_refused rsa1024 "an RSA-1024 server key" \
    "cannot connect securely: the certificate of localhost:[0-9]+ \(localhost, 127.0.0.1\) or its issuer has a key that is too weak \(this certificate has a RSA key of 1024 bits\)"
check_refused sha1 "a SHA-1 signed server certificate" \
    "cannot connect securely: the certificate of localhost:[0-9]+ .* is signed with SHA-1"
check_refused nosan "a certificate whose CN alone names the host" \
    "cannot connect securely: the certificate of localhost:[0-9]+ \(CN=localhost\) has no subjectAltName"
check_refused forged "a certificate with a forged log line in its SAN" \
    "cannot connect securely: the certificate of localhost:[0-9]+ \(localhost, evil.example;Q\\\\nZ2026"
L=$WORK/gw-forged.log
grep -E "^[^ ]+ +INFO +upstream: connected" "$L" && fail "the forged line is in the log as a line of its own"
awk '!/^20[0-9][0-9]-[0-9][0-9]-[0-9][0-9]T/ { bad = 1 } END { exit bad }' "$L" ||
    fail "a log line does not start with a timestamp: a line was split"
pass "the certificate's names are escaped in the log"

# the control: the same CA, RSA-2048, SHA-256, SAN: connects and delivers
listener rsa2048
gateway rsa2048
wait_for grep -q "upstream: connected to" "$WORK/gw-rsa2048.log" ||
    { cat "$WORK/gw-rsa2048.log"; fail "a good RSA-2048 upstream was refused"; }
pass "an RSA-2048 SHA-256 upstream with a SAN is accepted"
