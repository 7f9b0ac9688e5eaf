#!/usr/bin/env bash
# Issue 18, batched upstream: a route with `batch: { max_records, max_delay }`
# sends several minimised records in one PUBLISH (a JSON array), with the
# fairgate-ids of the records it carries. On real brokers: every record of the
# batched route arrives exactly as the same route without batching sends it
# (same records, same order, same content), no batch is larger than
# max_records, the ids listed match the records one to one and are unique, a
# partial batch leaves after max_delay without waiting for more input, and the
# audit flow summaries count records, not publishes.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_gateway.sh"
plugin_mode && { echo "SKIP: the broker plugin publishes one record per message"; exit 77; }

mkdir -p "$WORK/types"
cat >"$WORK/types/batchtest.yaml" <<'EOF'
type: batchtest
description: Batch test sensor; nothing personal
topic: raw/batchtest/{device}
format: json
fields:
  seq:  { type: integer, category: machine, min: 0, max: 100000000, required: true }
  temp: { type: number,  category: machine, min: -50, max: 150 }
EOF
cat >"$WORK/policy.yaml" <<'EOF'
policy: batchtest
version: 1
valid_until: 2099-12-31
routes:
  - name: single
    purpose: batch testing, one record per message
    from: batchtest
    to: site/{site}/single
    fields: { seq: keep, temp: keep }
    retention: 1h
  - name: batched
    purpose: batch testing, several records per message
    from: batchtest
    to: site/{site}/batched
    fields: { seq: keep, temp: keep }
    retention: 1h
    batch: { max_records: 7, max_delay: 300ms }
EOF
start_pair
write_config "$WORK/fairgate.yaml" "$WORK/policy.yaml" \
    "sensors: { builtin: false, dirs: [$WORK/types] }"
start_gateway "$WORK/fairgate.yaml"
subscribe_upstream "$WORK/upstream.jsonl" --idle 600000 --total 600000

# A burst of 40 (one mosquitto_pub, one line per message), a pause well past
# max_delay, then 3 more: those 3 cannot share a batch with the burst.
for i in $(seq 0 39); do printf '{"seq":%d,"temp":%d.27}\n' "$i" "$((i % 90))"; done |
    mosquitto_pub -p "$local_PORT" -q 1 -V mqttv5 -t raw/batchtest/d1 -l
sleep 2
for i in 40 41 42; do printf '{"seq":%d,"temp":1.5}\n' "$i"; done |
    mosquitto_pub -p "$local_PORT" -q 1 -V mqttv5 -t raw/batchtest/d1 -l

count_records() {
    python3 - "$WORK/upstream.jsonl" <<'EOF'
import json, sys
single = batched = 0
for l in open(sys.argv[1]):
    m = json.loads(l)
    if m["topic"].endswith("/single"):
        single += 1
    elif m["topic"].endswith("/batched"):
        batched += len(json.loads(m["payload"]))
print(single, batched)
EOF
}
deadline=$((SECONDS + 60))
while ((SECONDS < deadline)); do
    read -r single batched < <(count_records)
    [ "$single" = 43 ] && [ "$batched" = 43 ] && break
    sleep 0.5
done
[ "$single" = 43 ] && [ "$batched" = 43 ] ||
    fail "not every record arrived: $single of 43 single, $batched of 43 batched"
echo "43 records on each route"

python3 - "$WORK/upstream.jsonl" <<'EOF' || fail "batches differ from the records without batching"
import json, sys
single, batches = [], []
for l in open(sys.argv[1]):
    m = json.loads(l)
    if m["topic"].endswith("/single"):
        single.append((m["payload"], m["props"]))
    elif m["topic"].endswith("/batched"):
        batches.append((m["payload"], m["props"]))
def die(msg):
    print("FAIL:", msg); sys.exit(1)
recs, ids = [], []
for payload, props in batches:
    arr = json.loads(payload)
    if not isinstance(arr, list) or not 1 <= len(arr) <= 7:
        die("a batch is not an array of 1..7 records: %r" % payload[:80])
    if "fairgate-id" in props or "fairgate-ids" not in props:
        die("a batch does not list its records' ids in fairgate-ids: %r" % props)
    bid = props["fairgate-ids"].split(",")
    if len(bid) != len(arr):
        die("%d ids for %d records" % (len(bid), len(arr)))
    if props.get("route") != "batched" or not props.get("purpose"):
        die("route/purpose properties missing on a batch")
    ids += bid
    # the records exactly as the gateway's writer makes them: compare the raw text
    inner = payload[1:-1]
    recs.append(inner)
flat = []
for payload, _ in batches:
    flat += [json.dumps(r, separators=(",", ":")) for r in json.loads(payload)]
plain = [json.dumps(json.loads(p), separators=(",", ":")) for p, _ in single]
if flat != plain:
    die("records differ or are out of order:\n%s\n%s" % (flat[:5], plain[:5]))
if ",".join(p for p, _ in single) != ",".join(recs):
    die("the array elements are not the records' bytes")
if len(set(ids)) != len(ids):
    die("an id is listed twice")
sids = [p["fairgate-id"] for _, p in single]
if set(sids) & set(ids):
    die("ids of the two routes overlap")
seqs = [[r["seq"] for r in json.loads(p)] for p, _ in batches]
if max(len(s) for s in seqs) < 2:
    die("nothing was batched: %r" % seqs)
tail = [s for s in seqs if set(s) & {40, 41, 42}]
if any(set(s) & set(range(40)) for s in tail):
    die("a batch mixes the burst with records sent after a pause past max_delay: %r" % tail)
print("batches:", seqs)
EOF

stop_gateway
# (sanitizer builds) a batch's bookkeeping must not leak or overrun
grep -q "Sanitizer" "$WORK/gateway.log" && fail "sanitizer report: $(grep -m3 Sanitizer "$WORK/gateway.log")"
python3 - "$WORK/state" <<'EOF' || fail "the flow summaries do not count records"
import json, os, sys
count = {}
for root, _, files in os.walk(sys.argv[1]):
    for f in files:
        if not f.endswith((".log", ".jsonl")):
            continue
        for l in open(os.path.join(root, f), errors="replace"):
            if '"flow.summary"' not in l:
                continue
            try:
                o = json.loads(l)["object"]
            except Exception:
                continue
            count[o["route"]] = count.get(o["route"], 0) + int(o["count"])
print("flow summaries:", count)
if count.get("batched") != 43 or count.get("single") != 43:
    sys.exit(1)
EOF
pass "batched route: every record arrives as without batching, ids listed, max_delay honoured, flows count records"
