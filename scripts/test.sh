#!/usr/bin/env bash
# Builds fairgate and runs every test: once in a normal build, once under
# AddressSanitizer + UndefinedBehaviorSanitizer. Idempotent; run from anywhere.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
JOBS=$(nproc)

echo "== build (RelWithDebInfo, -Werror)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$JOBS"
echo "== tests"
ctest --test-dir build --output-on-failure -j"$JOBS"

echo "== build (ASan + UBSan)"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DFAIRGATE_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$JOBS"
echo "== tests under ASan + UBSan"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -j"$JOBS"
if command -v clang >/dev/null; then
    # libFuzzer targets (clang only): a short real fuzzing run of each parser on
    # top of its seed corpus, which the two runs above already replayed.
    echo "== fuzz smoke (clang, libFuzzer + ASan/UBSan, ${FUZZ_SECONDS:=10} s per target)"
    CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DFAIRGATE_SANITIZE=ON >/dev/null
    targets=$(cd tests/fuzz && ls fuzz_*.c | sed 's/^fuzz_//; s/\.c$/_fuzzer/')
    # shellcheck disable=SC2086
    cmake --build build-fuzz -j"$JOBS" --target $targets >/dev/null
    for t in $targets; do
        name=${t%_fuzzer}
        work=$(mktemp -d)
        cp -r "tests/fuzz/corpus/$name/." "$work/" 2>/dev/null || true
        if ! build-fuzz/tests/"$t" -max_total_time="$FUZZ_SECONDS" -print_final_stats=0 \
            "$work" >"build-fuzz/$t.log" 2>&1; then
            tail -40 "build-fuzz/$t.log"
            echo "fuzz: $t found a crash (input saved under build-fuzz)"
            mv "$work" "build-fuzz/$t-corpus"
            exit 1
        fi
        echo "fuzz: $t: $(grep -oE '#[0-9]+' "build-fuzz/$t.log" | tail -1 | tr -d '#') inputs, no crash"
        rm -rf "$work"
    done
fi
echo "== all tests passed"
