#!/usr/bin/env bash
# ctest: kd_studies end to end on a few hundred CIFAR-10 images (1 epoch per run, epoch lists
# scaled down): every study prints its table and writes OUT/<study>.csv with the expected rows
# and accuracies that parse as numbers in [0, 100]; a second invocation in the same OUT loads
# the saved teacher instead of training it. Uses the CIFAR-10 copy prepared into the build
# tree; without ../shared beside the checkout there is no offline data: say so and pass.
# usage: smoke_kd_studies.sh SOURCE_DIR DATA_DIR KD_STUDIES_BINARY OUT_DIR
set -euo pipefail
src=$1 data=$2 studies=$3 out=$4
source "$src/examples/smoke_data.sh"
smoke_data "$src" "$data" kd_studies || exit 0
rm -rf "$out"
mkdir -p "$out"
"$studies" all --data "$data" --epochs 1 --teacher-epochs 1 --train-limit 300 --test-limit 200 --timing 0.2 \
  --threads 2 --out "$out" --csv "$out/all.csv" | tr '\r' '\n' > "$out/all.log"
# study name, expected data rows, accuracy columns (1-based CSV columns, each in [0, 100]).
check() {
  local study=$1 rows=$2 cols=$3 csv="$out/$1.csv"
  grep -q "^==== study $study\$" "$out/all.log" || { echo "study $study did not run"; exit 1; }
  [ "$(($(wc -l < "$csv") - 1))" = "$rows" ] || { echo "$csv: expected $rows rows"; cat "$csv"; exit 1; }
  awk -F, -v cols="$cols" 'NR > 1 { n = split(cols, c, " "); for (i = 1; i <= n; i++)
      if ($c[i] !~ /^[0-9]+(\.[0-9]+)?$/ || $c[i] + 0 > 100) { print FILENAME ": bad accuracy " $c[i]; exit 1 } }' "$csv"
  # Every data row of the CSV is also a printed table row.
  tail -n +2 "$csv" | cut -d, -f1 | while IFS= read -r label; do
    grep -qF -- "$label" "$out/all.log" || { echo "$study: row '$label' not printed"; exit 1; }
  done
  echo "$study: $rows rows ok"
}
check epochs 2 "2 3"            # --epochs 1 scales 5/10/20 to 1/2
check temperature 6 "2 3"
check weights 5 "2 3"
check kl-vs-mse 4 "2 3"
check augmentation 4 "3 4"
check teacher-quality 2 "2 3 4" # --teacher-epochs 1 scales 2/5/10/20 to 1/2
check small-student 2 "4 5"
check transfer 3 "2 3"
check size-speed 4 ""
awk -F, 'NR > 1 { for (i = 2; i <= 5; i++) if (!($i > 0)) { print "size-speed: bad value " $i; exit 1 } }' \
  "$out/size-speed.csv"
# The long-format --csv holds every cell of every table.
[ "$(head -1 "$out/all.csv")" = "study,row,column,value" ]
[ "$(cut -d, -f1 "$out/all.csv" | sort -u | grep -vc '^study$')" = 9 ]
# The teacher saved in OUT is reused by the next invocation.
"$studies" temperature --data "$data" --epochs 1 --teacher-epochs 1 --train-limit 300 --test-limit 200 \
  --out "$out" | tr '\r' '\n' > "$out/again.log"
grep -q "teacher (1 epochs) loaded from" "$out/again.log"
# Teacher snapshots are the teachers of shorter runs, bit for bit: the 2-epoch snapshot of
# teacher-quality's one 6-epoch run (list 1/2/3/6 at --teacher-epochs 3) equals a teacher trained
# 2 epochs on its own.
"$studies" teacher-quality --data "$data" --epochs 1 --teacher-epochs 3 --train-limit 300 --test-limit 200 \
  --out "$out/snap" > /dev/null
"$studies" weights --data "$data" --epochs 1 --teacher-epochs 2 --train-limit 300 --test-limit 200 \
  --out "$out/single" > /dev/null
cmp "$out/snap/teacher_e2_n300_s42.safetensors" "$out/single/teacher_e2_n300_s42.safetensors"
if "$studies" nope --out "$out/bad" > "$out/bad.log" 2>&1; then echo "kd_studies accepted an unknown study"; exit 1; fi
grep -q "unknown study nope" "$out/bad.log"
echo "kd_studies smoke test passed"
