#!/usr/bin/env bash
# Installs the Debian 12 packages xbpf needs, when missing (run as root; apt-get).
set -euo pipefail
packages=(
    cmake g++ make pkg-config python3
    clang llvm            # the fuzz build, and eBPF test/example programs (-target bpf)
    clang-19 llvm-19      # ISA v4 programs (-mcpu=v4)
    libbpf-dev            # <bpf/bpf_helpers.h> for eBPF C programs; libbpf.a for link mode
    libelf-dev zlib1g-dev # what the static libbpf needs (bpf() ABI, link mode)
    bpftool               # skeletons for the libbpf example; the preload tests
    libfmt-dev libcli11-dev nlohmann-json3-dev
    libgtest-dev libgmock-dev libbenchmark-dev
    libpcap-dev
    nettle-dev            # SHA-1 for program tags (bpf() ABI)
)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    if [ "$(id -u)" -ne 0 ]; then
        echo "error: missing packages and not root; run as root or install them: ${missing[*]}" >&2
        exit 2
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi
