# Sourced by the bpftool scripts: runs bpftool under `xbpf exec` with the pin root, and records
# failures without stopping (the script exits with $failed at the end). Needs $xbpf, $bpftool
# and $root set.
x() { "$xbpf" exec --pin-root "$root" -- "$bpftool" "$@"; }
failed=0
fail() {
    echo "FAIL: $*"
    failed=1
}
expect() {  # expect DESCRIPTION PATTERN OUTPUT
    if ! grep -qE -- "$2" <<<"$3"; then fail "$1: no match for '$2' in: $3"; fi
}
