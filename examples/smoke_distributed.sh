#!/usr/bin/env bash
# ctest (label mpi): cifar10_kd and kd_zoo as 2-rank MPI jobs on a small CIFAR-10 subset: every
# run finishes, rank 0 alone prints the results and writes the outputs, the global batch is kept
# (2 ranks × 64 for --batch 128) or scaled (--scale-batch: 2 × 128). Without ../shared beside the
# checkout there is no offline data: say so and pass.
# usage: smoke_distributed.sh SOURCE_DIR DATA_DIR MPIRUN CIFAR10_KD KD_ZOO OUT_DIR
set -euo pipefail
src=$1 data=$2 mpirun=$3 demo=$4 zoo=$5 out=$6
source "$src/examples/smoke_data.sh"
smoke_data "$src" "$data" distributed || exit 0
rm -rf "$out"
mkdir -p "$out"
run() { "$mpirun" --allow-run-as-root --oversubscribe -np 2 "$@"; }
run "$demo" --distributed --data "$data" --epochs 1 --train-limit 1280 --test-limit 500 --cache-teacher-logits \
  --threads 1 --out "$out/kd" | tr '\r' '\n' > "$out/kd.log"
grep -q "2 ranks × batch 64 (global 128)" "$out/kd.log"
[ "$(grep -cE '^(teacher|student|kd_student) +[0-9]+ +[0-9.]+%' "$out/kd.log")" = 3 ]  # one table: rank 0's
[ "$(wc -l < "$out/kd/metrics.csv")" = 4 ]
run "$zoo" --distributed --scale-batch --loss kd --data "$data" --epochs 1 --teacher-epochs 1 --train-limit 1280 \
  --test-limit 500 --threads 1 --out "$out/zoo" | tr '\r' '\n' > "$out/zoo.log"
grep -qE '^teacher epoch 1/1 .*test_acc' "$out/zoo.log"
grep -q "2 ranks × batch 128 (global 256)" "$out/zoo.log"
[ "$(grep -cE '^kd epoch 1/1 loss' "$out/zoo.log")" = 1 ]
[ -s "$out/zoo/zoo.csv" ]
echo "distributed smoke test passed"
