#!/usr/bin/env bash
# End to end: certificates made by `fairgate certs` pass `openssl verify`, and a real
# mosquitto started with the `fairgate broker-config` output enforces mutual TLS and the
# per-identity ACL: the gateway reads raw/#, a sensor can neither read raw/# nor write
# another sensor's topic, consumers see only site/#, and nobody gets in without a
# certificate of the site CA.
for tool in mosquitto mosquitto_pub mosquitto_sub; do
    command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: $tool is not installed"; exit 77; }
done
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

FAILS=0
check() { # DESCRIPTION COMMAND...: PASS/FAIL line, keeps going so every check reports
    local what=$1; shift
    if "$@"; then pass "$what"; else echo "FAIL: $what"; FAILS=$((FAILS + 1)); fi
}

[ -x "$FAIRGATE" ] || fail "no fairgate binary at $FAIRGATE (build first)"

CA=$WORK/ca
SENSORS=$WORK/sensors
CLIENTS=$WORK/clients
OTHER=$WORK/other-ca

"$FAIRGATE" certs init-ca --site e2e-site "$CA" >/dev/null
"$FAIRGATE" certs issue --ca "$CA" --kind sensor --name sensor-001 --sensor-type temperature \
    --out "$SENSORS" >/dev/null
"$FAIRGATE" certs issue --ca "$CA" --kind sensor --name sensor-002 --sensor-type co2 \
    --out "$SENSORS" >/dev/null
"$FAIRGATE" certs issue --ca "$CA" --kind gateway --name fairgate-gateway --out "$CLIENTS" >/dev/null
"$FAIRGATE" certs issue --ca "$CA" --kind works-council --name dashboard --out "$CLIENTS" >/dev/null
# An impostor: right device id, wrong CA.
"$FAIRGATE" certs init-ca --site elsewhere "$OTHER" >/dev/null
"$FAIRGATE" certs issue --ca "$OTHER" --kind sensor --name sensor-001 --out "$OTHER/sensors" >/dev/null

# ---- the certificates themselves ------------------------------------------------
key_mode_600() { [ "$(stat -c %a "$1")" = 600 ]; }
for k in "$CA/ca.key" "$SENSORS/sensor-001.key" "$CLIENTS/fairgate-gateway.key"; do
    check "key $(basename "$k") has mode 0600" key_mode_600 "$k"
done
if command -v openssl >/dev/null 2>&1; then
    for c in "$SENSORS"/sensor-00{1,2}.crt "$CLIENTS"/{fairgate-gateway,dashboard}.crt; do
        check "openssl verify accepts $(basename "$c") as a TLS client" \
            openssl verify -CAfile "$CA/ca.crt" -purpose sslclient "$c"
    done
    check "openssl verify rejects the impostor's certificate" \
        bash -c "! openssl verify -CAfile '$CA/ca.crt' '$OTHER/sensors/sensor-001.crt' 2>/dev/null"
else
    echo "NOTE: openssl not installed; openssl verify checks skipped"
fi
check "fairgate certs verify accepts the gateway certificate" \
    "$FAIRGATE" certs verify --ca "$CA/ca.crt" --key "$CLIENTS/fairgate-gateway.key" \
    --usage client "$CLIENTS/fairgate-gateway.crt"
check "fairgate certs verify rejects the impostor" \
    bash -c "! '$FAIRGATE' certs verify --ca '$CA/ca.crt' '$OTHER/sensors/sensor-001.crt' 2>/dev/null"
check "fairgate certs inspect shows the sensor's kind and usage" \
    bash -c "'$FAIRGATE' certs inspect '$SENSORS/sensor-001.crt' | grep -q 'ext key usage:  clientAuth' &&
             '$FAIRGATE' certs inspect '$SENSORS/sensor-001.crt' | grep -q 'OU=sensor, title=sensor-type:temperature, CN=sensor-001'"
check "broker-config refuses a plain listener" \
    bash -c "! '$FAIRGATE' broker-config --sensor-certs '$SENSORS' --ca '$CA' --listener-plain 1883 '$WORK/x.conf' 2>/dev/null"

# ---- the broker -----------------------------------------------------------------
CONF=$WORK/broker/mosquitto.conf
PORT=
for _ in 1 2 3 4 5; do
    port=$(free_port)
    "$FAIRGATE" broker-config --sensor-certs "$SENSORS" --ca "$CA" --port "$port" \
        --consumer dashboard "$CONF" >"$WORK/broker-config.log" 2>&1 ||
        { cat "$WORK/broker-config.log"; fail "broker-config failed"; }
    # mosquitto run as root drops to the 'mosquitto' user, which cannot read this test's
    # private temporary directory; a deployment instead gives that user the broker key.
    [ "$(id -u)" = 0 ] && echo "user root" >>"$CONF"
    mosquitto -c "$CONF" >"$WORK/broker.log" 2>&1 &
    pid=$!
    if wait_port "$port" 5; then PIDS+=("$pid"); PORT=$port; break; fi
    kill "$pid" 2>/dev/null || true
