#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds with warnings as errors, runs CTest;
# then a second build with clang, ASan and UBSan (the `fuzz` preset, build-fuzz/) runs the unit
# tests again and every libFuzzer target briefly. Tests that need ../shared skip with a message
# when it is absent.
#
#   scripts/test.sh              XBPF_CI_FUZZ_SECONDS (default 20) sets the per-target fuzz time;
#                                XBPF_CI_SANITIZE=0 skips the sanitizer build and the fuzzing.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
ctest --test-dir build --output-on-failure -j"$(nproc)" --timeout 600

[ "${XBPF_CI_SANITIZE:-1}" = 0 ] && exit 0
# One clang build serves both: the library, tools and tests with ASan + UBSan (any report
# aborts: -fno-sanitize-recover), plus libFuzzer's coverage instrumentation for the fuzzers.
echo "== unit tests under ASan + UBSan (build-fuzz/)"
cmake --preset fuzz >/dev/null
cmake --build build-fuzz -j"$(nproc)"
# The kernel oracle needs root and a kernel; it skips anyway.
ASAN_OPTIONS="detect_leaks=1 ${ASAN_OPTIONS:-}" UBSAN_OPTIONS="print_stacktrace=1 ${UBSAN_OPTIONS:-}" \
    ctest --test-dir build-fuzz --output-on-failure -j"$(nproc)" --timeout 900 -LE oracle
echo "== fuzzing every target for ${XBPF_CI_FUZZ_SECONDS:-20} s"
scripts/fuzz.sh "${XBPF_CI_FUZZ_SECONDS:-20}"
