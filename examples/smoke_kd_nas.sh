#!/usr/bin/env bash
# ctest: kd_nas --smoke end to end on a few hundred CIFAR-10 images: the search prints every
# candidate with its spec, parameters and MACs and a score per round within [0, 100], keeps the
# right number per round (4 → 2 → 1), names a winner within the budget; the final table has the
# teacher, the winner and StudentNet with accuracies in [0, 100]; the CSVs have their rows; a second
# run loads the saved teacher and repeats the search exactly (same seed, same scores). Uses the
# CIFAR-10 copy prepared into the build tree; without ../shared beside the checkout there is no
# offline data: say so and pass.
# usage: smoke_kd_nas.sh SOURCE_DIR DATA_DIR KD_NAS_BINARY OUT_DIR
set -euo pipefail
src=$1 data=$2 nas=$3 out=$4
source "$src/examples/smoke_data.sh"
smoke_data "$src" "$data" kd_nas || exit 0
rm -rf "$out"
mkdir -p "$out"
"$nas" --smoke --data "$data" --threads 2 --teacher-ckpt "$out/teacher.safetensors" --out "$out/a" |
  tr '\r' '\n' > "$out/a.log"
log="$out/a.log"
# Candidates: 4 listed, c0 the seed StudentNet, each within the default budget.
[ "$(grep -cE '^  c[0-9]+ +\[' "$log")" = 4 ] || { echo "expected 4 candidates"; cat "$log"; exit 1; }
grep -qE '^  c0 +\[1x16 k3\] \[1x16 k3\] fc256 +267738 params .*\(seed StudentNet\)' "$log"
awk '/^  c[0-9]+ +\[/ { for (i = 1; i <= NF; i++) if ($(i+1) == "params" && $i > 267738) { print "over budget: " $0; exit 1 } }' "$log"
# Rounds: 4 scored in round 0, 2 in round 1; scores are percentages.
[ "$(grep -cE '^  round 0 c[0-9]+ .* val_acc +[0-9.]+%' "$log")" = 4 ]
[ "$(grep -cE '^  round 1 c[0-9]+ .* val_acc +[0-9.]+%' "$log")" = 2 ]
[ "$(grep -E '^round 0 kept:' "$log" | wc -w)" = 5 ]
[ "$(grep -E '^round 1 kept:' "$log" | wc -w)" = 4 ]
grep -E '^  round [01] c' "$log" | awk '{ v = $(NF-1); sub("%", "", v); v += 0; if (!(v >= 0 && v <= 100)) { print "bad score " $0; exit 1 } }'
grep -qE '^winner: c[0-9]+ \[' "$log"
# candidates.csv: header + 4 rows, exactly one winner; nas.csv: header + teacher, winner, StudentNet.
[ "$(wc -l < "$out/a/candidates.csv")" = 5 ]
[ "$(grep -c ',winner$' "$out/a/candidates.csv")" = 1 ]
[ "$(wc -l < "$out/a/nas.csv")" = 4 ]
awk -F, 'NR > 1 { if ($6 !~ /^[0-9.]+$/ || $6 > 100 || $7 !~ /^[0-9.]+$/ || $7 > 100) { print "bad row " $0; exit 1 } }' \
  "$out/a/nas.csv"
for row in '(teacher)' nas_winner StudentNet; do
  grep -qF -- "$row" "$log" || { echo "no table row $row"; exit 1; }
done
[ -s "$out/teacher.safetensors" ]
# Again from the saved teacher: loaded, and the same candidates' scores.
"$nas" --smoke --data "$data" --threads 2 --teacher-ckpt "$out/teacher.safetensors" --out "$out/b" |
  tr '\r' '\n' > "$out/b.log"
grep -q "teacher loaded from" "$out/b.log"
cmp "$out/a/candidates.csv" "$out/b/candidates.csv"
echo "kd_nas smoke test passed"
