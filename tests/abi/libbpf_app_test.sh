#!/usr/bin/env bash
# The libbpf example (examples/libbpf_app, link mode) as an unprivileged user: it must load its
# skeleton, test-run its program on four packets and read back what the program counted: maps
# through bpf(), global variables through the skeleton's mmaps, drops through a ring buffer it
# waits on with epoll.
set -uo pipefail
here=$(dirname "$0")
app=$1
out=$("$here/run_unprivileged.sh" "$app" 2>&1)
status=$?
echo "$out"
if [ $status -eq 77 ]; then exit 77; fi  # skipped: see run_unprivileged.sh
if [ $status -ne 0 ]; then
    echo "FAIL: $app exited with $status"
    exit 1
fi
# The program drops packets longer than 64 bytes (the loader's .rodata setting).
expected=(
    "packet of 60 bytes: verdict pass"
    "packet of 100 bytes: verdict drop"
    "packet of 1500 bytes: verdict drop"
    "packets=4 total_bytes=1720 last_verdict=D"
    "length 60: 2 packets"
    "length 100: 1 packets"
    "length 1500: 1 packets"
    "verdicts: pass=2 drop=2"
    "ring buffer: dropped a packet of 100 bytes"
    "ring buffer: dropped a packet of 1500 bytes"
    "ring buffer events: 2"
)
failed=0
for line in "${expected[@]}"; do
    if ! grep -qxF "$line" <<<"$out"; then
        echo "FAIL: missing line: $line"
        failed=1
    fi
done
if ! grep -qE '^program packet_stats: id [0-9]+, 6 maps, [1-9][0-9]* bytes of xlated code$' <<<"$out"; then
    echo "FAIL: no program info line"
    failed=1
fi
exit $failed
