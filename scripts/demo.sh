#!/usr/bin/env bash
# The fairgate demo: two real mosquitto brokers on loopback (local plain, upstream
# with TLS from a throw-away site CA made by `fairgate certs`), the gateway with
# the demo policy, and simulated factory telemetry. Shows raw messages beside what
# left the site. Stops everything it started. Idempotent; run from anywhere.
#   scripts/demo.sh            the daemon (fairgate run) beside the local broker
#   scripts/demo.sh --plugin   fairgate inside the local mosquitto (fairgate_mosquitto.so),
#                              mosquitto's bridge carrying the minimised topics upstream
set -euo pipefail
PLUGIN=0
case "${1:-}" in
--plugin) PLUGIN=1 ;;
"") ;;
*) echo "usage: scripts/demo.sh [--plugin]" >&2; exit 2 ;;
esac
cd "$(dirname "$0")/.."
ROOT=$PWD
scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
FG=$ROOT/build/fairgate

RUN=$(mktemp -d "${TMPDIR:-/tmp}/fairgate-demo.XXXXXX")
PIDS=()
finish() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$RUN"
}
trap finish EXIT

free_port() {
    local p
    for _ in $(seq 50); do
        p=$((10000 + RANDOM % 22000))   # below the ephemeral port range
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
    done
    echo "demo: no free port" >&2; exit 1
}
wait_port() {
    for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done
    echo "demo: nothing listens on port $1" >&2; exit 1
}
broker() { # NAME PORT [extra config lines]
    local name=$1 port=$2; shift 2
    { echo "listener $port 127.0.0.1"; echo "allow_anonymous true"; echo "persistence false"
      echo "max_queued_messages 0"; echo "user $(id -un)"; for l in "$@"; do echo "$l"; done; } >"$RUN/$name.conf"
    mosquitto -c "$RUN/$name.conf" >"$RUN/$name.log" 2>&1 &
    PIDS+=($!)
    wait_port "$port"
}

echo "== 1. a site PKI from nothing (fairgate certs): CA, brokers, gateway, sensor hubs"
"$FG" certs init-ca --site "Demo Factory" "$RUN/ca" >/dev/null
"$FG" certs issue --ca "$RUN/ca" --kind broker --name localhost --ip 127.0.0.1 >/dev/null
"$FG" certs issue --ca "$RUN/ca" --kind gateway --name fairgate-gateway >/dev/null
TYPES="uwb-badge environment wearable-vitals machine-terminal access-gate"
mkdir -p "$RUN/sensors"
HUBS=()
for t in $TYPES; do
    # An RTLS engine / LoRaWAN server publishes for all devices of one type.
    "$FG" certs issue --ca "$RUN/ca" --kind sensor --name "$t-hub" --out "$RUN/sensors" >/dev/null
    HUBS+=(--hub "$t-hub=$t")
done
echo "   $("$FG" certs inspect "$RUN/ca/fairgate-gateway.crt" | grep -iE '^ *subject' | head -1 | sed 's/^ *//')"

LOCAL=$(free_port); UP=$(free_port)
local_broker() { # LOG [broker-config options]: the site's broker from fairgate broker-config
    local log=$1; shift
    "$FG" broker-config --sensor-certs "$RUN/sensors" --ca "$RUN/ca" --port "$LOCAL" "${HUBS[@]}" "$@" "$RUN/local.conf" 2>/dev/null | sed 's/^/   /'
    echo "user $(id -un)" >>"$RUN/local.conf"   # as root, mosquitto would drop to a user that cannot read $RUN
    mosquitto -c "$RUN/local.conf" >"$log" 2>&1 &
    LOCAL_PID=$!; PIDS+=("$LOCAL_PID")
    wait_port "$LOCAL"
}
if ((PLUGIN)); then
    echo "== 2. upstream broker on loopback :$UP (TLS); the local broker starts in step 4, with fairgate inside"
else
    echo "== 2. brokers on loopback: local :$LOCAL (mutual TLS + ACL from fairgate broker-config), upstream :$UP (TLS)"
    local_broker "$RUN/local.log"
