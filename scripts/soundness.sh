#!/usr/bin/env bash
# Long soundness campaign for the verifier: random and mutated programs, every accepted one run
# in the checked interpreter on random inputs; any fault is a verifier bug.
#   scripts/soundness.sh [SECONDS] [SEED]      (defaults: 600 s, seed from the clock)
# Uses the build in $BUILD_DIR (default build/), building verifier_tests if needed.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-600}"
seed="${2:-$(date +%s)}"
build="${BUILD_DIR:-build}"
if [ ! -x "$build/tests/verifier_tests" ]; then
  cmake -B "$build" -DXBPF_BENCHMARKS=OFF >/dev/null
  cmake --build "$build" --target verifier_tests -j2
fi
echo "soundness campaign: ${seconds} s, seed ${seed}"
XBPF_SOUNDNESS_SECONDS="$seconds" XBPF_SOUNDNESS_SEED="$seed" \
  "$build/tests/verifier_tests" --gtest_filter='VerifierSoundness.*'
