#!/usr/bin/env bash
# Issue 18 with issue 16: batching never lets poison block. On a real upstream
# broker that refuses one topic (ACL deny: PUBACK 135), a batched route still
# delivers every other record, each exactly once in the arrays; the two refused
# records (one batch of their own topic) go again one per publish and each ends
# in the quarantine on its own; no good record is quarantined.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_gateway.sh"
plugin_mode && { echo "SKIP: the broker plugin publishes one record per message"; exit 77; }

mkdir -p "$WORK/types"
cat >"$WORK/types/bptest.yaml" <<'EOF'
type: bptest
description: Batch poison test sensor; nothing personal
topic: raw/bptest/{device}
format: json
fields:
  seq:  { type: integer, category: machine, min: 0, max: 100000000, required: true }
  zone: { type: string,  category: machine, max_length: 64 }
EOF
cat >"$WORK/policy.yaml" <<'EOF'
policy: bptest
version: 1
valid_until: 2099-12-31
routes:
  - name: z
    purpose: batch poison testing
    from: bptest
    to: site/{site}/z/{zone}
    fields: { seq: keep, zone: keep }
    retention: 1h
    batch: { max_records: 5, max_delay: 200ms }
EOF
printf 'topic deny site/test-site/z/forbidden\ntopic readwrite #\n' >"$WORK/acl"
make_test_ca "$WORK/upca" localhost
start_broker local
start_broker upstream "cafile $WORK/upca/ca.crt" "certfile $WORK/upca/server.crt" \
    "keyfile $WORK/upca/server.key" "acl_file $WORK/acl"
write_config "$WORK/fairgate.yaml" "$WORK/policy.yaml" \
    "sensors: { builtin: false, dirs: [$WORK/types] }"
start_gateway "$WORK/fairgate.yaml"
subscribe_upstream "$WORK/upstream.jsonl" --idle 600000 --total 600000

for i in $(seq 0 29); do
    if [ "$i" = 12 ] || [ "$i" = 13 ]; then z=forbidden; else z=ok; fi
    printf '{"seq":%d,"zone":"%s"}\n' "$i" "$z"
done | mosquitto_pub -p "$local_PORT" -q 1 -V mqttv5 -t raw/bptest/d1 -l

got() {
    python3 - "$WORK/upstream.jsonl" <<'EOF'
import json, sys
seqs = []
for l in open(sys.argv[1]):
    m = json.loads(l)
    if m["topic"].startswith("site/test-site/z/"):
        seqs += [r["seq"] for r in json.loads(m["payload"])]
print(" ".join(map(str, seqs)))
EOF
}
deadline=$((SECONDS + 60))
while ((SECONDS < deadline)); do
    seqs=$(got)
    [ "$(wc -w <<<"$seqs")" -ge 28 ] && break
    sleep 0.5
done
python3 - "$seqs" <<'EOF' || fail "records behind the poison did not all arrive exactly once: $seqs"
import sys
s = [int(x) for x in sys.argv[1].split()]
want = [i for i in range(30) if i not in (12, 13)]
sys.exit(0 if sorted(s) == want else 1)
EOF
echo "28 of 28 good records arrived once each"
for _ in $(seq 1 40); do
    n=$("$FAIRGATE" outbox list -c "$WORK/fairgate.yaml" 2>&1 >/dev/null | grep -o "^[0-9]*" || true)
    [ "$n" = 2 ] && break
    sleep 0.5
done
"$FAIRGATE" outbox list -c "$WORK/fairgate.yaml" >"$WORK/list.out" 2>"$WORK/list.err" ||
    fail "outbox list failed: $(cat "$WORK/list.err")"
cat "$WORK/list.out"
[ "$(grep -c "z/forbidden.*quarantined: refused" "$WORK/list.out")" = 2 ] ||
    fail "the two refused records are not each quarantined"
grep -q "z/ok" "$WORK/list.out" && fail "a good record was quarantined with the refused one"
stop_gateway
pass "a batched route gets past refused records; only they are quarantined, one by one"
