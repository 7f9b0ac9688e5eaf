#!/usr/bin/env bash
# The simulator feeds a real gateway: every factory sensor type (and the depot
# ones after it) arrives through a real local broker; the gateway decodes all
# of it. Inputs may be rejected only for "no route for sensor type" (types the
# demo policy does not route); a decode failure of simulated telemetry is a
# bug in a descriptor, a decoder or the simulator.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_gateway.sh"

N=1500
ND=500
start_pair
write_config "$WORK/fairgate.yaml" "$SRC/examples/policy-demo.yaml"
start_gateway "$WORK/fairgate.yaml"
subscribe_upstream "$WORK/upstream.jsonl" --idle 4000

"$FAIRGATE" simulate --site factory --port "$local_PORT" --count $N --rate 1000 --workers 30 \
    --seed 11 --shift 1s --record "$WORK/raw.jsonl" 2>>"$WORK/sim.log" || fail "factory simulator failed"
"$FAIRGATE" simulate --site depot --port "$local_PORT" --count $ND --rate 1000 --workers 30 \
    --seed 11 --record "$WORK/raw-depot.jsonl" 2>>"$WORK/sim.log" || fail "depot simulator failed"
wait "$SUB_PID" || true
stop_gateway

python3 - "$WORK/raw.jsonl" "$WORK/raw-depot.jsonl" "$WORK/upstream.jsonl" <<'PY' || fail "content check"
import json, sys
raw = [json.loads(l) for l in open(sys.argv[1])]
depot = [json.loads(l) for l in open(sys.argv[2])]
up = [json.loads(l) for l in open(sys.argv[3])]
types = {r["topic"].split("/")[1] for r in raw}
want = {"uwb-badge", "wearable-vitals", "machine-terminal", "environment", "access-gate"}
assert types == want, "factory types simulated: %r" % types
dtypes = {r["topic"].split("/")[1] for r in depot}
dwant = {"pick-scanner", "forklift", "vehicle-gps", "dock-door", "uwb-badge", "environment"}
assert dtypes == dwant, "depot types simulated: %r" % dtypes
assert any("payload_b64" in r for r in depot), "no binary payload recorded"
# --shift 1s at 1000 msg/s: a man-down in (nearly) every simulated shift
md = sum(1 for r in raw if r["topic"].startswith("raw/wearable-vitals/")
         and '"man_down","vb":true' in r["payload"])
assert md >= 1, "no man-down event simulated"
assert up, "nothing arrived upstream"
assert all(u["topic"].startswith("site/test-site/") for u in up), "unexpected upstream topic"
print("factory in: %d (%s), depot in: %d, upstream: %d, man-down events: %d"
      % (len(raw), ", ".join(sorted(types)), len(depot), len(up), md))
PY

total=$((N + ND))
grep -q "final: in=$total " "$WORK/gateway.log" || fail "gateway did not count $total inputs"
# Every rejection reason, in the per-input lines and the totals, must be "no route".
bad=$(grep -E "rejected an input: " "$WORK/gateway.log" | sed -E 's/.*rejected an input: //' |
    grep -v '^no route for sensor type' || true)
[ -z "$bad" ] || fail "inputs rejected for other reasons: $bad"
totals=$(grep -E "rejected in total: " "$WORK/gateway.log" | tail -n 1 | sed -E 's/.*rejected in total: //')
# The demo policy routes two of the simulated types: the rest must show up as "no route".
grep -q "no route for sensor type" <<<"$totals" || fail "no 'no route' rejections in the totals: '$totals'"
others=$(echo "$totals" | tr ',' '\n' | sed -E 's/^ *[0-9]+ //' | grep -v '^no route for sensor type$' || true)
[ -z "$others" ] || fail "rejections other than no route: $totals"
if grep -E "B-1[0-9]{4}" "$WORK/gateway.log"; then fail "badge id in the gateway log"; fi
pass "simulated factory and depot telemetry decodes in the gateway (rejected: $totals)"
