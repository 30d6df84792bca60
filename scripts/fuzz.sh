#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan, the `fuzz` preset: build-fuzz/) and runs
# each for SECONDS. Exits non-zero on any crash, leak, timeout (an input taking more than 10 s),
# out-of-memory or sanitizer report; prints executions per target.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]      (default 60 s, every fuzz/*_fuzz.cpp)
#
# Seed corpora are built at run time, never committed: the conformance programs and the object
# corpus from ../shared (when present), and the project's own tests/bpf and examples objects.
# The corpus each target grows is kept in build-fuzz/corpus/<target>/ for the next run;
# findings (the input that failed and the log) go to build-fuzz/findings/<target>/. Reproduce one
# with build-fuzz/fuzz/<target> <file>. A summary table is written to build-fuzz/fuzz-summary.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
shared=${XBPF_SHARED_DIR:-$(cd .. && pwd)/shared}

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    for f in fuzz/*_fuzz.cpp; do targets+=("$(basename "$f" .cpp)"); done
fi

cmake --preset fuzz >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target "${targets[@]}"
# The project's BPF objects seed the loader, decoder and verifier (they need clang -target bpf).
cmake --build build-fuzz -j"$(nproc)" --target xbpf_bpf_test_objects xbpf_examples >/dev/null ||
    echo "note: the BPF test objects and examples did not build; fewer seeds"

seeds=build-fuzz/seeds
rm -rf "$seeds"
for t in "${targets[@]}"; do mkdir -p "$seeds/$t"; done
objects=()
while IFS= read -r -d '' o; do objects+=("$o"); done < <(
    find build-fuzz/tests/bpf build-fuzz/examples -maxdepth 1 -name '*.o' -print0 2>/dev/null)
if [ -d "$shared/corpus" ]; then
    while IFS= read -r -d '' o; do objects+=("$o"); done < <(
        find "$shared/corpus" -type f \( -name '*.o' -o -path '*/invalid/*' \) -print0)
else
    echo "note: $shared/corpus not found; the loader and verifier start from the project's objects"
fi
# Loader: whole objects (an object's name may repeat across folders: number them), when the
# loader is among the targets.
n=0
if [ -d "$seeds/loader_fuzz" ]; then
    for o in "${objects[@]}"; do
        n=$((n + 1))
        cp "$o" "$seeds/loader_fuzz/$n-$(basename "$o")"
    done
fi
python3 scripts/fuzz_seeds.py "$shared" "$seeds" "${objects[@]}"

status=0
summary=build-fuzz/fuzz-summary.txt
printf '%-22s %8s %14s %10s %8s  %s\n' target seconds executions exec/s corpus result >"$summary"
for name in "${targets[@]}"; do
    target=build-fuzz/fuzz/$name
    findings=build-fuzz/findings/$name
    mkdir -p "$findings" "build-fuzz/corpus/$name"
    echo "== $name for ${seconds}s"
    result=ok
    # -timeout: one input running longer is a hang; -error_exitcode: any report fails the run.
    if ! "$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -error_exitcode=1 -timeout_exitcode=1 -artifact_prefix="$findings/" \
        "build-fuzz/corpus/$name" "$seeds/$name" >"$findings/log.txt" 2>&1; then
        echo "!! $name failed: see $findings/log.txt"
        grep -E 'ERROR|SUMMARY|runtime error|disagree|Test unit written' "$findings/log.txt" | head -20 || true
        result=FAILED
        status=1
    fi
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$findings/log.txt" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$findings/log.txt" | tail -1)
    corpus=$(find "build-fuzz/corpus/$name" -type f | wc -l)
    printf '%-22s %8s %14s %10s %8s  %s\n' "$name" "$seconds" "${execs:-?}" "${rate:-?}" "$corpus" \
        "$result" | tee -a "$summary"
done
echo
cat "$summary"
exit $status
