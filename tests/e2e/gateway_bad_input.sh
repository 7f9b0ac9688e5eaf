#!/usr/bin/env bash
# Bad input on real brokers: malformed JSON, wrong types, out-of-range values,
# oversize payloads and unknown topics are counted by reason, never forwarded,
# and the gateway keeps running and forwards the next good message.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_gateway.sh"

start_pair
write_config "$WORK/fairgate.yaml" "$SRC/examples/policy-demo.yaml" "limits: { max_payload: 512 }"
start_gateway "$WORK/fairgate.yaml"
subscribe_upstream "$WORK/upstream.jsonl" --idle 3000

pub() { mosquitto_pub -p "$local_PORT" -q 1 -V mqttv5 -t "$1" -m "$2"; }
T=raw/uwb-badge/d4:3f:00:00:00:01
pub $T '{"badge":"B-66601","x":'                                  # malformed
pub $T 'not json at all'                                           # malformed
pub $T '{"badge":"B-66602","x":"far away"}'                        # wrong type
pub $T '{"badge":66603}'                                           # wrong type
pub $T '{"badge":"B-66604","x":123456}'                            # out of range
pub $T '{"badge":"B-66605","badge":"B-66606"}'                     # duplicate key
pub $T "{\"badge\":\"B-66607\",\"pad\":\"$(head -c 800 /dev/zero | tr '\0' x)\"}"  # oversize
pub raw/coffee-machine/c1 '{"badge":"B-66608","cups":3}'           # unknown topic
pub $T '{"zone":"canteen"}'                                        # required badge missing
pub $T '{"badge":"B-66609","x":10,"y":10,"zone":"canteen"}'        # the one good message
wait "$SUB_PID" || true
wait_for grep -q "in=10 " "$WORK/gateway.log" || fail "gateway did not count 10 inputs"
kill -0 "$GW_PID" || fail "gateway died"
stop_gateway

n=$(wc -l <"$WORK/upstream.jsonl")
[ "$n" = 1 ] || { cat "$WORK/upstream.jsonl"; fail "expected exactly 1 message upstream, got $n"; }
grep -q '"topic":"site/test-site/positions/canteen"' "$WORK/upstream.jsonl" || fail "good message missing"
for id in 66601 66602 66603 66604 66605 66606 66607 66608; do
    grep -q "B-$id" "$WORK/upstream.jsonl" && fail "bad input B-$id was forwarded"
    grep -q "$id" "$WORK/gateway.log" && fail "bad input B-$id appears in the log"
done
grep -q "B-66609" "$WORK/upstream.jsonl" && fail "the good message's badge id left unpseudonymised"
grep -q "final: in=10 queued=1 out=1 rejected=9" "$WORK/gateway.log" || fail "counters wrong"
for reason in "malformed payload" "wrong field type" "value out of range" "oversize payload" \
    "unknown topic" "required field missing"; do
    grep -q "rejected.*$reason" "$WORK/gateway.log" || fail "reason '$reason' not reported"
done
pass "bad input counted by reason, nothing forwarded raw, gateway kept running"
