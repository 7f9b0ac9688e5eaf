# Shared helpers for end-to-end tests: real mosquitto brokers on random loopback
# ports, temporary directories, processes stopped by PID. Source it, don't run it.
set -euo pipefail

SRC=${FAIRGATE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BUILD=${FAIRGATE_BUILD_DIR:-$SRC/build}
FAIRGATE=$BUILD/fairgate
TOOLS=$BUILD/tests
WORK=$(mktemp -d "${TMPDIR:-/tmp}/fairgate-e2e.XXXXXX")
PIDS=()

cleanup() {
    local rc=$?
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    if [ "$rc" != 0 ] && [ "$rc" != 77 ] || [ -n "${KEEP_WORK:-}" ]; then
        echo "--- test failed (rc=$rc); logs in $WORK:"
        for f in "$WORK"/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 40 "$f"; }; done
    else
        rm -rf "$WORK"
    fi
    exit "$rc"
}
trap cleanup EXIT

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
