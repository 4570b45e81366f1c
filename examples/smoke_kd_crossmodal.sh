#!/usr/bin/env bash
# ctest: kd_crossmodal --smoke end to end on a few hundred CIFAR-10 images (every modality, one
# epoch): the table has the teacher, the RGB student and three students per modality, with
# accuracies that parse as numbers in [0, 100]; the teacher-only rows say no labels are in their
# loss; a second invocation with the same --teacher-ckpt loads the teacher instead of training it
# (with --augment: paired crops and flips, the teacher run on every batch).
# Uses the CIFAR-10 copy prepared into the build tree; without ../shared beside the checkout there
# is no offline data: say so and pass.
# usage: smoke_kd_crossmodal.sh SOURCE_DIR DATA_DIR KD_CROSSMODAL_BINARY OUT_DIR
set -euo pipefail
src=$1 data=$2 prog=$3 out=$4
source "$src/examples/smoke_data.sh"
smoke_data "$src" "$data" kd_crossmodal || exit 0
rm -rf "$out"
mkdir -p "$out"
"$prog" --smoke --data "$data" --threads 2 --out "$out" --teacher-ckpt "$out/teacher.safetensors" \
  | tr '\r' '\n' > "$out/run.log"
csv="$out/crossmodal.csv"
[ "$(head -1 "$csv")" = "model,input,loss,labels in loss,params,last acc,best acc,train time" ] || { cat "$csv"; exit 1; }
[ "$(($(wc -l < "$csv") - 1))" = 11 ] || { echo "expected 11 rows"; cat "$csv"; exit 1; }
awk -F, 'NR > 1 { for (i = 6; i <= 7; i++) if ($i !~ /^[0-9]+(\.[0-9]+)?$/ || $i + 0 > 100) { print "bad accuracy " $i; exit 1 } }' "$csv"
for m in gray edge gray+edge; do
  grep -q "^student,$m,kd T=4,no," "$csv" || { echo "no label-free $m row"; cat "$csv"; exit 1; }
  grep -q "^student,$m,ce,yes," "$csv" || { echo "no labels $m row"; exit 1; }
  grep -q "^==== modality $m " "$out/run.log" || { echo "modality $m did not run"; exit 1; }
done
# Grayscale and edge students take 1 input channel, gray+edge 2: 144 more parameters in the first conv.
[ "$(grep '^student,gray,ce' "$csv" | cut -d, -f5)" = 267450 ]
[ "$(grep '^student,gray+edge,ce' "$csv" | cut -d, -f5)" = 267594 ]
grep -q "teacher saved: $out/teacher.safetensors" "$out/run.log"
"$prog" --smoke --data "$data" --threads 2 --out "$out/again" --modality edge --augment --teacher-ckpt "$out/teacher.safetensors" \
  | tr '\r' '\n' > "$out/again.log"
grep -q "teacher loaded from $out/teacher.safetensors" "$out/again.log"
[ "$(($(wc -l < "$out/again/crossmodal.csv") - 1))" = 5 ]
echo "kd_crossmodal smoke test passed"
