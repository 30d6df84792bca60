#!/usr/bin/env bash
# The main job on the bundled example: installs what is missing, builds, then assembles,
# validates, disassembles and runs examples/asm/checksum.s on an IPv4 header.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh

x=build/xbpf
out=build/demo
mkdir -p "$out"
echo "== assemble and validate the structure: xbpf asm examples/asm/checksum.s"
$x asm examples/asm/checksum.s -o "$out/checksum.bin"
echo
echo "== disassemble: xbpf disasm $out/checksum.bin"
$x disasm "$out/checksum.bin"
echo
echo "== run it on an IPv4 header (checked interpreter): xbpf test-run ... --unverified"
$x test-run "$out/checksum.bin" --unverified --data-hex "$(cat examples/asm/ipv4_header.hex)"
echo "(retval 0: the header's checksum is correct)"
