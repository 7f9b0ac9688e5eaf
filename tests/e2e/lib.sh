# Shared helpers for end-to-end tests: real mosquitto brokers on random loopback
# ports, temporary directories, processes stopped by PID. Source it, don't run it.
set -euo pipefail

# Run the test as the leader of its own process group, so the clean-up can
# find every process it started, even one whose parent died (an orphan is
# reparented to init but keeps its process group). Same PID, same session.
# Not on a terminal (ctest): there Ctrl-C must still reach a test run by hand.
if [ "${FAIRGATE_E2E_GROUP:-}" != "$$" ] && [ ! -t 2 ] && [ "$(ps -o pgid= $$ | tr -d ' ')" != "$$" ]; then
    export FAIRGATE_E2E_GROUP=$$ # the same PID after exec: never twice
    exec python3 -c 'import os, sys; os.setpgid(0, 0); os.execvp(sys.argv[1], sys.argv[1:])' \
        bash "$0" "$@"
fi

SRC=${FAIRGATE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BUILD=${FAIRGATE_BUILD_DIR:-$SRC/build}
FAIRGATE=$BUILD/fairgate
TOOLS=$BUILD/tests
WORK=$(mktemp -d "${TMPDIR:-/tmp}/fairgate-e2e.XXXXXX")
PIDS=()

# Every process a test starts must be stopped, also when it fails. Tests add
# the PIDs they start to PIDS; the clean-up also finds what is not listed
# there: every descendant of this shell and every member of its process group
# (processes orphaned by a subshell that exited). All get SIGTERM, then SIGKILL
# after a grace period, each by its PID.
descendants() { # PID: every descendant of PID, children first
    local kids k
    kids=$(ps -o pid= --ppid "$1" 2>/dev/null) || true
    for k in $kids; do echo "$k"; descendants "$k"; done
}
started_here() {
    local p
    for p in "${PIDS[@]}"; do echo "$p"; done
    descendants $$
    if [ "$(ps -o pgid= $$ 2>/dev/null | tr -d ' ')" = "$$" ]; then
        ps -e -o pid=,pgid= 2>/dev/null | awk -v g=$$ '$2 == g {print $1}' || true
    fi
}
# alive PID...: those of the PIDs still running (zombies have nothing to stop).
alive() {
    local p
    for p in "$@"; do
        [ -d "/proc/$p" ] && ! grep -qs '^State:.*Z' "/proc/$p/status" && echo "$p"
    done
    return 0
}
# stop_all SECONDS: SIGTERM to everything started here, SIGKILL to what is
# left after SECONDS. One snapshot: the helpers that computed it are gone
# before the first signal.
stop_all() {
    local all=() left p deadline=$((SECONDS + $1))
    for p in $(started_here | sort -un); do [ "$p" = $$ ] || all+=("$p"); done
    left=$(alive "${all[@]}")
    for p in $left; do kill -TERM "$p" 2>/dev/null || true; done
    while [ -n "$left" ] && ((SECONDS < deadline)); do
        sleep 0.1
        left=$(alive $left)
    done
    for p in $left; do
        echo "cleanup: PID $p ($(cat "/proc/$p/comm" 2>/dev/null)) ignored SIGTERM; SIGKILL" >&2
        kill -KILL "$p" 2>/dev/null || true
    done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
}

cleanup() {
    local rc=$?
    trap '' TERM INT
    stop_all 15
    if [ "$rc" != 0 ] && [ "$rc" != 77 ] || [ -n "${KEEP_WORK:-}" ]; then
        echo "--- test failed (rc=$rc); logs in $WORK:"
        for f in "$WORK"/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 40 "$f"; }; done
    else
        rm -rf "$WORK"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

# forget_pid PID: the process is gone; take it off the clean-up list so a
# reused PID is never signalled.
forget_pid() {
    local keep=() p
    for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
    PIDS=("${keep[@]}")
}

# stop_pid SIGNAL PID: signal one process we started (and what it started:
# a wrapper must not leave an orphan) and reap it.
stop_pid() {
    local p
    for p in $(descendants "$2") "$2"; do kill "-$1" "$p" 2>/dev/null || true; done
    wait "$2" 2>/dev/null || true
    forget_pid "$2"
}

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "PASS: $*"; }

# A port nobody listens on, probed with bash's /dev/tcp; below the kernel's
# ephemeral range, so no client connection can hold it when a broker restarts.
free_port() {
    local p lo
    lo=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
    for _ in $(seq 1 50); do
        p=$((10000 + RANDOM % (lo - 10000)))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
    done
    return 1
}

wait_port() { # PORT [SECONDS]
    local deadline=$((SECONDS + ${2:-10}))
    while ((SECONDS < deadline)); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}

# start_broker NAME [EXTRA_CONFIG_LINES...]: writes $WORK/NAME.conf with a
# listener on a random port (plain unless the extra lines configure TLS) and
# starts mosquitto. Sets NAME_PORT and NAME_PID.
start_broker() {
    local name=$1; shift
    local port conf=$WORK/$name.conf
    for _ in 1 2 3 4 5; do
        port=$(free_port)
        {
            echo "listener $port 127.0.0.1"
            echo "allow_anonymous true"
            echo "persistence false"
            echo "max_queued_messages 0"
            echo "max_inflight_messages 20"
            echo "user $(id -un)"  # as root, mosquitto would drop to a user that cannot read $WORK
            for l in "$@"; do echo "$l"; done
        } >"$conf"
        mosquitto -c "$conf" >"$WORK/$name.log" 2>&1 &
        local pid=$!
        if wait_port "$port" 5; then
            PIDS+=("$pid")
            printf -v "${name}_PORT" '%s' "$port"
            printf -v "${name}_PID" '%s' "$pid"
            return 0
        fi
        kill "$pid" 2>/dev/null || true
    done
    fail "could not start mosquitto $name"
}

# make_ca DIR HOSTNAME: throw-away CA and a server certificate for HOSTNAME
# (SAN DNS:HOSTNAME and IP:127.0.0.1 when HOSTNAME is localhost) with openssl.
make_test_ca() {
    local dir=$1 host=$2 san
    mkdir -p "$dir"
    san="DNS:$host"
    [ "$host" = localhost ] && san="DNS:localhost,IP:127.0.0.1"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -subj "/CN=fairgate test CA" -keyout "$dir/ca.key" -out "$dir/ca.crt" 2>/dev/null
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$host" \
        -keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null
    printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\n' "$san" >"$dir/ext.cnf"
    openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" \
        -CAcreateserial -days 2 -extfile "$dir/ext.cnf" -out "$dir/server.crt" 2>/dev/null
    chmod 600 "$dir"/*.key
}

# wait_for CMD... : retries a command for up to 15 s.
wait_for() {
    local deadline=$((SECONDS + 15))
    while ((SECONDS < deadline)); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    return 1
}
