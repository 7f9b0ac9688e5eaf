#!/usr/bin/env bash
# Crash test: a writer killed with kill -9 while appending, ten times. After each kill
# the log verifies up to its last complete line, and the next open continues the chain
# (repairing a torn last line and auditing that it did).
# One line is one writev(), which kill -9 does not split; to exercise the torn-line
# path anyway, every third round also leaves half a line behind, as a power cut would.
source "$(dirname "$0")/lib.sh"

F=$FAIRGATE
[ -x "$F" ] || fail "no fairgate binary at $F"
S=$WORK/state
L=$WORK/audit.log
KEY=$WORK/first.pub
"$F" audit init --state "$S" --log "$L" --pub "$KEY" >"$WORK/init.log" 2>&1 || fail "init"

torn=0
grew=0
modes=(always interval never)
for round in $(seq 1 10); do
    mode=${modes[$((round % 3))]}
    before=$(wc -l <"$L")
    "$TOOLS/fg_audit_writer" --state "$S" --log "$L" --events 10000000 --fsync "$mode" \
        --checkpoint-every 25 --rotate-every 400 --delay-us 100 2>>"$WORK/writer.log" &
    pid=$!
    PIDS+=("$pid")
    sleep "0.$((RANDOM % 5 + 3))"
    kill -9 "$pid" 2>/dev/null || fail "round $round: the writer ended before the kill"
    wait "$pid" 2>/dev/null || true
    forget_pid "$pid"
    (($(wc -l <"$L") > before)) && grew=$((grew + 1))
    if ((round % 3 == 0)); then
        tail -n 1 "$L" | head -c 41 >>"$L" # half a line, no newline
        torn=$((torn + 1))
    fi
    set +e
    out=$("$F" audit verify "$L" --key "$KEY" 2>&1)
    rc=$?
    set -e
    case $rc in
    0) ;;
    3) grep -q "every complete line verifies" <<<"$out" || fail "round $round: $out" ;;
    *) fail "round $round (fsync $mode): exit $rc: $out" ;;
    esac
    if ((round % 3 == 0)); then
        [ "$rc" = 3 ] || fail "round $round: the injected torn line was not reported: $out"
    fi
    echo "round $round (fsync $mode): $(head -n 1 <<<"$out")"
done
((grew >= 8)) || fail "the writer wrote in only $grew of 10 rounds"
pass "after each of 10 kills the log verified up to its last complete line ($grew rounds wrote)"

"$TOOLS/fg_audit_writer" --state "$S" --log "$L" --events 20 2>>"$WORK/writer.log" ||
    fail "the writer cannot continue the log"
"$F" audit verify "$L" --key "$KEY" >"$WORK/verify.log" || fail "final: $(cat "$WORK/verify.log")"
repaired=$(grep -c '"action":"audit.repaired"' "$L" || true)
((repaired >= torn)) || fail "$torn torn lines but $repaired audit.repaired events"
[ "$(ls "$S" | grep -c '^audit-epoch-')" = 1 ] || fail "stale key files left: $(ls "$S")"
pass "the next open continued the chain; $repaired torn line(s) repaired and audited"
