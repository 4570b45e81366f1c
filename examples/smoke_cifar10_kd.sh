#!/usr/bin/env bash
# ctest: the CIFAR-10 KD demo end to end for a few dozen steps (1 epoch of 2,560 images per run),
# on the bundled CIFAR-10 copy prepared into the build tree. Without ../shared beside the
# checkout there is no offline data: say so and pass.
# usage: smoke_cifar10_kd.sh SOURCE_DIR DATA_DIR DEMO_BINARY OUT_DIR
set -euo pipefail
src=$1 data=$2 demo=$3 out=$4
source "$src/examples/smoke_data.sh"
smoke_data "$src" "$data" demo || exit 0
rm -rf "$out"
"$demo" --data "$data" --epochs 1 --train-limit 2560 --test-limit 1000 --cache-teacher-logits --threads 2 \
  --save-teacher "$out/teacher.safetensors" --out "$out" | tr '\r' '\n' > "$out.log"
grep -E '^(teacher|student|kd_student) +[0-9]+ +[0-9.]+%' "$out.log"
[ "$(grep -cE '^(teacher|student|kd_student) +[0-9]+ +[0-9.]+%' "$out.log")" = 3 ]
[ "$(wc -l < "$out/metrics.csv")" = 4 ]
[ -s "$out/teacher.safetensors" ]
# The saved teacher loads back and is evaluated instead of retrained; the students train in
# anomaly mode, which reports no NaN/Inf.
"$demo" --data "$data" --epochs 1 --train-limit 256 --test-limit 1000 --load-teacher "$out/teacher.safetensors" \
  --out "$out/reload" --detect-anomaly | tr '\r' '\n' | grep -q "teacher loaded from"
# A diverging run stops, naming the epoch, the batch and each term, instead of training on NaN.
if "$demo" --data "$data" --epochs 1 --train-limit 256 --test-limit 100 --lr 1e30 --out "$out/diverge" \
     > "$out/diverge.log" 2>&1; then
  echo "a diverging run exited 0"; exit 1
fi
grep -E "teacher' epoch 1 batch [0-9]+/[0-9]+: the loss is (nan|inf|-inf) \(ce 1" "$out/diverge.log"
echo "cifar10_kd smoke test passed"
