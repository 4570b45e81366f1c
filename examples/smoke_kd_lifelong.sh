#!/usr/bin/env bash
# ctest: kd_lifelong --smoke end to end on 600 CIFAR-10 training images (5 tasks x 1 epoch, every
# method): the summary has one row per method, the accuracy matrix 15 cells per method with
# accuracies in [0, 100], the three methods agree after stage 1 (same initial weights, same task-1
# data, the same CE objective), and the heat map is written when gnuplot is installed. Uses the
# CIFAR-10 copy prepared into the build tree; without ../shared beside the checkout there is no
# offline data: say so and pass.
# usage: smoke_kd_lifelong.sh SOURCE_DIR DATA_DIR KD_LIFELONG_BINARY OUT_DIR
set -euo pipefail
src=$1 data=$2 prog=$3 out=$4
source "$src/examples/smoke_data.sh"
smoke_data "$src" "$data" kd_lifelong || exit 0
rm -rf "$out"
mkdir -p "$out"
"$prog" --smoke --data "$data" --threads 2 --out "$out" | tr '\r' '\n' > "$out/run.log"
[ "$(head -1 "$out/lifelong.csv")" = "method,average acc,forgetting,task-aware avg acc,task-aware forgetting,final acc task 1,train time" ]
[ "$(cut -d, -f1 "$out/lifelong.csv" | tail -n +2 | tr '\n' ' ')" = "finetune lwf joint " ] || { cat "$out/lifelong.csv"; exit 1; }
m="$out/accuracy_matrix.csv"
[ "$(head -1 "$m")" = "method,stage,task,accuracy,task_aware_accuracy" ]
[ "$(($(wc -l < "$m") - 1))" = 45 ] || { echo "expected 45 cells"; cat "$m"; exit 1; }
awk -F, 'NR > 1 && ($4 !~ /^[0-9]+(\.[0-9]+)?$/ || $4 + 0 > 100 || $5 !~ /^[0-9]+(\.[0-9]+)?$/ || $5 + 0 > 100 ||
  $3 > $2) { print "bad cell " $0; exit 1 }' "$m"
# Task-aware accuracy (argmax over 2 classes) is never below the argmax over all seen classes.
awk -F, 'NR > 1 && $5 + 0 < $4 + 0 { print "task-aware below class-incremental: " $0; exit 1 }' "$m"
[ "$(awk -F, '$2 == 1 { print $4, $5 }' "$m" | sort -u | wc -l)" = 1 ] || { echo "stage 1 differs between methods"; grep ',1,1,' "$m"; exit 1; }
for method in finetune lwf joint; do
  [ "$(grep -c "^$method: test accuracy" "$out/run.log")" = 2 ] || { echo "no matrices printed for $method"; exit 1; }
done
if command -v gnuplot > /dev/null; then [ -s "$out/lifelong_heatmap.png" ] || { echo "no heat map"; exit 1; }; fi
if "$prog" --methods lwf,nope --out "$out/bad" > "$out/bad.log" 2>&1; then echo "kd_lifelong accepted an unknown method"; exit 1; fi
grep -q "unknown method 'nope'" "$out/bad.log"
echo "kd_lifelong smoke test passed"
