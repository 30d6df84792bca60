#!/usr/bin/env bash
# Debian's bpftool, unmodified, under `xbpf exec` (preload mode), run by the caller (the CTest
# runs it as an unprivileged user): programs loaded and pinned by one bpftool process are shown,
# run and dumped by others. Usage: bpftool_test.sh XBPF BPFTOOL PROG_OBJECT
set -uo pipefail
xbpf=$1
bpftool=$2
object=$3
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
# shellcheck source=bpftool_checks.sh
source "$(dirname "$0")/bpftool_checks.sh"

echo "== prog load (pins /sys/fs/bpf/filter)"
x prog load "$object" /sys/fs/bpf/filter || fail "prog load exited with $?"
[ -f "$root/filter" ] || fail "no pin file in the pin root"

echo "== prog show pinned (another process)"
out=$(x -j prog show pinned /sys/fs/bpf/filter)
echo "$out"
expect "prog show" '"type":"xdp"' "$out"
expect "prog show" '"name":"length_filter"' "$out"
expect "prog show" "\"uid\":$(id -u)" "$out"
expect "prog show" '"tag":"[0-9a-f]{16}"' "$out"

echo "== prog show (every program: pinned ones included)"
out=$(x -j prog show)
echo "$out"
expect "prog show all" '"name":"length_filter"' "$out"

echo "== prog run"
head -c 80 /dev/zero >"$root/long"
head -c 20 /dev/zero >"$root/short"
out=$(x prog run pinned /sys/fs/bpf/filter data_in "$root/long" 2>&1)
echo "$out"
expect "prog run (80 bytes)" 'Return value: 2,' "$out"
out=$(x prog run pinned /sys/fs/bpf/filter data_in "$root/short" repeat 5 2>&1)
echo "$out"
expect "prog run (20 bytes)" 'Return value: 1,' "$out"

echo "== prog dump xlated"
out=$(x prog dump xlated pinned /sys/fs/bpf/filter)
echo "$out"
expect "dump xlated" 'w0 = 2' "$out"
expect "dump xlated" 'if r1 s> 0x3f goto pc\+1' "$out"
expect "dump xlated" 'exit' "$out"

echo "== feature probe (libbpf's probes answered by xbpf)"
# "unprivileged": bpftool refuses the full probe without capabilities (it checks them itself).
out=$(x feature probe kernel unprivileged 2>&1)
expect "feature" 'eBPF program_type xdp is available' "$out"
expect "feature" 'eBPF map_type ringbuf is available' "$out"
expect "feature" 'eBPF map_type devmap is NOT available' "$out"
xdp_helpers=$(awk '/helpers supported for program type/ { on = /type xdp:/; next } on' <<<"$out")
expect "feature: xdp helpers" 'bpf_xdp_adjust_head' "$xdp_helpers"
if grep -q 'bpf_skb_store_bytes' <<<"$xdp_helpers"; then
    fail "feature: xdp programs may not call bpf_skb_store_bytes"
fi

if [ -n "${XBPF_BPFTOOL_MAP_TESTS:-1}" ] && [ -x "$(dirname "$0")/bpftool_map_test.sh" ]; then
    "$(dirname "$0")/bpftool_map_test.sh" "$xbpf" "$bpftool" "$root" || failed=1
fi
exit $failed
