#!/usr/bin/env bash
# Audit log through the CLI: a >1000-event log with several epochs, each kind of
# tampering named with its line, audited reads, prune, and the works council report
# (its per-category counts must equal those of `audit export`).
# The re-signing case needs crypto and lives in tests/unit/test_audit.c.
source "$(dirname "$0")/lib.sh"

F=$FAIRGATE
[ -x "$F" ] || fail "no fairgate binary at $F"
command -v jq >/dev/null || { echo "SKIP: jq not installed"; exit 77; }
S=$WORK/state
L=$WORK/audit.log
KEY=$WORK/first.pub
W=$WORK/witness.json

"$F" audit init --state "$S" --log "$L" --pub "$KEY" --checkpoint-every 40 >"$WORK/init.log" 2>&1 ||
    fail "init"
grep -Eq 'fingerprint: +[0-9a-f]{4}(-[0-9a-f]{4}){5}' "$WORK/init.log" || fail "no fingerprint printed"
writer() { "$TOOLS/fg_audit_writer" --state "$S" --log "$L" --checkpoint-every 40 \
    --rotate-every 200 "$@" 2>>"$WORK/writer.log"; }
writer --events 600 || fail "writer run 1"
cp "$L" "$WORK/old.log"
writer --events 500 || fail "writer run 2"
N=$(wc -l <"$L")
((N > 1000)) || fail "only $N lines"
"$F" audit verify "$L" --key "$KEY" --witness "$W" --update-witness >"$WORK/verify.log" ||
    fail "clean log does not verify: $(cat "$WORK/verify.log")"
grep -q intact "$WORK/verify.log" || fail "no 'intact' in verify output"
[ -s "$W" ] || fail "witness not written"
pass "clean log of $N lines verifies and the witness is written"
[ "$(ls "$S" | grep -c '^audit-epoch-')" = 1 ] || fail "old epoch keys were not wiped: $(ls "$S")"
pass "only the current epoch's key is left in the state directory"

# expect FILE EXIT KIND LINE [verify args...]
expect() {
    local file=$1 want_rc=$2 kind=$3 line=$4 out rc
    shift 4
    set +e
    out=$("$F" audit verify "$file" --key "$KEY" "$@" 2>&1)
    rc=$?
    set -e
    [ "$rc" = "$want_rc" ] || fail "$kind: exit $rc, wanted $want_rc: $out"
    grep -q "line $line: $kind:" <<<"$out" || fail "wanted '$kind' at line $line, got: $out"
    pass "$kind detected at line $line"
}

T=$WORK/t.log
K=$(grep -n '"action":"flow.summary"' "$L" | sed -n '300p' | cut -d: -f1)
sed "${K}s/\"count\":[0-9]*/\"count\":4242/" "$L" >"$T"
expect "$T" 1 edited "$K"

awk -v k=500 'NR==20{keep=$0} NR==k{print keep} {print}' "$L" >"$T"
expect "$T" 1 inserted 500

sed '700d' "$L" >"$T"
expect "$T" 1 deleted 700

awk 'NR==801{hold=$0; next} NR==802{print; print hold; next} {print}' "$L" >"$T"
expect "$T" 1 reordered 801

head -n $((N - 5)) "$L" >"$T"
"$F" audit verify "$T" --key "$KEY" >/dev/null || fail "a whole-line cut is unsealed, not damage, without a witness"
expect "$T" 1 truncated $((N - 4)) --witness "$W"

head -c -25 "$L" >"$T"
expect "$T" 3 truncated "$N"

OLD_N=$(wc -l <"$WORK/old.log")
expect "$WORK/old.log" 1 "rolled back" $((OLD_N + 1)) --witness "$W"

# Fork: someone with the current key cuts back inside the current epoch and writes on.
HO=$(grep -n '"action":"key.handover"' "$L" | tail -n 1 | cut -d: -f1)
cp -a "$S" "$WORK/fork-state"
head -n $((HO + 10)) "$L" >"$WORK/fork.log"
"$TOOLS/fg_audit_writer" --state "$WORK/fork-state" --log "$WORK/fork.log" --events 200 \
    2>>"$WORK/writer.log" || fail "fork writer"
"$F" audit verify "$WORK/fork.log" --key "$KEY" >/dev/null || fail "the fork alone should verify"
WSEQ=$(jq -r .seq "$W")
expect "$WORK/fork.log" 1 forked "$WSEQ" --witness "$W"

# Seal stripping without any key (issue 14): edit an event in an epoch whose key is
# destroyed, remove (or rename) every later seal, renumber, re-chain. Never "intact",
# with or without a witness older than the edit.
SW=$WORK/old-witness.json
"$F" audit verify "$WORK/old.log" --key "$KEY" --witness "$SW" --update-witness >/dev/null ||
    fail "old copy does not verify"
K=$(grep -n '"action":"flow.summary"' "$L" | sed -n '100p' | cut -d: -f1)
strip() { python3 "$(dirname "$0")/audit_strip.py" "$L" "$T" "$@" || fail "strip script"; }
strip strip "$K"
CP=$(head -n "$K" "$L" | grep -n '"action":"checkpoint"' | tail -n 1 | cut -d: -f1)
expect "$T" 1 "seals missing" $((CP + 41))
expect "$T" 1 "seals missing" $((CP + 41)) --witness "$SW"
grep -q 'removed or renamed' <<<"$("$F" audit verify "$T" --key "$KEY" 2>&1)" ||
    fail "no plain reason for the stripped seals"
