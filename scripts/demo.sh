#!/usr/bin/env bash
# The main job on the bundled example: installs what is missing, builds, then verifies the XDP
# firewall in examples/bpf/xdp_firewall.c and runs it over a generated capture of 5,000 frames,
# with the blocked prefixes from examples/firewall_rules.json.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh

x=build/xbpf
out=build/demo
mkdir -p "$out"
echo "== the object: xbpf sections build/examples/xdp_firewall.o"
$x sections build/examples/xdp_firewall.o
echo
echo "== verify it: xbpf verify build/examples/xdp_firewall.o"
$x verify build/examples/xdp_firewall.o
echo
echo "== run it over the capture:"
echo "   xbpf run build/examples/xdp_firewall.o --pcap build/examples/traffic.pcap \\"
echo "       --map-init examples/firewall_rules.json --out $out/passed.pcap --map-dump $out/maps.json"
$x run build/examples/xdp_firewall.o --pcap build/examples/traffic.pcap \
    --map-init examples/firewall_rules.json --out "$out/passed.pcap" --map-dump "$out/maps.json"
echo
echo "Frames that got through: $out/passed.pcap; the maps after the run: $out/maps.json"
