#!/usr/bin/env bash
# Issue 16, "poison never blocks": on a real upstream broker that refuses two
# messages (a topic its ACL denies: PUBACK 0x87; a payload over its
# message_size_limit: PUBACK 0x95) and drops the connection for a third (a
# packet over its max_packet_size), every other message still arrives, in a bounded time;
# the two are quarantined (counted, audited, in /status and /metrics), the
# gateway reconnects with back-off instead of spinning, and `fairgate outbox`
# lists, retries and drops them (audited). Also: a zone with DEL / C1 controls
# travels as a valid topic instead of killing the link.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_gateway.sh"
source "$(dirname "$0")/lib_fault.sh"

mkdir -p "$WORK/types"
cat >"$WORK/types/poisontest.yaml" <<'EOF'
type: poisontest
description: Poison test sensor; nothing personal
topic: raw/poisontest/{device}
format: json
fields:
  seq:  { type: integer, category: machine, min: 0, max: 100000000, required: true }
  zone: { type: string,  category: machine, max_length: 64 }
  pad:  { type: string,  category: machine, max_length: 2000 }
EOF
cat >"$WORK/policy.yaml" <<'EOF'
policy: poisontest
version: 1
valid_until: 2099-12-31
routes:
  - name: z
    purpose: poison testing
    from: poisontest
    to: site/{site}/z/{zone}
    fields: { seq: keep, zone: keep, pad: keep }
    retention: 1h
EOF
printf 'topic deny site/test-site/z/forbidden\ntopic readwrite #\n' >"$WORK/acl"
make_test_ca "$WORK/upca" localhost
start_broker local
start_broker upstream "cafile $WORK/upca/ca.crt" "certfile $WORK/upca/server.crt" \
    "keyfile $WORK/upca/server.key" "acl_file $WORK/acl" "message_size_limit 500" "max_packet_size 1100"
METRICS_PORT=$(free_port)
write_config "$WORK/fairgate.yaml" "$WORK/policy.yaml" \
    "sensors: { builtin: false, dirs: [$WORK/types] }" "metrics: { port: $METRICS_PORT }"
start_gateway "$WORK/fairgate.yaml"
subscribe_upstream "$WORK/upstream.jsonl" --idle 600000 --total 600000
get() { exec 3<>"/dev/tcp/127.0.0.1/$METRICS_PORT"; printf 'GET %s HTTP/1.0\r\n\r\n' "$1" >&3; cat <&3; exec 3<&-; }

pad=$(head -c 600 /dev/zero | tr '\0' 'p')
big=$(head -c 1500 /dev/zero | tr '\0' 'b')
pub() { mosquitto_pub -p "$local_PORT" -q 1 -V mqttv5 -t raw/poisontest/d1 -m "$1"; }
for i in $(seq 0 39); do
    case $i in
    10) pub "{\"seq\":$i,\"zone\":\"forbidden\"}" ;;          # ACL: the broker drops the link
    20) pub "{\"seq\":$i,\"zone\":\"ok\",\"pad\":\"$pad\"}" ;; # refused: PUBACK 0x95
    25) pub "{\"seq\":$i,\"zone\":\"big\",\"pad\":\"$big\"}" ;; # the broker drops the link
    30) pub "{\"seq\":$i,\"zone\":\"a\\u007fb\\u0085c\"}" ;;   # DEL and NEL in a topic level
    *) pub "{\"seq\":$i,\"zone\":\"ok\"}" ;;
    esac
