#!/usr/bin/env bash
# The clean-up of lib.sh stops every process a test started, also when the
# test fails: one it listed in PIDS, one it did not list, one orphaned when
# the wrapper that started it died, and one that ignores SIGTERM. A child
# test starts all four and fails; afterwards none of them may be running.
source "$(dirname "$0")/lib.sh"

cat >"$WORK/child.sh" <<CHILD
source "$SRC/tests/e2e/lib.sh"
sleep 600 & PIDS+=("\$!"); echo "\$!" >>"$WORK/pids"
sleep 601 & echo "\$!" >>"$WORK/pids"
wrapper() { sleep 602 & echo "\$!" >>"$WORK/pids"; wait; }
wrapper & w=\$!
bash -c 'trap "" TERM; echo \$\$ >>"$WORK/pids"; exec sleep 603' &
for _ in \$(seq 1 50); do [ "\$(wc -l <"$WORK/pids")" -ge 4 ] && break; sleep 0.1; done
kill -KILL "\$w"; wait "\$w" 2>/dev/null || true   # its sleep 602 is now an orphan
fail "on purpose"
CHILD
rc=0
bash "$WORK/child.sh" >"$WORK/child.log" 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "the child test should fail with 1, not $rc: $(cat "$WORK/child.log")"
[ "$(wc -l <"$WORK/pids")" = 4 ] || fail "the child did not start its four processes"
grep -q "ignored SIGTERM; SIGKILL" "$WORK/child.log" || fail "the TERM-ignoring process was not named"
for p in $(cat "$WORK/pids"); do
    # running (not a zombie waiting to be reaped) and still our sleep
    if [ -d "/proc/$p" ] && ! grep -qs '^State:.*Z' "/proc/$p/status" &&
        grep -qs '^sleep$' "/proc/$p/comm"; then
        kill -KILL "$p" 2>/dev/null || true # ours: do not leave it behind either
        fail "PID $p ($(grep State "/proc/$p/status"), ppid $(ps -o ppid= "$p")) survived the clean-up"
    fi
done
rm -rf "$(sed -n 's/.*logs in \(\/[^:]*\):.*/\1/p' "$WORK/child.log")"
pass "listed, unlisted, orphaned and TERM-ignoring processes are all stopped when a test fails"