strip rename "$K"
R1=$(awk -v k="$K" 'NR > k && /"action":"(checkpoint|key\.handover)-x"/ {print NR; exit}' "$T")
expect "$T" 1 edited "$R1"
strip loosen 1
expect "$T" 1 edited 2
strip nobounds 1
expect "$T" 1 "legacy log" 1
expect "$T" 1 forked 1 --witness "$W"
"$F" audit verify "$T" --key "$KEY" --allow-legacy >"$WORK/legacy.log" ||
    fail "--allow-legacy refused the chain"
grep -q 'LEGACY LOG' "$WORK/legacy.log" && grep -q 'would NOT be detected' "$WORK/legacy.log" ||
    fail "--allow-legacy does not say what is not checked: $(cat "$WORK/legacy.log")"
head -n 1 "$L" >"$T"
expect "$T" 1 truncated 1
pass "stripped, renamed and loosened seals are caught, with and without a witness"

OTHER=$WORK/other
"$F" audit init --state "$OTHER" --log "$WORK/other.log" --pub "$WORK/other.pub" >/dev/null 2>&1
set +e
out=$("$F" audit verify "$L" --key "$WORK/other.pub")
rc=$?
set -e
[ "$rc" = 1 ] && grep -q "line 1: wrong key" <<<"$out" || fail "wrong key not named: $out"
pass "a different first key is named"

# Reading is audited; the log still verifies and extends the witness.
"$F" audit show "$L" --route occupancy --since 2000-01-01 --state "$S" --as works-council \
    >"$WORK/show.txt" 2>>"$WORK/writer.log" || fail "show"
head -n 1 "$WORK/show.txt" | grep -q '^ *SEQ  TIME' || fail "show has no header"
grep -q '"actor":"works-council","action":"audit.read"' "$L" || fail "read not audited"
"$F" audit export "$L" --format csv --out "$WORK/export.csv" --state "$S" 2>>"$WORK/writer.log" ||
    fail "export csv"
grep -q '"action":"audit.export"' "$L" || fail "export not audited"
"$F" audit verify "$L" --key "$KEY" --witness "$W" --update-witness >/dev/null || fail "after reads"
pass "show and export are audited and the log still extends the witness"

# Report: self-contained, and its per-category counts equal those of the export.
"$F" audit report "$L" --key "$KEY" --witness "$W" --html "$WORK/report.html" >/dev/null ||
    fail "report"
R=$WORK/report.html
grep -q 'id="verification" data-ok="1"' "$R" || fail "report does not say verification passed"
! grep -qi '<script' "$R" || fail "report contains a script"
! grep -Eqi '(src|href)="(https?:)?//' "$R" || fail "report references external assets"
grep -q '<svg' "$R" || fail "report has no chart"
"$F" audit export "$L" --format json >"$WORK/export.json"
jq -r '[.[] | select(.action == "flow.summary") | .object as $o | $o.categories[] |
        {c: ., n: $o.count}] | group_by(.c)[] | "\(.[0].c) \(map(.n) | add)"' \
    "$WORK/export.json" | sort >"$WORK/cats.export"
grep -o 'data-category="[^"]*" data-count="[0-9]*"' "$R" |
    sed -E 's/data-category="([^"]*)" data-count="([0-9]*)"/\1 \2/' | sort >"$WORK/cats.report"
[ -s "$WORK/cats.export" ] || fail "no categories in the export"
diff "$WORK/cats.export" "$WORK/cats.report" || fail "report categories differ from the export"
CSV_ROWS=$(($(wc -l <"$WORK/export.csv") - 1))
JSON_ROWS=$(jq length "$WORK/export.json")
((JSON_ROWS >= CSV_ROWS)) || fail "csv has $CSV_ROWS rows, json $JSON_ROWS"
pass "report per-category counts equal the export ($(wc -l <"$WORK/cats.export") categories)"
if [ -x /usr/bin/chromium ]; then
    mkdir -p "$BUILD/test-artifacts"
    timeout 60 /usr/bin/chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
        --window-size=1100,3000 --screenshot="$BUILD/test-artifacts/audit-report.png" \
        "file://$R" >"$WORK/chromium.log" 2>&1 || fail "chromium could not render the report"
    [ -s "$BUILD/test-artifacts/audit-report.png" ] || fail "no screenshot"
    pass "report rendered to $BUILD/test-artifacts/audit-report.png"
else
    echo "chromium absent: screenshot skipped"
fi

# Prune: delete the first half, keep the first key verifying (anchor line on top).
MID=$(grep '"action":"checkpoint"' "$L" | sed -n '15p' | jq -r .time)
"$F" audit prune "$L" --before "$MID" --state "$S" >"$WORK/prune.log" 2>>"$WORK/writer.log" ||
    fail "prune: $(cat "$WORK/prune.log")"
head -n 1 "$L" | grep -q '^{"anchor":' || fail "no anchor line after prune"
"$F" audit verify "$L" --key "$KEY" --witness "$W" >"$WORK/verify2.log" ||
    fail "pruned log does not verify: $(cat "$WORK/verify2.log")"
grep -q 'pruned; anchor verified' "$WORK/verify2.log" || fail "verify does not mention the anchor"
grep -q '"action":"audit.pruned"' "$L" || fail "prune not audited"
sed '1s/"epoch":\([0-9]*\)/"epoch":9\1/' "$L" >"$T"
expect "$T" 1 edited 1
pass "prune keeps the log verifiable from the first key"
