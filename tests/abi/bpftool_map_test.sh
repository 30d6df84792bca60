#!/usr/bin/env bash
# bpftool's map commands under `xbpf exec`, each a process of its own: a map created and pinned
# by one is updated, looked up, dumped and shown by the others, which all see the same map (it
# lives in shared memory). Usage: bpftool_map_test.sh XBPF BPFTOOL PIN_ROOT
set -uo pipefail
xbpf=$1
bpftool=$2
root=$3
# shellcheck source=bpftool_checks.sh
source "$(dirname "$0")/bpftool_checks.sh"

echo "== map create (pins /sys/fs/bpf/counts)"
x map create /sys/fs/bpf/counts type hash key 4 value 8 entries 16 name counts ||
    fail "map create exited with $?"
[ -f "$root/counts" ] || fail "no pin file in the pin root"

echo "== map update (two processes)"
x map update pinned /sys/fs/bpf/counts key 1 0 0 0 value 42 0 0 0 0 0 0 0 || fail "update 1"
x map update pinned /sys/fs/bpf/counts key 2 0 0 0 value 7 0 0 0 0 0 0 0 || fail "update 2"

echo "== map lookup"
out=$(x -j map lookup pinned /sys/fs/bpf/counts key 1 0 0 0)
echo "$out"
expect "lookup" '"value":\["0x2a","0x00","0x00","0x00","0x00","0x00","0x00","0x00"\]' "$out"

echo "== map dump"
out=$(x -j map dump pinned /sys/fs/bpf/counts)
echo "$out"
expect "dump" '"key":\["0x01","0x00","0x00","0x00"\]' "$out"
expect "dump" '"key":\["0x02","0x00","0x00","0x00"\]' "$out"
expect "dump" '"value":\["0x07"' "$out"

echo "== map delete, then lookup fails"
x map delete pinned /sys/fs/bpf/counts key 2 0 0 0 || fail "delete"
if x map lookup pinned /sys/fs/bpf/counts key 2 0 0 0 >/dev/null 2>&1; then
    fail "lookup of a deleted key succeeded"
fi

echo "== map show"
out=$(x -j map show pinned /sys/fs/bpf/counts)
echo "$out"
expect "show" '"type":"hash"' "$out"
expect "show" '"name":"counts"' "$out"
expect "show" '"bytes_key":4' "$out"
expect "show" '"bytes_value":8' "$out"
expect "show" '"max_entries":16' "$out"
out=$(x -j map show)
expect "show all" '"name":"counts"' "$out"

echo "== map pin (a second name for the map)"
id=$(x -j map show pinned /sys/fs/bpf/counts | grep -oE '"id":[0-9]+' | head -1 | cut -d: -f2)
x map pin pinned /sys/fs/bpf/counts /sys/fs/bpf/counts2 || fail "map pin"
out=$(x -j map lookup pinned /sys/fs/bpf/counts2 key 1 0 0 0)
expect "lookup through the second pin" '"0x2a"' "$out"
[ -n "$id" ] || fail "no map id"
exit $failed
