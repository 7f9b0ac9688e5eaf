#!/usr/bin/env bash
# Disk full for real: the outbox lives on a 256 KiB tmpfs mounted in a private
# user + mount namespace (unshare -Urm: no root needed where unprivileged user
# namespaces are allowed; skipped otherwise). 300 inputs at ~100/s; midway a
# filler file takes every free byte for ~3 s (short writes and ENOSPC from the
# kernel, not a simulated flag), then it is deleted. The log must say the
# outbox cannot be written and inputs pause, then resume; every seq must
# arrive; a restart on the same directory must find no damaged record.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_gateway.sh"
source "$(dirname "$0")/lib_fault.sh"

command -v unshare >/dev/null && command -v nsenter >/dev/null || { echo "SKIP: no unshare/nsenter"; exit 77; }
SMALL=$WORK/small
mkdir -p "$SMALL"
unshare -Urm sh -c "mount -t tmpfs -o size=256k,mode=0700 fairgate-test '$SMALL' && touch '$WORK/ns.ready' && exec sleep 3600" \
    2>"$WORK/ns.log" &
NS_PID=$!
PIDS+=("$NS_PID")
for _ in $(seq 1 50); do [ -f "$WORK/ns.ready" ] && break; sleep 0.1; done
[ -f "$WORK/ns.ready" ] || { cat "$WORK/ns.log"; echo "SKIP: cannot mount a tmpfs in a user namespace here"; exit 77; }
in_ns() { nsenter -t "$NS_PID" -U -m --preserve-credentials "$@"; }

N=300
fault_types_and_policy 1h
start_pair
fault_config "$WORK/fairgate.yaml" "outbox: { dir: $SMALL/outbox }"
# nsenter may run fairgate as its child (it forks to enter the namespaces):
# a signal to nsenter would leave the gateway running, reparented to init, so
# the gateway's own PID is found and signalled, and its end awaited.
ns_gateway() {
    in_ns "$FAIRGATE" run -c "$WORK/fairgate.yaml" >>"$WORK/gateway.log" 2>&1 &
    NS_LAUNCHER=$!
    PIDS+=("$NS_LAUNCHER")
    GW_PID=$NS_LAUNCHER
    local c=""
    for _ in $(seq 1 50); do
        c=$(pgrep -P "$NS_LAUNCHER" -x fairgate || true)
        [ -n "$c" ] && break
        [ "$(cat "/proc/$NS_LAUNCHER/comm" 2>/dev/null)" = fairgate ] && break # exec'd
        sleep 0.1
    done
    if [ -n "$c" ]; then
        GW_PID=$c
        PIDS+=("$c")
    fi
}
ns_stop() {
    kill -TERM "$GW_PID" 2>/dev/null || true
    for _ in $(seq 1 150); do kill -0 "$GW_PID" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$GW_PID" 2>/dev/null && fail "the gateway did not stop within 15 s"
    wait "$NS_LAUNCHER" 2>/dev/null || true
    forget_pid "$GW_PID"
    forget_pid "$NS_LAUNCHER"
}
ns_gateway
wait_log "upstream: connected to" 1 15 || fail "gateway did not connect upstream"
# issue 16: outbox.max_bytes (64 MiB by default) cannot fit a 256 KiB disk:
# checked at start against the free space, a smaller bound is used and said
grep -q "so the outbox cannot fill its own disk" "$WORK/gateway.log" ||
    fail "outbox.max_bytes was not checked against the free space"
wait_log "subscribed to" 1 15 || fail "gateway did not subscribe"
subscribe_upstream "$WORK/upstream.jsonl" --idle 600000 --total 600000

"$TOOLS/fg_seqpub" --port "$local_PORT" --topic "$SEQ_TOPIC" --count "$N" --rate 100 \
    >"$WORK/pub.out" 2>>"$WORK/pub.log" &
PUB_PID=$!
PIDS+=("$PUB_PID")
sleep 1.5
in_ns sh -c "dd if=/dev/zero of='$SMALL/filler' bs=4096 2>/dev/null; df -k '$SMALL' | tail -1" |
    awk '{print "tmpfs filled: " $3 " KiB used, " $4 " KiB free"}'
# Either inputs pause before a write fails (free space below the headroom) or a
# write fails: both say so clearly, once.
FULL_RE='cannot write the outbox\|disk of the outbox is nearly full'
wait_log "$FULL_RE" 1 10 || fail "no clear error when the disk is full"
grep -m1 "$FULL_RE" "$WORK/gateway.log"
sleep 3
in_ns rm -f "$SMALL/filler"
echo "filler removed"
wait "$PUB_PID" || fail "publisher: $(cat "$WORK/pub.out")"
forget_pid "$PUB_PID"
echo "publisher: $(cat "$WORK/pub.out")"
wait_log "resuming inputs" 1 15 || fail "inputs never resumed"
grep -m1 "resuming inputs" "$WORK/gateway.log"
wait_seqs "$WORK/upstream.jsonl" 0 "$N" 45 || true
sleep 1
ns_stop
seq_report "$WORK/upstream.jsonl" 0 "$N" || fail "messages lost while the disk was full"
source "$WORK/seq_figures.sh"
echo "a full disk paused inputs $(log_count "$FULL_RE") time(s); duplicates $DUPS (same id $DUP_SAME, different id $DUP_DIFF)"

n_before=$(wc -l <"$WORK/gateway.log")
ns_gateway
wait_log "subscribed to" 2 15 || fail "gateway did not restart"
ns_stop
tail -n +"$((n_before + 1))" "$WORK/gateway.log" >"$WORK/restart.log"
if grep -E "damaged record|torn last record|cannot truncate" "$WORK/restart.log"; then
    fail "outbox damaged after the disk-full episode"
fi
stop_pid TERM "$SUB_PID"
sanitizers_clean
pass "real disk full (tmpfs): clear error, inputs paused and resumed, all $N arrived, outbox intact"
