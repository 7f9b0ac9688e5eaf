#!/usr/bin/env bash
# fairgate benchmarks (issue 9). Never part of scripts/test.sh.
#
#   bench/run.sh [--quick] [--systems abcd] [--source DIR] [--rounds N] [--no-pipeline]
#   bench/run.sh --profile [--source DIR]   # perf (or callgrind) profiles only
#
# 1. In-process pipeline (bench/pipeline.c): decode -> policy -> encode,
#    messages/s per core, allocations per message, aggregation state.
# 2. End to end through real mosquitto brokers on loopback (plain TCP for every
#    system: TLS is used by none of them), systems interleaved A-B-A-B:
#      a  mosquitto bridge local -> upstream (pass-through)
#      b  Node-RED 4 flow (mqtt in -> function: drop, HMAC, round -> mqtt out)
#      c  fairgate with the equivalent policy (bench/policies/bench.yaml)
#      d  fairgate with the factory-style policy (aggregation) and durable
#         outbox, when this fairgate has them (see the labels printed)
#      e  fairgate inside mosquitto (fairgate_mosquitto.so, bench policy) and
#         mosquitto's bridge carrying the minimised topics (MQTT v5)
#      f  fairgate with the bench policy and batched upstream
#         (bench/policies/bench-batch.yaml: 50 records, 20 ms)
#    QoS 0 and QoS 1; offered rates stepped up to saturation.
# Results: bench/out/results.csv, bench/out/pipeline.csv, a table on stdout.
# Every process it starts is stopped by PID at exit, even on error.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=$(cd "$HERE/.." && pwd)
QUICK=0
SYSTEMS=abcdef
ROUNDS=""
PIPELINE=1
PROFILE=0
OUT_ARG=""
while (($#)); do
    case $1 in
    --quick) QUICK=1 ;;
    --systems) SYSTEMS=$2; shift ;;
    --source) SRC=$(cd "$2" && pwd); shift ;;
    --rounds) ROUNDS=$2; shift ;;
    --no-pipeline) PIPELINE=0 ;;
    --profile) PROFILE=1 ;;
    --out) OUT_ARG=$2; shift ;;
    -h | --help) sed -n 2,20p "$0"; exit 0 ;;
    *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
if ((QUICK)); then
    RATES=(5000 10000 20000 30000)
    STEP_S=2
    : "${ROUNDS:=1}"
else
    RATES=(2000 5000 10000 15000 20000 30000 40000)
    STEP_S=4
    : "${ROUNDS:=2}"
fi
LAT_S=$STEP_S
GRACE_MS=500 # a step passes only if every message arrived within this of its send time
BUILD=$SRC/build-bench
BB=$BUILD/bench
OUT=${OUT_ARG:-$HERE/out}
STEPS_FILE=$OUT/steps.jsonl
mkdir -p "$OUT"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/fairgate-bench.XXXXXX")
PIDS=()
T_START=$SECONDS

log() { printf '[%4ds] %s\n' $((SECONDS - T_START)) "$*" >&2; }

