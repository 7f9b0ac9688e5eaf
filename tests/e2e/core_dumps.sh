#!/usr/bin/env bash
# No raw data in core dumps: the running daemon, started as an unprivileged user,
# has a core size limit of 0 (soft and hard) and is not dumpable, so that user can
# neither get a core file nor read its memory or environment through /proc; an
# ordinary process of the same user can (the control that the check can fail).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_gateway.sh"
command -v setpriv >/dev/null || { echo "SKIP: setpriv missing"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root to start the daemon as another user"; exit 77; }
U=65534 # nobody
AS_USER=(setpriv --reuid=$U --regid=$U --clear-groups)
as_user() { "${AS_USER[@]}" "$@"; }

start_pair
write_config "$WORK/fairgate.yaml" "$SRC/examples/policy-demo.yaml"
mkdir -p "$WORK/state"
chown $U:$U "$WORK/state"
chmod 755 "$WORK" "$WORK/upca"
chmod 644 "$WORK/fairgate.yaml" "$WORK/upca/ca.crt"
"${AS_USER[@]}" "$FAIRGATE" run -c "$WORK/fairgate.yaml" >>"$WORK/gateway.log" 2>&1 &
GW_PID=$!
PIDS+=("$GW_PID")
wait_for grep -q "upstream: connected to" "$WORK/gateway.log" || fail "gateway did not connect upstream"
"${AS_USER[@]}" sleep 60 &
CTRL=$!
PIDS+=("$CTRL")
sleep 0.2

grep -q "^Uid:.*\b$U\b" "/proc/$GW_PID/status" || fail "the daemon does not run as uid $U"
grep -E "^Max core file size +0 +0 " "/proc/$GW_PID/limits" >/dev/null ||
    fail "core limit of the daemon is not 0/0: $(grep core "/proc/$GW_PID/limits")"
as_user cat "/proc/$CTRL/environ" >/dev/null 2>&1 ||
    fail "control: uid $U cannot read its own process's environ, so the check below proves nothing"
if as_user cat "/proc/$GW_PID/environ" >/dev/null 2>&1; then
    fail "uid $U can read the daemon's /proc environ: the daemon is dumpable"
fi
if as_user head -c 1 "/proc/$GW_PID/mem" >/dev/null 2>&1; then
    fail "uid $U can open the daemon's memory"
fi
[ "$(stat -c %u "/proc/$GW_PID/environ")" = 0 ] || fail "/proc/PID/environ of the daemon is not root-owned (dumpable)"
[ "$(stat -c %u "/proc/$CTRL/environ")" = $U ] || fail "control: /proc/PID/environ of a dumpable process is not owned by its user"
pass "the daemon is not dumpable and its core limit is 0"

