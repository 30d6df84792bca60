#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds with warnings as errors, runs CTest.
# Tests that need ../shared skip with a message when it is absent.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
ctest --test-dir build --output-on-failure -j"$(nproc)" --timeout 600
