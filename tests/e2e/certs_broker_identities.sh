#!/usr/bin/env bash
# Local broker identities, on a real mosquitto started with `fairgate broker-config`:
# a sensor certificate publishes only as its own sensor type (the environment sensor
# cannot publish a badge record), cannot take the gateway's client id (and so cannot
# kick the gateway off or take its session), a hub writes only its type; and names
# count with their kind: no sensor certificate named like the gateway, no hub that is
# the gateway.
for tool in mosquitto mosquitto_pub mosquitto_sub; do
    command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: $tool is not installed"; exit 77; }
done
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CA=$WORK/ca S=$WORK/sensors C=$WORK/clients
F=$FAIRGATE
$F certs init-ca --site e2e "$CA" >/dev/null
$F certs issue --ca "$CA" --kind sensor --name env-1 --sensor-type environment --out "$S" >/dev/null
$F certs issue --ca "$CA" --kind sensor --name badge-hub --out "$S" >/dev/null
$F certs issue --ca "$CA" --kind gateway --name fairgate-gateway --out "$C" >/dev/null

# ---- names and kinds --------------------------------------------------------------
$F certs issue --ca "$CA" --kind sensor --name fairgate-gateway --sensor-type uwb-badge \
    --out "$WORK/evil" 2>"$WORK/err.log" && fail "a sensor certificate named fairgate-gateway was issued"
grep -q "reserved for gateway" "$WORK/err.log" || fail "no reason given: $(cat "$WORK/err.log")"
[ -e "$WORK/evil/fairgate-gateway.crt" ] && fail "the refused certificate exists anyway"
$F certs issue --ca "$CA" --kind gateway --name gw-2 --out "$C" >/dev/null
$F certs issue --ca "$CA" --kind works-council --name gw-2 --out "$WORK/evil" 2>/dev/null &&
    fail "a name issued for a gateway was issued again for another kind"
pass "certs issue refuses gateway names for other kinds"
$F broker-config --sensor-certs "$S" --ca "$CA" --hub fairgate-gateway=uwb-badge "$WORK/x/m.conf" \
    2>"$WORK/err.log" && fail "broker-config accepted --hub fairgate-gateway=uwb-badge"
$F broker-config --sensor-certs "$S" --ca "$CA" --hub gw-2=uwb-badge "$WORK/x/m.conf" 2>/dev/null &&
    fail "broker-config accepted a gateway certificate's name as a hub"
$F broker-config --sensor-certs "$S" --ca "$CA" --gateway-name env-1 "$WORK/x/m.conf" 2>/dev/null &&
    fail "broker-config accepted a sensor's name as the gateway's"
pass "broker-config refuses hubs and gateways with another kind's name"

# ---- the broker -------------------------------------------------------------------
CONF=$WORK/broker/mosquitto.conf
PORT=
for _ in 1 2 3 4 5; do
    port=$(free_port)
    $F broker-config --sensor-certs "$S" --ca "$CA" --port "$port" --hub badge-hub=uwb-badge \
        "$CONF" >"$WORK/broker-config.log" 2>&1 || { cat "$WORK/broker-config.log"; fail "broker-config failed"; }
    [ "$(id -u)" = 0 ] && echo "user root" >>"$CONF"
    echo "log_type all" >>"$CONF"
    mosquitto -c "$CONF" >"$WORK/broker.log" 2>&1 &
    pid=$!
    if wait_port "$port" 5; then PIDS+=("$pid"); PORT=$port; break; fi
    kill "$pid" 2>/dev/null || true
done
[ -n "$PORT" ] || fail "could not start mosquitto with the generated configuration"
grep -q "use_username_as_clientid true" "$CONF" || fail "use_username_as_clientid is not set"

tls() { echo -h localhost -p "$PORT" --cafile "$CA/ca.crt" --cert "$2/$1.crt" --key "$2/$1.key"; }
# The gateway: a persistent QoS 1 session with its own client id.
# shellcheck disable=SC2046
mosquitto_sub $(tls fairgate-gateway "$C") -i fairgate-gateway -c -q 1 -v -t 'raw/#' \
    >"$WORK/gw.out" 2>"$WORK/gw.err" &
GW=$!
PIDS+=("$GW")
publish() { # NAME DIR TOPIC MESSAGE [CLIENT_ID]
    local id=()
    [ -n "${5:-}" ] && id=(-i "$5")
    # shellcheck disable=SC2046
    timeout 10 mosquitto_pub $(tls "$1" "$2") "${id[@]}" -q 1 -t "$3" -m "$4" 2>>"$WORK/pub.log"
}
seen() { grep -q "^$1 $2\$" "$WORK/gw.out"; }
until_seen() { # NAME DIR TOPIC MESSAGE
    for _ in $(seq 1 50); do
        publish "$@" || true
        seen "$3" "$4" && return 0
        sleep 0.2
    done
    return 1
}
until_seen env-1 "$S" raw/environment/env-1 '{"temperature":21}' ||
    fail "the gateway does not receive env-1 on its own type"

# 1. The environment sensor's certificate cannot publish a badge record.
publish env-1 "$S" raw/uwb-badge/env-1 '{"badge":"B-1","x":1}' || true
publish env-1 "$S" raw/uwb-badge/B-1 '{"badge":"B-1","x":2}' || true
until_seen env-1 "$S" raw/environment/env-1 after || fail "follow-up message lost"
grep -q "uwb-badge" "$WORK/gw.out" && fail "the environment sensor published a badge record"
pass "a sensor certificate publishes only raw/<its type>/<its name>"

# 2. The hub writes raw/uwb-badge/+ and nothing else.
until_seen badge-hub "$S" raw/uwb-badge/B-7 '{"badge":"B-7"}' || fail "the hub cannot publish its type"
publish badge-hub "$S" raw/environment/env-1 forged-by-hub || true
until_seen env-1 "$S" raw/environment/env-1 after-hub || fail "follow-up message lost"
grep -q "forged-by-hub" "$WORK/gw.out" && fail "the hub published another type"
pass "a hub publishes only its own type"

# 3. A sensor certificate asking for the gateway's client id gets its own (its CN):
#    the gateway is not kicked off and keeps receiving.
kicks_before=$(grep -c "already connected, closing old connection" "$WORK/broker.log" || true)
publish env-1 "$S" raw/environment/env-1 as-gateway-id fairgate-gateway || true
sleep 0.5
kill -0 "$GW" 2>/dev/null || fail "the gateway's subscriber died"
[ "$(grep -c "already connected, closing old connection" "$WORK/broker.log" || true)" = "$kicks_before" ] ||
    fail "the broker closed an existing connection for a client id taken over"
grep -qE "New client connected .* as env-1 " "$WORK/broker.log" ||
    fail "mosquitto did not replace the client id by the CN"
grep -qE "New client connected .* as fairgate-gateway .*u'env-1'" "$WORK/broker.log" &&
    fail "env-1 connected as fairgate-gateway"
until_seen env-1 "$S" raw/environment/env-1 still-there ||
    fail "the gateway stopped receiving after a sensor asked for its client id"
grep -q "Client fairgate-gateway .*disconnected\|Client fairgate-gateway closed" "$WORK/broker.log" &&
    fail "the gateway was disconnected"
pass "a sensor certificate cannot take the gateway's client id"
