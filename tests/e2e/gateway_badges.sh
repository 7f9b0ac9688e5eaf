#!/usr/bin/env bash
# Walking skeleton end to end: N badge messages in through a real local broker,
# exactly N minimised messages out at a real TLS upstream broker; no raw badge
# id, no undeclared field; pseudonyms stable within the run.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_gateway.sh"

N=300
start_pair
write_config "$WORK/fairgate.yaml" "$SRC/examples/policy-demo.yaml"
start_gateway "$WORK/fairgate.yaml"
subscribe_upstream "$WORK/upstream.jsonl" --idle 4000

"$FAIRGATE" simulate --port "$local_PORT" --count $N --rate 500 --workers 12 --seed 7 \
    --record "$WORK/raw.jsonl" 2>>"$WORK/sim.log" || fail "simulator failed"
wait "$SUB_PID" || true
stop_gateway

python3 - "$WORK/raw.jsonl" "$WORK/upstream.jsonl" <<'PY' || fail "upstream content check"
import json, sys
raw = [json.loads(l) for l in open(sys.argv[1])]
up = [json.loads(l) for l in open(sys.argv[2])]
badges = [r for r in raw if r["topic"].startswith("raw/uwb-badge/")]
envs = [r for r in raw if r["topic"].startswith("raw/environment/")]
pos = [u for u in up if "/positions/" in u["topic"]]
clim = [u for u in up if "/climate/" in u["topic"]]
assert badges and envs, "simulator sent %d badge, %d environment messages" % (len(badges), len(envs))
assert len(up) == len(pos) + len(clim), "unexpected topics upstream: %r" % {u["topic"] for u in up}
assert len(pos) == len(badges), "badge messages: %d in, %d out" % (len(badges), len(pos))
assert len(clim) == len(envs), "environment messages: %d in, %d out" % (len(envs), len(clim))
ids = {json.loads(r["payload"])["badge"] for r in badges}
holders = {json.loads(r["payload"])["holder"] for r in badges}
tags = {json.loads(r["payload"])["tag"] for r in badges}
text = open(sys.argv[2]).read()
for secret in ids | holders | tags:
    assert secret not in text, "raw identifier leaked upstream: %s" % secret
allowed = {"badge", "zone", "ts"}
site_zones = {"assembly-1", "assembly-2", "warehouse", "loading-dock", "canteen", "office"}
for u in pos:
    p = json.loads(u["payload"])
    assert set(p) <= allowed, "undeclared or unnamed field upstream: %r" % (set(p) - allowed)
    assert "holder" not in p and "rssi" not in p and "tag" not in p and "battery" not in p
    assert "x" not in p and "y" not in p, "coordinates left the site: %r" % p
    assert p["zone"] in site_zones, "zone name not from the site's list: %r" % p
    assert p["ts"].endswith(("00:00.000Z", "15:00.000Z", "30:00.000Z", "45:00.000Z")), p
    assert u["props"].get("purpose") == "evacuation roll-call and space planning"
    assert u["props"].get("fairgate-id"), "no message id"
    # issue 15 item 7: expiry = the retention left (7 d, sent at once): never
    # more than the retention, and within 2 s of it (not 604801)
    assert 7 * 86400 - 2 <= u.get("expiry", 0) <= 7 * 86400, "expiry %r, not the retention left" % u.get("expiry")
# pseudonyms: one per badge, stable within the run
pseudonyms = {json.loads(u["payload"])["badge"] for u in pos}
assert len(pseudonyms) == len(ids), "%d badges but %d pseudonyms" % (len(ids), len(pseudonyms))
ids_up = [u["props"]["fairgate-id"] for u in up]
assert len(set(ids_up)) == len(ids_up), "duplicate message ids"
print("badges in: %d, positions out: %d, environment in: %d, climate out: %d, pseudonyms: %d"
      % (len(badges), len(pos), len(envs), len(clim), len(pseudonyms)))
PY
grep -q "final: in=$N " "$WORK/gateway.log" || fail "gateway did not count $N inputs"
if grep -E "B-1[0-9]{4}" "$WORK/gateway.log"; then fail "badge id in the gateway log"; fi
pass "gateway forwards exactly the minimised messages"
