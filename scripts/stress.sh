#!/usr/bin/env bash
# The concurrency tests under ThreadSanitizer: builds the `tsan` preset (build-tsan/) and runs
# the stress tests (tests/unit/stress: eBPF programs in every engine sharing maps with host
# threads) and the map tests (tests/unit/maps, with their concurrency tests). Any data race,
# lock-order inversion or failed assertion fails the run.
#
#   scripts/stress.sh [ROUNDS]     (default 1: each test runs ROUNDS times)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-1}
cmake --preset tsan >/dev/null
cmake --build build-tsan -j"$(nproc)" --target stress_tests maps_tests
# halt_on_error: the first report fails the test that caused it (and so this script).
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 ${TSAN_OPTIONS:-}"
ctest --test-dir build-tsan -L '^(stress|maps)$' --output-on-failure -j"$(nproc)" \
    --repeat until-fail:"$rounds" --timeout 900
