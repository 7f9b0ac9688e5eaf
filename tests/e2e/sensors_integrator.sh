#!/usr/bin/env bash
# A new integrator's walk, offline (no broker needed): `sensors new` for each
# format, `sensors check`, `sensors test`, `replay` of the samples under the
# generated route; a decoder built outside fairgate loaded and exercised by
# `sensors check --decoders`, and refused when its directory is group-writable;
# errors that show the expected topic pattern; replay's summary without an
# empty "dropped:" header.
source "$(dirname "$0")/lib.sh"
cd "$WORK"
export FAIRGATE_SOURCE_DIR=$SRC

# 1. new -> check -> test -> replay, for every format.
for fmt in json senml binary; do
    name=try-$fmt
    "$FAIRGATE" sensors new "$name" --format "$fmt" >new.log 2>&1 || { cat new.log; fail "sensors new --format $fmt"; }
    for f in "$name/types/$name.yaml" "$name/samples.jsonl" "$name/policy.yaml"; do
        [ -s "$f" ] || fail "sensors new --format $fmt did not write $f"
    done
    "$FAIRGATE" sensors check "$name/types/$name.yaml" >check.log 2>&1 || { cat check.log; fail "skeleton $fmt does not check"; }
    "$FAIRGATE" sensors test "$name" "$name/samples.jsonl" --dir "$name/types" >test.log 2>&1 ||
        { cat test.log; fail "samples of $fmt do not decode"; }
    grep -q "^2 line(s): 2 decoded, 0 failed$" test.log || { cat test.log; fail "sensors test summary ($fmt)"; }
    "$FAIRGATE" replay --policy "$name/policy.yaml" --sensors "$name/types" <"$name/samples.jsonl" \
        >replay.out 2>replay.err || { cat replay.err; fail "replay of the $fmt samples"; }
    [ "$(wc -l <replay.out)" = 2 ] || { cat replay.out replay.err; fail "replay ($fmt): want 2 messages leaving"; }
    grep -q '"payload":"{}"' replay.out && fail "replay ($fmt): an empty message left"
    grep -q '^dropped:' replay.err && { cat replay.err; fail "replay ($fmt) prints 'dropped:' with nothing dropped"; }
done
grep -qF '\"state\":\"open\"' replay.out || fail "binary value map: state not named in the output"
"$FAIRGATE" sensors new try-json --format json >new.log 2>&1 && fail "sensors new overwrote an existing type"
grep -q "exists; not overwritten" new.log || fail "sensors new: no reason for refusing to overwrite"
pass "sensors new/check/test and replay for json, senml and binary skeletons"

# 2. Precise errors: a line of another topic, a payload without any declared field.
printf '%s\n' '{"topic":"raw/elsewhere/d1","payload":"{}"}' \
    '{"topic":"raw/try-json/d1","payload":"{\"firmware\":\"1.2\"}"}' >bad.jsonl
"$FAIRGATE" sensors test try-json bad.jsonl --dir try-json/types >bad.log 2>&1 && fail "sensors test passed bad lines"
grep -q "line 1: error: topic does not match type try-json's pattern raw/try-json/{device}" bad.log ||
    { cat bad.log; fail "topic error does not show the pattern"; }
grep -q "line 2: error: message has none of the fields type try-json declares" bad.log ||
    { cat bad.log; fail "empty message not refused"; }
"$FAIRGATE" replay --policy try-json/policy.yaml --sensors try-json/types <bad.jsonl >replay.out 2>replay.err || true
[ -s replay.out ] && { cat replay.out; fail "replay let a message without declared fields leave"; }
grep -q '^dropped:' replay.err || { cat replay.err; fail "replay summary lacks 'dropped:' when messages were dropped"; }
pass "errors name the topic pattern; a message with no declared field never leaves"

# 3. A decoder built outside fairgate: loaded, exercised, used; refused when unsafe.
mkdir -m 0755 decoders
cc -shared -fPIC -I"$SRC/include" -o decoders/pipe.so "$SRC/tests/data/decoders/decoder_pipe.c" ||
    fail "sample decoder does not build against include/fairgate/sensor_decoder.h"
chmod 0755 decoders/pipe.so
mkdir -m 0755 helmet
cat >helmet/helmet.yaml <<'YAML'
type: helmet
topic: raw/helmet/{device}
format: c
decoder: pipe
fields:
  worker: { type: string, category: worker-id }
  gas:    { type: number, category: safety-event, unit: ppm }
  impact: { type: boolean, category: safety-event }
  ts:     { type: timestamp, category: time }
YAML
printf 'W-1|12.5|1|1795766400' >helmet.sample
"$FAIRGATE" sensors check helmet/helmet.yaml --decoders decoders --sample helmet.sample >dcheck.log 2>&1 ||
    { cat dcheck.log; fail "sensors check with an out-of-tree decoder"; }
grep -q "decoder pipe from decoders/pipe.so: loaded, exercised on 7 synthetic payloads" dcheck.log ||
    { cat dcheck.log; fail "sensors check did not exercise the decoder"; }
grep -q '"gas":12.5,"impact":true,"ts":"2026-11-27T08:00:00.000Z"' dcheck.log || { cat dcheck.log; fail "decoded sample"; }
"$FAIRGATE" sensors check helmet/helmet.yaml >nodec.log 2>&1 && fail "format c with an unknown decoder passed"
grep -q "unknown decoder 'pipe'.*--decoders" nodec.log || { cat nodec.log; fail "no hint towards --decoders"; }
chmod 0775 decoders
"$FAIRGATE" sensors check helmet/helmet.yaml --decoders decoders >perm.log 2>&1 && fail "group-writable decoder directory accepted"
grep -q "refused: the decoder directory is writable by its group" perm.log || { cat perm.log; fail "refusal reason"; }
chmod 0755 decoders
pass "out-of-tree decoder loaded, exercised and used; group-writable directory refused"
