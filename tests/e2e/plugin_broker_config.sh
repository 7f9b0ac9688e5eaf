#!/usr/bin/env bash
# `fairgate broker-config --plugin ... --bridge-upstream ...` writes a mosquitto
# configuration that loads fairgate inside the broker and bridges only the
# minimised topics upstream over TLS: a real mosquitto started with it takes a
# sensor's raw badge message over mutual TLS and the upstream sees only the
# pseudonymised form. Bridge topics that could carry raw/..., a missing CA and
# a client certificate of the wrong CA are refused before anything is written.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_gateway.sh"
[ -f "$PLUGIN" ] || { echo "SKIP: $PLUGIN not built"; exit 77; }

CA=$WORK/ca
"$FAIRGATE" certs init-ca --site e2e-site "$CA" >/dev/null
"$FAIRGATE" certs issue --ca "$CA" --kind sensor --name tag-0042 --sensor-type uwb-badge --out "$WORK/sensors" >/dev/null
"$FAIRGATE" certs issue --ca "$CA" --kind gateway --name fairgate-gateway --out "$WORK/clients" >/dev/null
plugin_ports
write_config "$WORK/fairgate.yaml" "$SRC/examples/policy-demo.yaml"
OUT=$WORK/broker/mosquitto.conf
bc() { "$FAIRGATE" broker-config --sensor-certs "$WORK/sensors" --ca "$CA" --port "$local_PORT" \
    --plugin "$PLUGIN" --plugin-config "$WORK/fairgate.yaml" \
    --bridge-upstream "localhost:$upstream_PORT" "$@" "$OUT"; }

for t in '#' 'raw/#' '+/uwb-badge/#' 'raw' '+/#'; do
    if bc --bridge-ca "$WORK/upca/ca.crt" --bridge-topic "$t" >"$WORK/bc.out" 2>&1; then
        fail "bridge topic '$t' accepted"
    fi
    grep -q "could carry raw telemetry" "$WORK/bc.out" || { cat "$WORK/bc.out"; fail "no reason for '$t'"; }
done
[ ! -e "$OUT" ] || fail "a configuration was written although refused"
if bc --bridge-ca "$WORK/nope.crt" >"$WORK/bc.out" 2>&1; then fail "missing bridge CA accepted"; fi
grep -q "bridge CA .* does not exist" "$WORK/bc.out" || { cat "$WORK/bc.out"; fail "no reason for missing CA"; }
if bc --bridge-ca "$WORK/upca/ca.crt" --bridge-cert "$WORK/clients/fairgate-gateway.crt" \
    --bridge-key "$WORK/clients/fairgate-gateway.key" >"$WORK/bc.out" 2>&1; then
    fail "a client certificate of another CA passed the pre-flight"
fi
grep -q "pre-flight failed" "$WORK/bc.out" || { cat "$WORK/bc.out"; fail "no pre-flight reason"; }
if "$FAIRGATE" broker-config --sensor-certs "$WORK/sensors" --ca "$CA" --bridge-upstream "localhost:1" \
    --bridge-ca "$WORK/upca/ca.crt" "$OUT" >"$WORK/bc.out" 2>&1; then
    fail "a bridge without the plugin was accepted"
fi
pass "raw-capable bridge topics, a missing CA, a wrong-CA client certificate and a bare bridge are refused"

bc --bridge-ca "$WORK/upca/ca.crt" >"$WORK/bc.out" || { cat "$WORK/bc.out"; fail "broker-config failed"; }
grep -q "^plugin $PLUGIN$" "$OUT" || fail "no plugin line"
grep -q "^topic site/# out 1$" "$OUT" || fail "no bridge topic"
grep -q "^bridge_insecure false$" "$OUT" || fail "bridge hostname check not on"
grep -Eq "^topic (raw|#)" "$OUT" && fail "the bridge carries raw topics"
echo "user $(id -un)" >>"$OUT"   # as root, mosquitto would drop to a user that cannot read $WORK
LD_PRELOAD=$(plugin_preload) ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0} mosquitto -c "$OUT" >"$WORK/gateway.log" 2>&1 &
local_PID=$!; PIDS+=("$local_PID")
wait_port "$local_PORT" 10 || fail "mosquitto did not start with the generated configuration"
wait_for grep -q "inside mosquitto" "$WORK/gateway.log" || fail "plugin not loaded"
wait_for grep -q "as [^ ]*fairgate-upstream" "$WORK/upstream.log" || fail "bridge did not connect"
subscribe_upstream "$WORK/upstream.jsonl" --count 1 --idle 8000
mosquitto_pub -h localhost -p "$local_PORT" --cafile "$CA/ca.crt" --cert "$WORK/sensors/tag-0042.crt" \
    --key "$WORK/sensors/tag-0042.key" -q 1 -V mqttv5 -t raw/uwb-badge/tag-0042 \
    -m '{"badge":"B-40404","holder":"Erika Musterfrau","zone":"hall","x":12.3,"y":4.4}' ||
    fail "sensor could not publish"
wait "$SUB_PID" || true
grep -q '"topic":"site/' "$WORK/upstream.jsonl" || { cat "$WORK/upstream.jsonl"; fail "nothing minimised upstream"; }
grep -Eq "B-40404|Erika|tag-0042|raw/" "$WORK/upstream.jsonl" && fail "raw data upstream"
kill -TERM "$local_PID"; wait "$local_PID" 2>/dev/null || true
pass "the generated configuration runs fairgate inside mosquitto and bridges only minimised data"