cleanup() {
    local rc=$?
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    if [ "$rc" != 0 ] || [ -n "${KEEP_WORK:-}" ]; then
        echo "run.sh: rc=$rc; logs kept in $WORK" >&2
    else
        rm -rf "$WORK"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

forget_pid() { # PID: stop tracking (after it was stopped)
    local keep=() p
    for p in "${PIDS[@]}"; do [ "$p" != "$1" ] && keep+=("$p"); done
    PIDS=("${keep[@]+"${keep[@]}"}")
}

stop_pid() {
    kill "$1" 2>/dev/null || true
    local i
    for i in $(seq 1 100); do kill -0 "$1" 2>/dev/null || break; sleep 0.05; done
    kill -9 "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
    forget_pid "$1"
}

# ---- dependencies ----------------------------------------------------------------
deps() {
    local pkgs=(build-essential cmake pkg-config libpaho-mqtt-dev libssl-dev libmbedtls-dev
        libsodium-dev libyaml-dev libcjson-dev libsqlite3-dev mosquitto procps python3 valgrind)
    local missing=() p
    for p in "${pkgs[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if ((${#missing[@]})); then
        log "installing ${missing[*]}"
        local sudo=""
        [ "$(id -u)" = 0 ] || sudo=sudo
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
            "${missing[@]}" >/dev/null
    fi
    command -v node >/dev/null || { echo "run.sh: node is required for Node-RED" >&2; exit 1; }
    if [[ $SYSTEMS == *b* ]] && [ ! -f "$HERE/node_modules/node-red/red.js" ]; then
        log "installing Node-RED 4 into bench/node_modules (npm registry)"
        (cd "$HERE" && npm install --no-audit --no-fund --loglevel=error node-red@4 >/dev/null)
    fi
}

build() {
    log "building fairgate ($SRC) into $BUILD"
    cmake -S "$SRC" -B "$BUILD" -DFAIRGATE_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$BUILD" -j"$(nproc)" >/dev/null
    cmake -S "$HERE" -B "$BB" -DFAIRGATE_BUILD_DIR="$BUILD" -DFAIRGATE_SOURCE_DIR="$SRC" \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$BB" -j"$(nproc)" >/dev/null
}

# ---- in-process pipeline ------------------------------------------------------------
pipeline_bench() {
    local secs=3 f="$OUT/pipeline.csv"
    ((QUICK)) && secs=1
    echo "kind,label,policy,msgs_per_s_per_core,ns_per_msg,allocs_per_msg,in_bytes,out_bytes,n,rejected" >"$f"
    log "pipeline: in-process decode -> policy -> encode"
    "$BB/pipeline" --csv --seconds $secs >>"$f"
    "$BB/pipeline" --csv --seconds $secs --outbox >>"$f"
    "$BB/pipeline" --csv --seconds $secs --policy "$HERE/policies/bench.yaml" --types "$HERE/types" >>"$f"
    if [ -f "$SRC/policy/factory.yaml" ] &&
        "$BB/pipeline" --check --policy "$SRC/policy/factory.yaml" >/dev/null 2>&1; then
        "$BB/pipeline" --csv --seconds $secs --policy "$SRC/policy/factory.yaml" >>"$f"
        if grep -q "aggregate" "$SRC/policy/factory.yaml"; then
            "$BB/pipeline" --csv --seconds 1 --policy "$SRC/policy/factory.yaml" \
                --agg-workers 100000 | grep '^aggregation' >"$OUT/aggregation.csv" || true
        fi
    else
        log "pipeline: policy/factory.yaml absent or not accepted: no aggregation line"
        rm -f "$OUT/aggregation.csv"
    fi
}

# ---- brokers and systems ---------------------------------------------------------------
free_port() {
    local p
    for _ in $(seq 1 50); do
        p=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
    done
    return 1
}

wait_port() { # PORT SECONDS
    local deadline=$((SECONDS + $2))
    while ((SECONDS < deadline)); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}

wait_log() { # FILE REGEX SECONDS
    local deadline=$((SECONDS + $3))
    while ((SECONDS < deadline)); do
        grep -qE "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# Identical for every broker of every system.
BROKER_COMMON=("allow_anonymous true" "persistence false" "max_inflight_messages 100"
    "max_queued_messages 10000" "user $(id -un)")

# start_broker NAME [EXTRA LINES...]: sets NAME_PORT, NAME_PID
start_broker() {
    local name=$1; shift
    local port conf=$WORK/$name.conf pid
    for _ in 1 2 3 4 5; do
        port=$(free_port)
        { echo "listener $port 127.0.0.1"; printf '%s\n' "${BROKER_COMMON[@]}" "$@"; } >"$conf"
        mosquitto -c "$conf" >>"$WORK/$name.log" 2>&1 &
        pid=$!
        PIDS+=("$pid")
        if wait_port "$port" 5; then
            printf -v "${name}_PORT" '%s' "$port"
            printf -v "${name}_PID" '%s' "$pid"
            return 0
        fi
        stop_pid "$pid"
    done
    echo "run.sh: could not start mosquitto $name" >&2
    exit 1
}

D_POLICY="" D_OUTBOX_KEY="" D_LABEL=""
detect_d() {
    local help
    help=$("$BUILD/fairgate" run --help-config 2>/dev/null || true)
    D_OUTBOX_KEY=$(printf '%s\n' "$help" | grep -oE '^ *outbox\.(path|dir|file)' | tr -d ' ' | head -1 || true)
    if "$BB/pipeline" --check --policy "$HERE/policies/bench-factory.yaml" --types "$HERE/types" \
        >/dev/null 2>&1; then
        D_POLICY=$HERE/policies/bench-factory.yaml
    fi
    if [ -n "$D_POLICY" ] && [ -n "$D_OUTBOX_KEY" ]; then
        D_LABEL="fairgate factory-style policy + durable outbox ($D_OUTBOX_KEY)"
    elif [ -n "$D_POLICY" ]; then
        D_LABEL="fairgate factory-style policy, IN-MEMORY outbox (no durable outbox yet)"
    elif [ -n "$D_OUTBOX_KEY" ]; then
        D_POLICY=$HERE/policies/bench.yaml
        D_LABEL="fairgate bench policy (no aggregation yet) + durable outbox ($D_OUTBOX_KEY)"
    else
        D_LABEL=""
    fi
}

# write_fairgate_config SYSTEM LOCAL_PORT QOS POLICY: $WORK/fairgate-SYSTEM.yaml
# (the same file for the daemon and the plugin; the plugin ignores local/upstream)
write_fairgate_config() {
    local sys=$1 lport=$2 qos=$3 pol=$4
    rm -rf "$WORK/state-$sys"
    {
        echo "site: bench"
        echo "state_dir: $WORK/state-$sys"
        echo "local: { host: 127.0.0.1, port: $lport, client_id: fg-bench-$sys-$RANDOM }"
        echo "upstream:"
        echo "  host: 127.0.0.1"
        echo "  port: $up_PORT"
        echo "  tls: { enabled: false }"
        echo "  qos: $qos"
        echo "  max_inflight: 100"
        echo "sensors: { dirs: [ \"$HERE/types\" ] }"
        # Signatures are checked once at load and cost nothing per message;
        # the benchmark runs the policy unsigned (lab mode) to stay simple.
        echo "policy: { file: $pol, required_roles: \"\" }"
        echo "log: { level: info }"
        echo "stats: { interval: 10s }"
        echo "shutdown: { drain_timeout: 500ms }"
    } >"$WORK/fairgate-$sys.yaml"
}

# MID_PID: the process that does the system's work (the bridge broker for a)
# SYS_PIDS: every process of the system, brokers included
start_system() { # SYSTEM QOS
    local sys=$1 qos=$2
    case $sys in
    a)
        start_broker up
        start_broker local "connection bench-bridge" "address 127.0.0.1:$up_PORT" \
            "topic raw/# out $qos" "cleansession true" "try_private false" \
            "bridge_protocol_version mqttv311" "notifications false"
        MID_PID=$local_PID
        wait_log "$WORK/up.log" "New client connected.*bench-bridge|bench-bridge" 10 || true
        sleep 0.3
        ;;
    x) # direct: loadgen -> one broker -> sink, the latency baseline
        start_broker up
        local_PORT=$up_PORT
        MID_PID=$up_PID
        ;;
    b)
        start_broker up
        start_broker local
        local ud=$WORK/nodered nrport
        rm -rf "$ud"; mkdir -p "$ud"
        nrport=$(free_port)
        sed -e "s/__LOCAL_PORT__/$local_PORT/; s/__UP_PORT__/$up_PORT/; s/\"__QOS__\"/\"$qos\"/g" \
            "$HERE/nodered/flows.json" >"$ud/flows.json"
        NR_PORT=$nrport NR_USERDIR=$ud node "$HERE/node_modules/node-red/red.js" \
            --settings "$HERE/nodered/settings.js" --userDir "$ud" >"$WORK/nodered.log" 2>&1 &
        MID_PID=$!
        PIDS+=("$MID_PID")
        wait_log "$WORK/nodered.log" "Started flows" 60 || { tail -20 "$WORK/nodered.log" >&2; exit 1; }
        # both broker connections up
        local deadline=$((SECONDS + 20))
        while (($(grep -c "Connected to broker" "$WORK/nodered.log" || true) < 2)) && ((SECONDS < deadline)); do
            sleep 0.1
        done
        sleep 0.5
        ;;
    e)
        start_broker up
        : >"$WORK/local.log"
        write_fairgate_config e 1 "$qos" "$HERE/policies/bench.yaml"
        start_broker local "plugin $BUILD/fairgate_mosquitto.so" \
            "plugin_opt_config $WORK/fairgate-e.yaml" "connection bench-bridge" \
            "address 127.0.0.1:$up_PORT" "topic site/# out $qos" "cleansession true" \
            "try_private false" "bridge_protocol_version mqttv50" "notifications false"
        MID_PID=$local_PID
        wait_log "$WORK/local.log" "inside mosquitto" 10 || { tail -20 "$WORK/local.log" >&2; exit 1; }
        wait_log "$WORK/up.log" "New client connected.*bench-bridge|bench-bridge" 10 || true
        sleep 0.3
        ;;
    c | d | f)
        start_broker up
        start_broker local
        local pol=$HERE/policies/bench.yaml extra=""
        [ "$sys" = f ] && pol=$HERE/policies/bench-batch.yaml
        if [ "$sys" = d ]; then
            pol=$D_POLICY
            [ -n "$D_OUTBOX_KEY" ] && extra="$D_OUTBOX_KEY: $WORK/state-$sys/outbox"
        fi
        write_fairgate_config "$sys" "$local_PORT" "$qos" "$pol"
        if [ -n "$extra" ]; then
            # dotted key -> nested YAML (outbox.path: X -> outbox: { path: X })
            local k=${extra%%:*} v=${extra#*: }
            echo "${k%%.*}: { ${k#*.}: $v }" >>"$WORK/fairgate-$sys.yaml"
        fi
        : >"$WORK/fairgate-$sys.log"
        "$BUILD/fairgate" run -c "$WORK/fairgate-$sys.yaml" >>"$WORK/fairgate-$sys.log" 2>&1 &
        MID_PID=$!
        PIDS+=("$MID_PID")
        wait_log "$WORK/fairgate-$sys.log" "upstream: connected to|upstream.*connected" 15 &&
            wait_log "$WORK/fairgate-$sys.log" "subscribed to" 15 ||
            { tail -20 "$WORK/fairgate-$sys.log" >&2; exit 1; }
        if grep -q "policy refused" "$WORK/fairgate-$sys.log"; then
            # e.g. a fairgate that requires signed policies (trust.employer ...):
            # measuring it would only measure 100% loss.
            grep "policy refused" "$WORK/fairgate-$sys.log" >&2
            echo "run.sh: fairgate refused the benchmark policy; sign it or configure trust first" >&2
            exit 1
        fi
        ;;
    esac
    SYS_PIDS=("$MID_PID")
    [ "$sys" != x ] && [ "$local_PID" != "$MID_PID" ] && SYS_PIDS+=("$local_PID")
    [ "$up_PID" != "$MID_PID" ] && SYS_PIDS+=("$up_PID")
    return 0
}

