#!/usr/bin/env bash
# The README's test command: installs what is missing, builds Retort (Release, oneDNN on) with its
# tests, examples and benchmark, and runs every test with ctest. Safe to run again: the build is
# incremental. BUILD_DIR overrides the build folder (default: build).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
jobs=$(nproc)
bash scripts/install-deps.sh
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release
cmake --build "$build" -j"$jobs"
cd "$build"
ctest --output-on-failure -j"$jobs"
