#!/usr/bin/env bash
# Configures and builds xbpf in build/ (Release, warnings are errors).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -B build -DCMAKE_BUILD_TYPE=Release -DXBPF_WERROR=ON "$@" >/dev/null
cmake --build build -j"$(nproc)"