stop_system() {
    local p
    for p in "${SYS_PIDS[@]}"; do stop_pid "$p"; done
    SYS_PIDS=()
}

cpu_ticks() { # PIDS... -> sum of utime+stime (clock ticks)
    local s=0 p st
    for p in "$@"; do
        st=$(cat "/proc/$p/stat" 2>/dev/null) || continue
        st=${st##*) }
        # fields after "comm)": state=1 ... utime=12 stime=13
        set -- $st
        s=$((s + ${12} + ${13}))
    done
    echo "$s"
}

ctx_switches() { # PID -> voluntary + involuntary context switches of all its threads
    cat /proc/"$1"/task/*/status 2>/dev/null |
        awk '$1 ~ /^(non)?voluntary_ctxt_switches:$/ { s += $2 } END { print s + 0 }'
}

status_kib() { # PID KEY
    awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0
}

SEQ=0
# step SYSTEM QOS RATE SECONDS KIND ROUND: runs loadgen and sink once, appends
# one JSON line to $OUT/steps.jsonl, returns 0 if the step was sustained.
step() {
    local sys=$1 qos=$2 rate=$3 secs=$4 kind=$5 round=$6
    local n=$((rate * secs)) base=$((SEQ * 100000000))
    SEQ=$((SEQ + 1))
    rm -f "$WORK/ready"
    "$BB/sink" --port "$up_PORT" --qos "$qos" --topic '#' --seq-base $base --expect $n \
        --timeout $((secs + 8)) --idle 1500 --ready "$WORK/ready" >"$WORK/sink.json" 2>>"$WORK/sink.log" &
    local spid=$!
    PIDS+=("$spid")
    local i
    for i in $(seq 1 200); do [ -f "$WORK/ready" ] && break; sleep 0.025; done
    local c0 t0 c1 t1 m0 m1 w0 w1
    c0=$(cpu_ticks "${SYS_PIDS[@]}")
    m0=$(cpu_ticks "$MID_PID")
    w0=$(ctx_switches "$MID_PID")
    t0=$(date +%s%N)
    "$BB/loadgen" --port "$local_PORT" --qos "$qos" --rate "$rate" --seconds "$secs" \
        --seq-base $base --window 100 >"$WORK/loadgen.json" 2>>"$WORK/loadgen.log" || true
    wait "$spid" 2>/dev/null || true
    forget_pid "$spid"
    c1=$(cpu_ticks "${SYS_PIDS[@]}")
    m1=$(cpu_ticks "$MID_PID")
    w1=$(ctx_switches "$MID_PID")
    t1=$(date +%s%N)
    local mid_rss mid_hwm
    mid_rss=$(status_kib "$MID_PID" VmRSS)
    mid_hwm=$(status_kib "$MID_PID" VmHWM)
    python3 - "$WORK/loadgen.json" "$WORK/sink.json" "$sys" "$qos" "$rate" "$secs" "$kind" \
        "$round" $((c1 - c0)) "$(getconf CLK_TCK)" $(((t1 - t0) / 1000000)) "$mid_rss" "$mid_hwm" \
        "$GRACE_MS" "$STEPS_FILE" $((m1 - m0)) $((w1 - w0)) <<'PY'
import json, sys
lg_f, sk_f, sysname, qos, rate, secs, kind, rnd, ticks, hz, wall_ms, rss, hwm, grace, out, mticks, csw = sys.argv[1:]
def load(f):
    try:
        return json.loads(open(f).read().strip().splitlines()[-1])
    except Exception:
        return {}
lg, sk = load(lg_f), load(sk_f)
rate = int(rate)
n = rate * int(secs)
ok = (lg.get("sent") == n and lg.get("achieved", 0) >= 0.95 * rate and sk.get("loss", n) == 0
      and 0 <= sk.get("max_us", -1) <= int(grace) * 1000)
cpu_s = int(ticks) / int(hz)
r = dict(system=sysname, qos=int(qos), rate=rate, seconds=int(secs), kind=kind, round=int(rnd),
         ok=ok, sent=lg.get("sent"), achieved=lg.get("achieved"), received=sk.get("received"),
         distinct=sk.get("distinct"), loss=sk.get("loss", n), dups=sk.get("dups"),
         stale=sk.get("stale"), p50_us=sk.get("p50_us"), p99_us=sk.get("p99_us"),
         p999_us=sk.get("p999_us"), max_us=sk.get("max_us"), cpu_s=cpu_s,
         cpu_us_per_msg=(cpu_s * 1e6 / n if n else None),
         mid_cpu_us_per_msg=(int(mticks) / int(hz) * 1e6 / n if n else None), wall_ms=int(wall_ms),
         mid_ctxsw_per_msg=(int(csw) / n if n else None),
         rss_kib=int(rss or 0), hwm_kib=int(hwm or 0))
open(out, "a").write(json.dumps(r) + "\n")
print("%-2s qos%s %-4s r%s %6d msg/s: %s  loss=%s dups=%s p50=%.0fus p99=%.0fus max=%.0fus cpu=%.1fus/msg csw=%.2f/msg rss=%dKiB"
      % (sysname, qos, kind, rnd, rate, "ok  " if ok else "FAIL", r["loss"], r["dups"],
         r["p50_us"] or -1, r["p99_us"] or -1, r["max_us"] or -1, r["cpu_us_per_msg"] or -1,
         r["mid_ctxsw_per_msg"] or -1, r["rss_kib"]), file=sys.stderr)
sys.exit(0 if ok else 1)
PY
}

# ramp SYSTEM QOS ROUND: steps up the rates until one fails; MAX_OK is the last sustained.
ramp() {
    local sys=$1 qos=$2 round=$3 r
    MAX_OK=0
    for r in "${RATES[@]}"; do
        if step "$sys" "$qos" "$r" "$STEP_S" ramp "$round"; then
            MAX_OK=$r
        else
            break
        fi
    done
}

record_idle() { # SYSTEM QOS ROUND: RSS of the middle process, idle after start
    printf '{"system":"%s","qos":%s,"round":%s,"kind":"idle","rss_kib":%s,"hwm_kib":%s}\n' \
        "$1" "$2" "$3" "$(status_kib "$MID_PID" VmRSS)" "$(status_kib "$MID_PID" VmHWM)" >>"$STEPS_FILE"
}

e2e_bench() {
    : >"$STEPS_FILE"
    detect_d
    local systems=$SYSTEMS
    if [[ $systems == *d* ]] && [ -z "$D_LABEL" ]; then
        log "(d) skipped: no factory policy with aggregation and no durable outbox in this fairgate yet; it would equal (c)"
        systems=${systems//d/}
    elif [[ $systems == *d* ]]; then
        log "(d) = $D_LABEL"
    fi
    printf '{"kind":"meta","d_label":"%s","rates":"%s","step_s":%s,"rounds":%s,"grace_ms":%s}\n' \
        "$D_LABEL" "${RATES[*]}" "$STEP_S" "$ROUNDS" "$GRACE_MS" >>"$STEPS_FILE"
    local qos round sys lat
    for qos in 0 1; do
        for round in $(seq 1 "$ROUNDS"); do
            lat=$((RATES[0] / 2))
            for sys in $(echo "$systems" | grep -o .); do
                log "system $sys, QoS $qos, round $round"
                start_system "$sys" "$qos"
                record_idle "$sys" "$qos" "$round"
                if [ "$sys" = a ]; then
                    ramp a "$qos" "$round"
                    ((MAX_OK > 0)) && lat=$((MAX_OK / 2))
                    stop_system
                    # latency at half the bridge's maximum, on a fresh bridge
                    start_system a "$qos"
                    step a "$qos" "$lat" 1 warm "$round" || true
                    step a "$qos" "$lat" "$LAT_S" lat "$round" || true
                    stop_system
                    start_system x "$qos"
                    step x "$qos" "$lat" "$LAT_S" lat "$round" || true
                    stop_system
                else
                    # latency first, on a fresh system (after 1 s of warm-up:
                    # Node-RED's JIT), then the ramp
                    step "$sys" "$qos" "$lat" 1 warm "$round" || true
                    step "$sys" "$qos" "$lat" "$LAT_S" lat "$round" || true
                    ramp "$sys" "$qos" "$round"
                    stop_system
                fi
            done
        done
    done
}

# ---- profiles ------------------------------------------------------------------------------
# perf with the cpu-clock software event when it works here (hardware counters
# are often unavailable in VMs); else callgrind on the pipeline benchmark.
profile() {
    if perf record -e cpu-clock -o "$WORK/probe.data" true >/dev/null 2>&1; then
        log "profile: perf (cpu-clock) on the pipeline benchmark"
        perf record -q -e cpu-clock -g -o "$WORK/pipe.data" -- "$BB/pipeline" --seconds 2 \
            --policy "$HERE/policies/bench.yaml" --types "$HERE/types" >/dev/null 2>&1
        perf report -i "$WORK/pipe.data" --stdio --no-children --percent-limit 0.7 \
            --sort symbol -g none 2>/dev/null | grep -v '^$' >"$OUT/profile-pipeline.txt"
        local q
        for q in 0 1; do
            log "profile: perf on the fairgate daemon, QoS $q at 4000 msg/s"
            start_system c "$q"
            perf record -q -e cpu-clock -g -o "$WORK/gw$q.data" -p "$MID_PID" -- sleep 4 \
                >/dev/null 2>&1 &
            local ppid=$!
            PIDS+=("$ppid")
            step c "$q" 4000 3 profile 0 || true
            wait "$ppid" 2>/dev/null || true
            forget_pid "$ppid"
            stop_system
            perf report -i "$WORK/gw$q.data" --stdio --no-children --percent-limit 0.7 \
                --sort dso,symbol -g none 2>/dev/null | grep -v '^$' >"$OUT/profile-gateway-qos$q.txt"
            perf report -i "$WORK/gw$q.data" --stdio --no-children --sort comm 2>/dev/null |
                grep -v '^$' >"$OUT/profile-gateway-threads-qos$q.txt" || true
        done
    else
        log "profile: perf unavailable; callgrind on the pipeline benchmark"
        valgrind --tool=callgrind --callgrind-out-file="$WORK/cg.out" "$BB/pipeline" --seconds 1 \
            --policy "$HERE/policies/bench.yaml" --types "$HERE/types" >/dev/null 2>&1
        callgrind_annotate "$WORK/cg.out" | head -60 >"$OUT/profile-pipeline.txt"
    fi
    log "profiles in $OUT/profile-*.txt"
}

# ---- main ------------------------------------------------------------------------------
deps
build
if ((PROFILE)); then
    STEPS_FILE=$OUT/steps-profile.jsonl
    : >"$STEPS_FILE"
    profile
    exit 0
fi
((PIPELINE)) && pipeline_bench
e2e_bench
python3 "$HERE/report.py" "$OUT" | tee "$OUT/report.txt"
log "done in $((SECONDS - T_START)) s"
