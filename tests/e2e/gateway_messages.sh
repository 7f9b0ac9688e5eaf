#!/usr/bin/env bash
# Issue 16 item 6, messages that mislead: an upstream broker that is simply
# down is "not reachable" (a warning, retried with back-off), never "cannot
# connect securely ... connection refused" (an error about TLS); the stats
# line says whether inputs flow (inputs=on / paused(why)); /status says why
# it is not ok.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_gateway.sh"
source "$(dirname "$0")/lib_fault.sh"

fault_types_and_policy 1h
make_test_ca "$WORK/upca" localhost
start_broker local
upstream_PORT=$(free_port) # nobody listens there
METRICS_PORT=$(free_port)
fault_config "$WORK/fairgate.yaml" "metrics: { port: $METRICS_PORT }"
run_gateway "$WORK/fairgate.yaml"
wait_log "subscribed to" 1 15 || fail "gateway did not subscribe"
wait_log "the broker is not reachable" 1 15 || fail "no plain sentence for a broker that is down"
grep "the broker is not reachable" "$WORK/gateway.log" | head -1
grep -q "cannot connect securely" "$WORK/gateway.log" &&
    fail "a broker that is down was reported as a TLS problem"
wait_log "stats: .*upstream=down inputs=on" 1 5 || fail "the stats line does not say that inputs flow"
get() { exec 3<>"/dev/tcp/127.0.0.1/$METRICS_PORT"; printf 'GET %s HTTP/1.0\r\n\r\n' "$1" >&3; cat <&3; exec 3<&-; }
get /status | tail -1 | grep -q '"state":"upstream-down","degraded":\["upstream-down"\]' ||
    fail "/status does not say why: $(get /status | tail -1)"
stop_pid TERM "$GW_PID"
sanitizers_clean
pass "a down broker is 'not reachable' (warning, back-off), stats and status say what flows"
