# Helpers to run fairgate inside mosquitto (fairgate_mosquitto.so): the site's
# broker ("local") loads the plugin and bridges the minimised topics to a TLS
# upstream broker. Source after lib.sh and lib_gateway.sh.

PLUGIN=$BUILD/fairgate_mosquitto.so

# start_plugin_pair CONFIG [EXTRA_LOCAL_BROKER_LINES...]: upstream (TLS) first,
# then the local broker with the plugin and a bridge carrying site/# only.
# write_config must have run with local_PORT set (see plugin_ports).
plugin_ports() {
    [ -f "$PLUGIN" ] || { echo "SKIP: $PLUGIN not built (mosquitto-dev missing)"; exit 77; }
    make_test_ca "$WORK/upca" localhost
    start_broker upstream "cafile $WORK/upca/ca.crt" "certfile $WORK/upca/server.crt" \
        "keyfile $WORK/upca/server.key"
    local_PORT=$(free_port)
}

# The sanitizer build's plugin needs its runtimes loaded first into the
# (uninstrumented) mosquitto: preload what the plugin links against.
plugin_preload() {
    ldd "$PLUGIN" 2>/dev/null | awk '/lib(asan|ubsan)\.so/ {printf "%s%s", sep, $3; sep=":"}'
}

start_plugin_broker() { # CONFIG [EXTRA_LINES...]
    local cfg=$1; shift
    local conf=$WORK/local.conf
    {
        echo "listener $local_PORT 127.0.0.1"
        echo "allow_anonymous true"
        echo "persistence false"
        echo "max_queued_messages 1000000"   # as broker-config writes it
        echo "user $(id -un)"
        echo "plugin $PLUGIN"
        echo "plugin_opt_config $cfg"
        echo "connection fairgate-upstream"
        echo "address localhost:$upstream_PORT"
        echo "bridge_protocol_version mqttv50"
        echo "bridge_cafile $WORK/upca/ca.crt"
        echo "bridge_insecure false"
        echo "cleansession false"
        echo "topic site/# out 1"
        for l in "$@"; do echo "$l"; done
    } >"$conf"
    local before
    before=$(grep -c "as [^ ]*fairgate-upstream" "$WORK/upstream.log" || true)
    # Leak checking stays off inside mosquitto: the broker itself is not built with
    # the sanitizers and frees some of its own allocations only at exit (18 bytes from
    # mosquitto__calloc); the plugin's memory errors are still caught, and fairgate's
    # own leaks are checked in the daemon's tests.
    LD_PRELOAD=$(plugin_preload) ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
        mosquitto -c "$conf" >>"$WORK/gateway.log" 2>&1 &
    local_PID=$!
    PIDS+=("$local_PID")
    wait_port "$local_PORT" 10 || fail "mosquitto with the plugin did not start"
    wait_for grep -q "inside mosquitto" "$WORK/gateway.log" || fail "plugin did not start"
    wait_for bash -c "[ \$(grep -c 'as [^ ]*fairgate-upstream' '$WORK/upstream.log') -gt $before ]" ||
        fail "the bridge did not connect upstream"
}

stop_plugin_broker() {
    kill -TERM "$local_PID" 2>/dev/null || true
    wait "$local_PID" 2>/dev/null || true
    if grep -E "ERROR: (Address|Leak)Sanitizer|runtime error:" "$WORK/gateway.log" | head -5 | grep .; then
        fail "sanitizer report from the plugin"
    fi
}

# subscribe_local OUTFILE TOPIC [fg_sub args...]: a curious client on the site's broker
subscribe_local() {
    local out=$1 topic=$2; shift 2
    "$TOOLS/fg_sub" --port "$local_PORT" --host 127.0.0.1 --topic "$topic" --id "local-sub-$RANDOM" "$@" \
        >"$out" 2>>"$WORK/sub_local.log" &
    PIDS+=("$!")
    LOCAL_SUB_PID=$!
}