fi
broker upstream "$UP" "cafile $RUN/ca/ca.crt" "certfile $RUN/ca/localhost.crt" "keyfile $RUN/ca/localhost.key"

echo "== 3. co-determination: employer and works council each sign the demo policy"
"$FG" keys init --role employer "$RUN/employer" | sed -n 's/^fingerprint: /   employer key fingerprint:      /p'
"$FG" keys init --role works-council "$RUN/works-council" | sed -n 's/^fingerprint: /   works council key fingerprint: /p'
cp "$ROOT/examples/policy-demo.yaml" "$RUN/policy.yaml"
"$FG" policy sign "$RUN/policy.yaml" --key "$RUN/employer.key" --role employer | sed 's/^/   /'
"$FG" policy sign "$RUN/policy.yaml" --key "$RUN/works-council.key" --role works-council | sed 's/^/   /'
echo "   What the works council signed, in its own words (fairgate policy explain --lang nl), first lines:"
"$FG" policy explain "$RUN/policy.yaml" --lang nl | head -8 | sed 's/^/     | /'

cat >"$RUN/fairgate.yaml" <<YAML
site: demo-factory
state_dir: $RUN/state
local:
  host: localhost          # checked against the local broker's certificate too
  port: $LOCAL
  tls: { enabled: true, ca: $RUN/ca/ca.crt, cert: $RUN/ca/fairgate-gateway.crt, key: $RUN/ca/fairgate-gateway.key }
upstream:
  host: localhost          # checked against the broker certificate
  port: $UP
  tls: { ca: $RUN/ca/ca.crt }
policy: { file: $RUN/policy.yaml }   # takes effect only with both signatures
trust: { employer: $RUN/employer.pub, works_council: $RUN/works-council.pub }
stats: { interval: 5s }
YAML

if ((PLUGIN)); then
    echo "== 4. the local broker with fairgate inside (broker-config --plugin), bridging minimised topics upstream"
    local_broker "$RUN/gateway.log" --plugin "$ROOT/build/fairgate_mosquitto.so" --plugin-config "$RUN/fairgate.yaml" \
        --bridge-upstream "localhost:$UP" --bridge-ca "$RUN/ca/ca.crt"
    GW=$LOCAL_PID
    for _ in $(seq 100); do grep -q "inside mosquitto" "$RUN/gateway.log" && grep -q "fairgate-upstream" "$RUN/upstream.log" && break; sleep 0.1; done
    grep -q "fairgate-upstream" "$RUN/upstream.log" || { cat "$RUN/gateway.log"; echo "demo: the bridge did not connect"; exit 1; }
else
    echo "== 4. the gateway, with the signed policy"
    "$FG" run -c "$RUN/fairgate.yaml" >"$RUN/gateway.log" 2>&1 &
    GW=$!; PIDS+=("$GW")
    for _ in $(seq 100); do grep -q "subscribed to" "$RUN/gateway.log" && grep -q "upstream: connected" "$RUN/gateway.log" && break; sleep 0.1; done
    grep -q "upstream: connected" "$RUN/gateway.log" || { cat "$RUN/gateway.log"; echo "demo: gateway did not connect"; exit 1; }
fi

# What arrives upstream, as a consumer in the company cloud would see it.
mosquitto_sub -h localhost -p "$UP" --cafile "$RUN/ca/ca.crt" -t 'site/#' -v -q 1 -V mqttv5 >"$RUN/upstream.txt" 2>"$RUN/sub.log" &
SUB=$!; PIDS+=("$SUB")
sleep 0.5

