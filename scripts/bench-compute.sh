#!/usr/bin/env bash
# Runs the shared compute benchmark (../shared/bench) against build/xbpf, native code and, as
# root with a JIT, the Linux kernel. The benchmark is copied into build/bench-compute so that
# ../shared stays untouched. Extra arguments go to run_bench.py, e.g.
#   scripts/bench-compute.sh --only native,xbpf-interp --rounds 3
set -euo pipefail
cd "$(dirname "$0")/.."
shared=${XBPF_SHARED_DIR:-$(cd .. && pwd)/shared}
[ -d "$shared/bench" ] || { echo "error: $shared/bench not found" >&2; exit 2; }
work=build/bench-compute
mkdir -p "$work"
cp -r "$shared"/bench/. "$work"/
chmod -R u+w "$work"
make -s -C "$work" >/dev/null
XBPF="$PWD/build/xbpf" python3 "$work/run_bench.py" "$@"
