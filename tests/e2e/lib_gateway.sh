# Helpers to run the gateway between a plain local broker and a TLS upstream
# broker. Source after lib.sh.
#
# FAIRGATE_MODE=plugin runs the same test with fairgate inside mosquitto: the
# local broker loads fairgate_mosquitto.so with the same configuration and
# bridges the minimised topics upstream (lib_plugin.sh); GW_PID is then that
# broker and $WORK/gateway.log its log.
FAIRGATE_MODE=${FAIRGATE_MODE:-daemon}
source "$(dirname "${BASH_SOURCE[0]}")/lib_plugin.sh"
plugin_mode() { [ "$FAIRGATE_MODE" = plugin ]; }

# start_pair: local (plain) and upstream (TLS, certificate for localhost).
start_pair() {
    if plugin_mode; then plugin_ports; return; fi
    make_test_ca "$WORK/upca" localhost
    start_broker local
    start_broker upstream "cafile $WORK/upca/ca.crt" "certfile $WORK/upca/server.crt" \
        "keyfile $WORK/upca/server.key"
}

# write_config FILE POLICY [EXTRA_YAML_LINES...]
write_config() {
    local file=$1 policy=$2; shift 2
    {
        echo "site: test-site"
        echo "state_dir: $WORK/state"
        echo "local: { host: 127.0.0.1, port: $local_PORT, client_id: fg-test-$$ }"
        echo "upstream:"
        echo "  host: localhost"
        echo "  port: $upstream_PORT"
        echo "  tls: { ca: $WORK/upca/ca.crt }"
        echo "policy: { file: $policy, required_roles: \"\" }  # signatures: see policy_signatures.sh"
        echo "stats: { interval: 1s }"
        for l in "$@"; do echo "$l"; done
    } >"$file"
}

# start_gateway CONFIG: runs fairgate in the background; GW_PID, log in $WORK/gateway.log
start_gateway() {
    if plugin_mode; then
        start_plugin_broker "$1"
        GW_PID=$local_PID
        return
    fi
    "$FAIRGATE" run -c "$1" >>"$WORK/gateway.log" 2>&1 &
    GW_PID=$!
    PIDS+=("$GW_PID")
    wait_for grep -q "upstream: connected to" "$WORK/gateway.log" || fail "gateway did not connect upstream"
    wait_for grep -q "subscribed to" "$WORK/gateway.log" || fail "gateway did not subscribe"
}

stop_gateway() {
    if plugin_mode; then stop_plugin_broker; return; fi
    stop_pid TERM "$GW_PID"
}

# subscribe_upstream OUTFILE [fg_sub args...]: background subscriber on the upstream broker
subscribe_upstream() {
    local out=$1; shift
    "$TOOLS/fg_sub" --port "$upstream_PORT" --host localhost --ca "$WORK/upca/ca.crt" \
        --topic '#' "$@" >"$out" 2>>"$WORK/sub.log" &
    SUB_PID=$!
    PIDS+=("$SUB_PID")
    wait_for grep -q "subscribed" "$WORK/sub.log" || fail "upstream subscriber did not start"
}