echo "== 5. simulated factory: 12 workers with badges, 6 environment sensors, 6 seconds"
"$FG" simulate --host localhost --port "$LOCAL" --ca "$RUN/ca/ca.crt" --cert-dir "$RUN/sensors" --workers 12 --rate 40 --duration 6s --seed 2026 --record "$RUN/raw.jsonl" 2>&1 | sed 's/^/   /'
# Two bad inputs: counted and dropped (inside mosquitto: refused with reason 0x87), never
# forwarded, and the gateway keeps running.
HUB=(-h localhost -p "$LOCAL" --cafile "$RUN/ca/ca.crt" --cert "$RUN/sensors/uwb-badge-hub.crt" --key "$RUN/sensors/uwb-badge-hub.key" -q 1 -V mqttv5)
mosquitto_pub "${HUB[@]}" -t raw/uwb-badge/d4:3f:00:00:00:01 -m '{"badge": "B-99999", "x": 1' 2>/dev/null || true
mosquitto_pub "${HUB[@]}" -t raw/uwb-badge/d4:3f:00:00:00:01 -m '{"badge": "B-99999", "x": "far away"}' 2>/dev/null || true
# The ACL in action: the badge hub may not publish as an environment sensor, nor read raw data.
mosquitto_pub "${HUB[@]}" -t raw/environment/env-99 -m '{"temperature": 99}' 2>/dev/null || true
timeout 2 mosquitto_sub "${HUB[@]}" -t 'raw/#' -C 1 -W 1 >"$RUN/spy.txt" 2>/dev/null || true
sleep 1.5
kill -TERM "$GW"; wait "$GW" 2>/dev/null || true
kill "$SUB" 2>/dev/null || true; wait "$SUB" 2>/dev/null || true

echo "== 6. result"
python3 - "$RUN/raw.jsonl" "$RUN/upstream.txt" <<'PY'
import json, sys
raw = [json.loads(l) for l in open(sys.argv[1])]
up = []
for line in open(sys.argv[2]):
    topic, _, payload = line.rstrip("\n").partition(" ")
    up.append((topic, payload))
print("   raw messages in (local broker):      %d (+2 malformed, sent by hand)" % len(raw))
print("   minimised messages out (upstream):   %d" % len(up))
kinds = {}
for r in raw:
    t = r["topic"].split("/")[1]
    kinds[t] = kinds.get(t, 0) + 1
print("   raw by sensor type:                  " + ", ".join("%s %d" % kv for kv in sorted(kinds.items())))
badges = [r for r in raw if r["topic"].startswith("raw/uwb-badge/")]
pos = [u for u in up if "/positions/" in u[0]]
print("\n   Three badge messages, before and after (first badge, then the same worker later):")
shown = 0
first = badges[0]["payload"] and json.loads(badges[0]["payload"])["badge"]
for i, (r, u) in enumerate(zip(badges, pos)):
    if shown == 0 or (json.loads(r["payload"])["badge"] == first and shown < 2) or (shown == 2 and i > len(pos) // 2):
        print("\n   RAW   %s\n         %s" % (r["topic"], r["payload"]))
        print("   LEFT  %s\n         %s" % (u[0], u[1]))
        shown += 1
    if shown == 3:
        break
leak = [json.loads(r["payload"])[k] for r in badges for k in ("badge", "holder", "tag")]
text = open(sys.argv[2]).read()
leaked = sorted({v for v in leak if v in text})
print("\n   raw badge ids, names or tag MACs found upstream: %s" % (", ".join(leaked) if leaked else "none"))
sys.exit(1 if leaked else 0)
PY
echo
grep -E "stats: final|rejected|policy" "$RUN/gateway.log" | sed 's/^/   gateway: /'
EXPECT=$(($(wc -l <"$RUN/raw.jsonl") + 2))
if [ -s "$RUN/spy.txt" ] || ! grep -q "final: in=$EXPECT " "$RUN/gateway.log"; then
    echo "   ACL FAILURE: a sensor hub could read raw data or publish as another sensor type"; exit 1
fi
echo "   ACL: the badge hub could not read raw topics, and its forged environment reading never reached the gateway"
echo "== 7. the audit log, checked with nothing but the first public key"
"$FG" audit verify "$RUN/state/audit.log" --key "$RUN/state/audit/audit-first.pub" | sed 's/^/   /'
"$FG" audit show "$RUN/state/audit.log" | grep -E "policy|flow|rejected|start|stop" | head -8 | sed 's/^/   /'
echo "== done: identifiers pseudonymised, undeclared fields (holder, rssi, fw) and unnamed ones (tag, battery, coordinates) gone, positions only per listed zone and quarter hour"
