# Shared helpers of the fault tests (tests/e2e/fault_*.sh). Source after lib.sh.
# A test sensor type `seqtest` (topic raw/seqtest/{device}, field seq) and a
# policy keeping seq, so every input carries a sequence number that the checks
# follow through the gateway to the upstream broker.

SEQ_TOPIC=raw/seqtest/dev1

# fault_types_and_policy RETENTION: writes $WORK/types/seqtest.yaml and
# $WORK/policy.yaml with one route `seq` whose retention is RETENTION.
fault_types_and_policy() {
    local retention=$1
    mkdir -p "$WORK/types"
    cat >"$WORK/types/seqtest.yaml" <<'EOF'
type: seqtest
description: Fault-test sensor; every message carries a sequence number and nothing personal
topic: raw/seqtest/{device}
format: json
fields:
  seq: { type: integer, category: machine, min: 0, max: 100000000, required: true }
  pad: { type: string,  category: machine, max_length: 4000 }
EOF
    cat >"$WORK/policy.yaml" <<EOF
policy: seqtest
version: 1
valid_until: 2099-12-31
routes:
  - name: seq
    purpose: fault testing
    from: seqtest
    to: site/{site}/seq
    fields:
      seq: keep
    retention: $retention
EOF
}

# fault_config FILE [EXTRA_YAML_LINES...]: gateway configuration between
# $local_PORT and the TLS upstream on $upstream_PORT (which may have nobody
# listening yet), with the seqtest type.
fault_config() {
    local file=$1; shift
    write_config "$file" "$WORK/policy.yaml" "sensors: { builtin: false, dirs: [$WORK/types] }" \
        "$@"
}

# broker_conf NAME PORT [EXTRA_CONFIG_LINES...]: like lib.sh's start_broker
# but on a given port, and it only writes $WORK/NAME.conf.
broker_conf() {
    local name=$1 port=$2; shift 2
    {
        echo "listener $port 127.0.0.1"
        echo "allow_anonymous true"
        echo "max_queued_messages 0"
        echo "max_inflight_messages 20"
        echo "user $(id -un)"
        for l in "$@"; do echo "$l"; done
    } >"$WORK/$name.conf"
    printf -v "${name}_PORT" '%s' "$port"
}

# run_broker NAME: starts mosquitto on $WORK/NAME.conf (again), appending to
# $WORK/NAME.log; sets NAME_PID.
run_broker() {
    local name=$1 port_var="${1}_PORT" pid
    # A restart on the same port can find it briefly taken (another test's
    # client): retry for a while instead of failing at once.
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        mosquitto -c "$WORK/$name.conf" >>"$WORK/$name.log" 2>&1 &
        pid=$!
        if wait_port "${!port_var}" 3; then break; fi
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        pid=""
        sleep 0.5
    done
    [ -n "$pid" ] || fail "mosquitto $name did not listen on ${!port_var}"
    PIDS+=("$pid")
    printf -v "${name}_PID" '%s' "$pid"
}

# run_gateway CONFIG: fairgate in the background without waiting (GW_PID).
run_gateway() {
    "$FAIRGATE" run -c "$1" >>"$WORK/gateway.log" 2>&1 &
    GW_PID=$!
    PIDS+=("$GW_PID")
}

# log_count PATTERN [FILE]: lines of the gateway log matching PATTERN.
log_count() {
    local n
    n=$(grep -c -- "$1" "${2:-$WORK/gateway.log}" 2>/dev/null) || true
    echo "${n:-0}"
}

# wait_log PATTERN N SECONDS: until the gateway log has N lines matching.
wait_log() {
    local deadline=$((SECONDS + $3))
    while ((SECONDS < deadline)); do
        (($(log_count "$1") >= $2)) && return 0
        kill -0 "$GW_PID" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

# seq_report FILE FIRST COUNT: what the upstream subscriber saw of seqs
# FIRST..FIRST+COUNT-1: one line of figures, also left as shell variables
# (ARRIVED MISSING DUPS DUP_SAME DUP_DIFF UNEXPECTED) in $WORK/seq_figures.sh;
# exit 1 if any is missing or something else arrived.
seq_report() {
    python3 - "$@" "$WORK/seq_figures.sh" <<'PY'
import json, sys
path, first, count, figs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
seen = {}  # seq -> list of fairgate-ids
other = 0
for line in open(path):
    line = line.strip()
    if not line:
        continue
    try:
        m = json.loads(line)
        seq = json.loads(m["payload"])["seq"]
    except Exception:
        other += 1
        continue
    if not first <= seq < first + count:
        other += 1
        continue
    seen.setdefault(seq, []).append(m["props"].get("fairgate-id", ""))
missing = [s for s in range(first, first + count) if s not in seen]
same = sum(len(v) - len(set(v)) for v in seen.values())
diff = sum(len(set(v)) - 1 for v in seen.values())
total = sum(len(v) for v in seen.values())
print("seqs %d..%d: arrived %d distinct of %d (%d messages), missing %d, duplicates %d "
      "(same fairgate-id %d, different fairgate-id %d), unexpected %d"
      % (first, first + count - 1, len(seen), count, total, len(missing), same + diff, same,
         diff, other))
if missing:
    print("missing seqs (first 20): %s" % missing[:20])
with open(figs, "w") as f:
    f.write("ARRIVED=%d MISSING=%d DUPS=%d DUP_SAME=%d DUP_DIFF=%d UNEXPECTED=%d\n"
            % (len(seen), len(missing), same + diff, same, diff, other))
sys.exit(1 if missing or other else 0)
PY
}

# wait_seqs FILE FIRST COUNT SECONDS: until every seq has arrived (bounded).
wait_seqs() {
    local deadline=$((SECONDS + $4))
    while ((SECONDS < deadline)); do
        seq_report "$1" "$2" "$3" >/dev/null 2>&1 && return 0
        if [ -n "${SUB_PID:-}" ] && ! kill -0 "$SUB_PID" 2>/dev/null; then return 1; fi
        sleep 0.25
    done
    return 1
}

# start_session_sub OUTFILE: upstream subscriber with a persistent session and
# automatic reconnect; stopped by the test with stop_pid.
start_session_sub() {
    subscribe_upstream "$1" --session --id "fg-sub-fault-$$" --idle 3600000 --total 3600000
}

# sanitizers_clean: the gateway log has no ASan/UBSan/LSan report (the
# sanitizer build runs these tests too).
sanitizers_clean() {
    if grep -E "ERROR: (Address|Leak|Thread)Sanitizer|runtime error:" "$WORK/gateway.log" 2>/dev/null | head -5 | grep .; then
        fail "sanitizer report in the gateway log"
    fi
}
