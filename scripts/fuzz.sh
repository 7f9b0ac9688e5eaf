#!/usr/bin/env bash
# Long libFuzzer runs of fairgate's parsers with a coverage-instrumented library.
#
#   scripts/fuzz.sh [-t SECONDS] [-j JOBS] [-m] [TARGET...]
#
#   -t SECONDS  per target (default 600); TARGET is e.g. decode_json (default: all)
#   -j JOBS     parallel libFuzzer workers per target (default 1)
#   -m          merge inputs that reach new edges back into tests/fuzz/corpus/TARGET
#               (libFuzzer -merge=1 -use_counters=0: edges only, not hit counts, so
#               the committed corpora stay small; inputs up to 2 KiB)
#
# Builds build-fuzz (clang, ASan + UBSan, FAIRGATE_FUZZ=ON: the library carries
# -fsanitize=fuzzer-no-link, so libFuzzer sees the parsers, not only the harness).
# The working corpus grows in build-fuzz/corpus/TARGET across runs. Prints, per
# target, executions, coverage (cov = instrumented edges reached) and crashes;
# exits 1 on the first crash and leaves the reproducer in build-fuzz/.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER=600
JOBS=1
MERGE=0
while getopts "t:j:m" o; do
    case $o in
    t) SECONDS_PER=$OPTARG ;;
    j) JOBS=$OPTARG ;;
    m) MERGE=1 ;;
    *) sed -n '2,16p' "$0" >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
command -v clang >/dev/null || { echo "fuzz.sh needs clang" >&2; exit 2; }
targets=${*:-$(cd tests/fuzz && ls fuzz_*.c | sed 's/^fuzz_//; s/\.c$//')}
B=build-fuzz
CC=clang cmake -S . -B $B -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFAIRGATE_SANITIZE=ON \
    -DFAIRGATE_FUZZ=ON >/dev/null
# shellcheck disable=SC2086
cmake --build $B -j"$(nproc)" --target $(for t in $targets; do echo "${t}_fuzzer"; done) >/dev/null
export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
for t in $targets; do
    work=$B/corpus/$t
    mkdir -p "$work"
    cp -n tests/fuzz/corpus/"$t"/* "$work"/ 2>/dev/null || true
    log=$B/$t.log
    par=()
    [ "$JOBS" -gt 1 ] && par=(-jobs="$JOBS" -workers="$JOBS")
    set +e
    (cd $B && "./tests/${t}_fuzzer" -max_total_time="$SECONDS_PER" -print_final_stats=1 \
        -max_len=4096 "${par[@]}" -artifact_prefix="$t-" "corpus/$t") >"$log" 2>&1
    rc=$?
    set -e
    [ "$JOBS" -gt 1 ] && cat $B/fuzz-*.log >>"$log" 2>/dev/null && rm -f $B/fuzz-*.log
    execs=$(grep -h '^stat::number_of_executed_units' "$log" | awk '{s += $2} END {print s + 0}')
    cov=$(grep -ohE 'cov: [0-9]+' "$log" | awk '{print $2}' | sort -n | tail -1)
    if [ $rc -ne 0 ] || grep -q 'ERROR: \(AddressSanitizer\|libFuzzer\)\|runtime error' "$log"; then
        tail -40 "$log"
        echo "fuzz: $t: CRASH after $execs executions (reproducer: $B/$t-*)"
        exit 1
    fi
    echo "fuzz: $t: $execs executions in ${SECONDS_PER}s x $JOBS, cov $cov, 0 crashes"
    if [ $MERGE = 1 ]; then
        n0=$(ls tests/fuzz/corpus/"$t" | wc -l)
        (cd $B && "./tests/${t}_fuzzer" -merge=1 -use_counters=0 -max_len=2048 \
            "../tests/fuzz/corpus/$t" "corpus/$t") >"$B/$t.merge.log" 2>&1
        echo "fuzz: $t: corpus $n0 -> $(ls tests/fuzz/corpus/"$t" | wc -l) files," \
            "$(du -sk tests/fuzz/corpus/"$t" | cut -f1) KiB"
    fi
done
