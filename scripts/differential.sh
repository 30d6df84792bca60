#!/usr/bin/env bash
# Long differential campaign: random valid programs run in the interpreter and the JIT (and, with
# --kernel, in the Linux kernel through BPF_PROG_TEST_RUN; needs root) must agree on r0 and
# memory. Prints the counts; exits non-zero on any mismatch, with the program and its seed.
#
#   scripts/differential.sh [--seconds N] [--kernel] [--seed S] [--build DIR]
#
# A seed reproduces a campaign: XBPF_DIFFERENTIAL_SEED=S (the first seed; each program uses the
# next one).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=600
kernel=0
build=build
while [ $# -gt 0 ]; do
    case "$1" in
        --seconds) seconds=$2; shift 2 ;;
        --kernel) kernel=1; shift ;;
        --seed) export XBPF_DIFFERENTIAL_SEED=$2; shift 2 ;;
        --build) build=$2; shift 2 ;;
        *) echo "usage: $0 [--seconds N] [--kernel] [--seed S] [--build DIR]" >&2; exit 2 ;;
    esac
done
[ -d "$build" ] || { echo "error: no build directory $build (configure with cmake first)" >&2; exit 2; }
cmake --build "$build" --target jit_tests -j2
XBPF_DIFFERENTIAL_SECONDS=$seconds XBPF_DIFFERENTIAL_KERNEL=$kernel \
    "$build/tests/jit_tests" --gtest_filter=JitDifferential.Campaign
