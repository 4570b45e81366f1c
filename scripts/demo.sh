#!/usr/bin/env bash
# The README's main-job command: installs what is missing, builds Retort, prepares CIFAR-10
# (scripts/get-cifar10.sh) and runs the seed knowledge-distillation demo: a teacher, a baseline
# student and a distilled student, then a comparison table. Default preset: teacher 5 epochs,
# students 10 epochs, teacher logits cached (exact: no augmentation). Extra arguments go to
# cifar10_kd, e.g. --full for the seed protocol (10 + 10 epochs). DATA_DIR overrides the data folder.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
data=${DATA_DIR:-data-cache/cifar10}
bash scripts/install-deps.sh
bash scripts/get-cifar10.sh "$data"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release
cmake --build "$build" -j"$(nproc)" --target cifar10_kd
"$build/examples/cifar10_kd" --data "$data" --cache-teacher-logits --out "${OUT_DIR:-cifar10_kd_out}" "$@"
