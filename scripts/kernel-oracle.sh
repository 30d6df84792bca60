#!/usr/bin/env bash
# The running Linux kernel as an oracle for xbpf's verifier (needs root: it loads programs with
# bpf(2); nothing is attached). Loads every labelled corpus program as xbpf's loader sees it,
# compares the kernel's verdict with the label and with xbpf's, and probes the helpers and packet
# access each program type has in the kernel against xbpf's contracts.
#   scripts/kernel-oracle.sh [TABLE.tsv]     (default: $BUILD_DIR/kernel-oracle.tsv)
# Uses the build in $BUILD_DIR (default build/), building verifier_oracle if needed.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${BUILD_DIR:-build}"
table="${1:-$build/kernel-oracle.tsv}"
if [ ! -x "$build/tests/verifier_oracle" ]; then
  cmake -B "$build" -DXBPF_BENCHMARKS=OFF >/dev/null
  cmake --build "$build" --target verifier_oracle -j2
fi
echo "== corpus: labels, the kernel and xbpf (table: $table)"
status=0
"$build/tests/verifier_oracle" corpus --table "$table" || status=$?
echo "== helpers and packet access per program type: the kernel against xbpf's contracts"
"$build/tests/verifier_oracle" helpers || status=$?
exit "$status"
