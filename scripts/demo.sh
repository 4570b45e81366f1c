#!/usr/bin/env bash
# The README's main-job command: installs what is missing, builds Retort and runs the demo.
# Extra arguments go to the demo program.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
bash scripts/install-deps.sh
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DRETORT_BUILD_TESTS=OFF
cmake --build "$build" -j"$(nproc)" --target train_student
"$build/examples/train_student" "$@"