done
wait_for_seqs() {
    local deadline=$((SECONDS + 40))
    while ((SECONDS < deadline)); do
        n=$(python3 -c '
import json,sys
s=set()
for l in open(sys.argv[1]):
    try: s.add(json.loads(json.loads(l)["payload"])["seq"])
    except Exception: pass
print(len(s - {10, 20, 25}))' "$WORK/upstream.jsonl")
        [ "$n" = 37 ] && return 0
        sleep 0.5
    done
    return 1
}
wait_for_seqs || fail "the messages behind the poison did not all arrive ($n of 37)"
echo "37 of 37 good messages arrived past the three poison messages"
grep -q '"seq":10' "$WORK/upstream.jsonl" && fail "the refused message arrived?"
grep -q '"seq":20' "$WORK/upstream.jsonl" && fail "the oversize message arrived?"
grep -q '"seq":25' "$WORK/upstream.jsonl" && fail "the over-packet-size message arrived?"
grep -q '"topic":"site/test-site/z/a_b_c"' "$WORK/upstream.jsonl" ||
    fail "the zone with control characters did not arrive as a valid topic"

wait_log "quarantined" 1 10 || fail "nothing quarantined"
for _ in $(seq 1 20); do
    n=$("$FAIRGATE" outbox list -c "$WORK/fairgate.yaml" 2>&1 >/dev/null | grep -o "^[0-9]*")
    [ "$n" = 3 ] && break
    sleep 0.5
done
"$FAIRGATE" outbox list -c "$WORK/fairgate.yaml" >"$WORK/list.out" 2>"$WORK/list.err" ||
    fail "outbox list failed: $(cat "$WORK/list.err")"
cat "$WORK/list.out"
grep -q "z/forbidden.*refused by the upstream broker (PUBACK reason 135" "$WORK/list.out" ||
    fail "the message on the denied topic is not quarantined with its reason"
grep -q "z/ok.*refused by the upstream broker (PUBACK reason 149" "$WORK/list.out" ||
    fail "the oversize message is not quarantined with its reason"
grep -q "z/big.*dropped the connection right after it, twice" "$WORK/list.out" ||
    fail "the message the broker dropped the connection for is not quarantined"
connects=$(log_count "upstream: connected to")
echo "upstream connections: $connects (back-off, not a loop)"
((connects <= 10)) || fail "reconnected $connects times: a loop, not a back-off"
grep -q "send deferred" "$WORK/gateway.log" && fail "a lost connection was treated as 'send deferred'"

sleep 1.5
status=$(get /status)
echo "$status" | tail -1
grep -q '"state":"degraded"' <<<"$status" || fail "/status does not say degraded"
grep -q '"quarantined"' <<<"$status" || fail "/status does not give the reason"
metrics=$(get /metrics)
grep -q '^fairgate_quarantine_messages 3$' <<<"$metrics" || fail "metrics do not count the quarantine"
grep -q 'fairgate_degraded_reason{reason="quarantined"} 1' <<<"$metrics" || fail "no degraded reason metric"
grep -q "status: degraded: .*quarantine" "$WORK/gateway.log" || fail "no log line for the change of state"
grep -q '"action":"outbox.quarantined"' "$WORK/state/audit/audit.log" 2>/dev/null ||
    grep -rq '"action":"outbox.quarantined"' "$WORK/state" || fail "quarantine not audited"

# retry: the oversize one goes back, is refused again, and is quarantined again
id=$(awk -F'\t' '$4 ~ /z\/ok/ && $5 ~ /^quarantined/ {print $1; exit}' "$WORK/list.out")
"$FAIRGATE" outbox retry -c "$WORK/fairgate.yaml" --id "$id" --reason "ACL was fixed, try again" \
    2>"$WORK/retry.err" || fail "retry failed: $(cat "$WORK/retry.err")"
wait_log "sent back to the queue" 1 10 || fail "the gateway did not take the retried message"
# drop everything: the status is ok again, one log line says so
for _ in $(seq 1 20); do
    "$FAIRGATE" outbox list -c "$WORK/fairgate.yaml" 2>/dev/null | grep -q "z/ok" && break; sleep 0.5
done
"$FAIRGATE" outbox drop -c "$WORK/fairgate.yaml" --id all --reason "not needed upstream" \
    2>"$WORK/drop.err" || fail "drop failed: $(cat "$WORK/drop.err")"
n=$("$FAIRGATE" outbox list -c "$WORK/fairgate.yaml" 2>&1 >/dev/null | grep -o "^[0-9]*")
[ "$n" = 0 ] || fail "quarantine not empty after drop ($n)"
wait_log "status: ok again" 1 10 || fail "no log line when the state became ok"
grep -rq '"action":"outbox.quarantine".*"command":"drop"' "$WORK/state" ||
    fail "outbox drop not audited"
stop_gateway
stop_pid TERM "$SUB_PID"
sanitizers_clean
pass "poison quarantined (2 refused, 1 link-dropping), 37 others delivered, status/metrics/audit tell, outbox list/retry/drop work"
