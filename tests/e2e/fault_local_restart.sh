#!/usr/bin/env bash
# Local broker restarts. With persistence: the gateway's session survives, so
# inputs queued for it while it was stopped come through a broker restart, and
# after a restart under a running gateway it resumes its session. Without
# persistence: the broker forgets the session; the gateway must subscribe again
# by itself, and messages published after that arrive.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_gateway.sh"
source "$(dirname "$0")/lib_fault.sh"

BASE=$WORK
finish() { WORK=$BASE; } # lib.sh's clean-up removes $WORK: the base directory

publish() { # FIRST COUNT
    "$TOOLS/fg_seqpub" --port "$local_PORT" --topic "$SEQ_TOPIC" --start "$1" --count "$2" \
        --rate 500 >"$WORK/pub.out" 2>>"$WORK/pub.log" || fail "publisher: $(cat "$WORK/pub.out")"
}

restart_local() {
    stop_pid TERM "$local_PID"
    run_broker local
}

# variant NAME PERSISTENCE
variant() {
    local name=$1 persist=$2 subs
    WORK=$BASE/$name
    mkdir -p "$WORK/local-db"
    fault_types_and_policy 1h
    make_test_ca "$WORK/upca" localhost
    broker_conf local "$(free_port)" "persistence $persist" "persistence_location $WORK/local-db/"
    run_broker local
    start_broker upstream "cafile $WORK/upca/ca.crt" "certfile $WORK/upca/server.crt" \
        "keyfile $WORK/upca/server.key"
    fault_config "$WORK/fairgate.yaml"
    start_gateway "$WORK/fairgate.yaml"
    subscribe_upstream "$WORK/upstream.jsonl" --idle 600000 --total 600000
    publish 0 100
    wait_seqs "$WORK/upstream.jsonl" 0 100 15 || fail "$name: first 100 did not arrive"
    local next=100
    if [ "$persist" = true ]; then
        # inputs wait in the gateway's session, across a broker restart
        stop_gateway
        forget_pid "$GW_PID"
        publish 100 100
        restart_local
        start_gateway "$WORK/fairgate.yaml"
        wait_seqs "$WORK/upstream.jsonl" 0 200 15 ||
            fail "$name: inputs queued in the session did not survive the broker restart"
        grep -q "session resumed" "$WORK/gateway.log" || fail "$name: session not resumed"
        echo "$name: 100 inputs queued in the stopped gateway's session survived a broker restart"
        next=200
    fi
    # a restart under the running gateway
    subs=$(log_count "subscribed to")
    restart_local
    wait_log "subscribed to" $((subs + 1)) 20 || fail "$name: the gateway did not subscribe again"
    grep "local: connected to" "$WORK/gateway.log" | tail -1
    publish "$next" 100
    wait_seqs "$WORK/upstream.jsonl" 0 $((next + 100)) 15 || true
    sleep 0.5
    stop_gateway
    stop_pid TERM "$SUB_PID"
    seq_report "$WORK/upstream.jsonl" 0 $((next + 100)) || fail "$name: messages lost"
    source "$WORK/seq_figures.sh"
    echo "$name: local connections $(log_count "local: connected to"), losses $(log_count "connection to the local broker lost"), duplicates $DUPS"
    sanitizers_clean
    stop_pid TERM "$local_PID"
    stop_pid TERM "$upstream_PID"
}

variant persistent true
variant volatile false
finish
pass "local broker restarts: with and without persistence nothing published after the restart is lost"
