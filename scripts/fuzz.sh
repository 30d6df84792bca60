#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each for SECONDS.
# Exits non-zero on any crash, leak, timeout or sanitizer report.
#
#   scripts/fuzz.sh [SECONDS]        (default 60)
#
# Seed corpora come from ../shared (conformance programs and the object corpus) when present;
# findings are written to build-fuzz/findings/<target>/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shared=${XBPF_SHARED_DIR:-$(cd .. && pwd)/shared}

cmake --preset fuzz >/dev/null
cmake --build build-fuzz -j"$(nproc)"

seeds=build-fuzz/seeds
rm -rf "$seeds"
mkdir -p "$seeds"/decoder_fuzz "$seeds"/assembler_fuzz "$seeds"/loader_fuzz
if [ -d "$shared/conformance/tests" ]; then
    for f in "$shared"/conformance/tests/*.data; do
        name=$(basename "$f" .data)
        awk '/^-- asm/{a=1;next} /^-- /{a=0} a' "$f" >"$seeds/assembler_fuzz/$name.s"
    done
    python3 - "$shared/conformance/vectors.jsonl" "$seeds/decoder_fuzz" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    v = json.loads(line)
    open(f"{sys.argv[2]}/{v['name']}.bin", "wb").write(bytes.fromhex(v["program"]))
PY
fi
if [ -d "$shared/corpus" ]; then
    find "$shared/corpus" -type f \( -name '*.o' -o -path '*/invalid/*' \) -exec cp {} "$seeds/loader_fuzz/" \;
fi

status=0
for target in build-fuzz/fuzz/*_fuzz; do
    name=$(basename "$target")
    mkdir -p "build-fuzz/findings/$name" "build-fuzz/corpus/$name"
    echo "== $name for ${seconds}s"
    if ! "$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="build-fuzz/findings/$name/" "build-fuzz/corpus/$name" "$seeds/$name" \
        2>"build-fuzz/findings/$name/log.txt"; then
        echo "!! $name failed: see build-fuzz/findings/$name/log.txt"
        tail -30 "build-fuzz/findings/$name/log.txt"
        status=1
    else
        grep -E 'stat::number_of_executed_units|stat::new_units_added' "build-fuzz/findings/$name/log.txt" || true
    fi
done
exit $status
