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
    # libFuzzer targets (clang only): a short real fuzzing run of each parser on top
    # of its seed corpus, which the two runs above already replayed. The library is
    # instrumented too (FAIRGATE_FUZZ=ON), so cov counts edges in the parsers, not
    # only in the harness. scripts/fuzz.sh does long runs the same way.
    echo "== fuzz (clang, libFuzzer + ASan/UBSan, instrumented library, ${FUZZ_SECONDS:=10} s per target)"
    scripts/fuzz.sh -t "$FUZZ_SECONDS"
fi
echo "== all tests passed"