done
[ -n "$PORT" ] || fail "could not start mosquitto with the generated configuration"
pass "mosquitto starts with the broker-config output (port $PORT)"
if command -v openssl >/dev/null 2>&1; then
    check "openssl verify accepts the broker certificate as a TLS server" \
        openssl verify -CAfile "$CA/ca.crt" -purpose sslserver "$CA/broker.crt"
fi

as() { # NAME DIR: client TLS arguments for that identity
    CLIENT=(-h localhost -p "$PORT" --cafile "$CA/ca.crt" --cert "$2/$1.crt" --key "$2/$1.key")
}
publish() { # NAME DIR TOPIC MESSAGE
    as "$1" "$2"
    timeout 10 mosquitto_pub "${CLIENT[@]}" -q 1 -t "$3" -m "$4" 2>>"$WORK/pub.log"
}
subscribe() { # NAME DIR TOPIC OUTFILE SECONDS: background subscriber, PID in SUB_PID
    as "$1" "$2"
    mosquitto_sub "${CLIENT[@]}" -v -t "$3" -W "$5" >"$4" 2>>"$WORK/sub.log" &
    SUB_PID=$!
    PIDS+=("$SUB_PID")
}
lines() { [ -f "$1" ] && wc -l <"$1" || echo 0; }
# Publishes until the file shows the line (the subscriber may still be connecting).
publish_until_seen() { # NAME DIR TOPIC MESSAGE FILE
    for _ in $(seq 1 50); do
        publish "$1" "$2" "$3" "$4" || true
        grep -q "^$3 $4\$" "$5" 2>/dev/null && return 0
        sleep 0.2
    done
    return 1
}
stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

# 1. The gateway receives a sensor's publication.
subscribe fairgate-gateway "$CLIENTS" 'raw/#' "$WORK/gw1.out" 20
GW=$SUB_PID
check "gateway receives sensor-001's publication on raw/#" \
    publish_until_seen sensor-001 "$SENSORS" raw/temperature/sensor-001 21.5 "$WORK/gw1.out"

# 2. A sensor subscribed to raw/# receives nothing while another sensor publishes.
subscribe sensor-001 "$SENSORS" 'raw/#' "$WORK/s1.out" 20
S1=$SUB_PID
sleep 0.5
publish_until_seen sensor-002 "$SENSORS" raw/co2/sensor-002 612 "$WORK/gw1.out" ||
    echo "NOTE: the gateway did not see sensor-002 either"
for i in 1 2 3; do publish sensor-002 "$SENSORS" raw/co2/sensor-002 "61$i" || true; done
sleep 0.5
stop "$S1"
check "sensor-001 subscribed to raw/# receives nothing" test "$(lines "$WORK/s1.out")" = 0

# 3. A sensor cannot publish on another sensor's topic: the gateway sees nothing from the
#    forgeries, then the same sensor's own-topic message arrives (so the gateway listened).
for i in 1 2 3; do publish sensor-001 "$SENSORS" raw/temperature/sensor-002 "forged$i" || true; done
publish_until_seen sensor-001 "$SENSORS" raw/temperature/sensor-001 after-forgery "$WORK/gw1.out" ||
    echo "NOTE: the gateway did not see the follow-up message"
stop "$GW"
check "gateway receives nothing from sensor-001's forged raw/temperature/sensor-002" \
    bash -c "! grep -q forged '$WORK/gw1.out'"
check "gateway still received sensor-001's own message after the forgeries" \
    grep -q '^raw/temperature/sensor-001 after-forgery$' "$WORK/gw1.out"

# 4. Consumers read site/# only.
subscribe dashboard "$CLIENTS" 'site/#' "$WORK/dash.out" 20
DASH=$SUB_PID
check "consumer receives the gateway's site/ publication" \
    publish_until_seen fairgate-gateway "$CLIENTS" site/occupancy/floor-2 '{"n":12}' "$WORK/dash.out"
subscribe dashboard "$CLIENTS" 'raw/#' "$WORK/dash-raw.out" 20
DRAW=$SUB_PID
sleep 0.5
for i in 1 2 3; do publish sensor-002 "$SENSORS" raw/co2/sensor-002 "70$i" || true; done
sleep 0.5
stop "$DRAW"
stop "$DASH"
check "consumer subscribed to raw/# receives nothing" test "$(lines "$WORK/dash-raw.out")" = 0

# 5. Nobody gets in without a certificate of the site CA.
check "anonymous client (no certificate) cannot connect" \
    bash -c "! timeout 10 mosquitto_pub -h localhost -p $PORT --cafile '$CA/ca.crt' -q 1 \
             -t raw/temperature/sensor-001 -m anon 2>/dev/null"
check "impostor sensor-001 from another CA cannot connect" \
    bash -c "! timeout 10 mosquitto_pub -h localhost -p $PORT --cafile '$CA/ca.crt' \
             --cert '$OTHER/sensors/sensor-001.crt' --key '$OTHER/sensors/sensor-001.key' \
             -q 1 -t raw/temperature/sensor-001 -m impostor 2>/dev/null"

if [ "$FAILS" != 0 ]; then
    echo "$FAILS check(s) failed"
    exit 1
fi
echo "all certs/broker checks passed"
