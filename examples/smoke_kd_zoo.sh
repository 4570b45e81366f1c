#!/usr/bin/env bash
# ctest: kd_zoo --costs (every loss's cost row), then kd_zoo end to end on a few hundred CIFAR-10 images (1 epoch per run): every loss of
# `--loss all` trains and reports a numeric accuracy in [0, 100], the CSVs have their rows, a
# weighted spec runs from the saved teacher, and a bad spec is refused. Uses the CIFAR-10 copy
# prepared into the build tree; without ../shared beside the checkout there is no offline data:
# say so and pass.
# usage: smoke_kd_zoo.sh SOURCE_DIR DATA_DIR KD_ZOO_BINARY OUT_DIR
set -euo pipefail
src=$1 data=$2 zoo=$3 out=$4
losses="ce kd dkd dist mse fitnet at nst vid cosine sp rkd pkt fsp cc crd"
# --costs needs no data: one row per loss with measured forward/backward ms, the analytic
# columns filled for the losses kd/cost.h models, and a total line.
mkdir -p "$out"
"$zoo" --loss all --costs --batch 16 --crd-k 64 > "$out/costs.log"
for l in $losses; do
  awk -v l="$l" '$1 == l && $(NF-2) ~ /^[0-9.]+$/ && $(NF-1) ~ /^[0-9.]+$/ { ok = 1 } END { exit !ok }' \
    "$out/costs.log" || { echo "no cost row for $l"; cat "$out/costs.log"; exit 1; }
done
for l in kd sp rkd pkt crd; do
  awk -v l="$l" '$1 == l && $4 != "-" && $4 > 0 { ok = 1 } END { exit !ok }' "$out/costs.log" ||
    { echo "no analytic cost for $l"; exit 1; }
done
grep -q '^total' "$out/costs.log"
# The same forward/backward of every loss in anomaly mode: no NaN/Inf reported anywhere.
"$zoo" --loss all --costs --batch 16 --crd-k 64 --detect-anomaly > "$out/costs_anomaly.log"
grep -q '^total' "$out/costs_anomaly.log"
source "$src/examples/smoke_data.sh"
smoke_data "$src" "$data" kd_zoo || exit 0
rm -rf "$out"
mkdir -p "$out"
"$zoo" --data "$data" --loss all --epochs 1 --teacher-epochs 1 --train-limit 300 --test-limit 200 --crd-k 256 \
  --threads 2 --save-teacher "$out/teacher.safetensors" --out "$out" | tr '\r' '\n' > "$out/all.log"
# The printed table: the teacher row and one row per loss, last and best accuracy in [0, 100].
for l in "(teacher)" $losses; do
  row=$(grep -F -- "$l " "$out/all.log" | grep -E '[0-9]+\.[0-9]{2} +[0-9]+\.[0-9]{2} +[0-9]+:[0-9]{2} +[0-9]+$' |
        awk -v l="$l" '$1 == l' | tail -1)
  [ -n "$row" ] || { echo "no table row for $l"; exit 1; }
  echo "$row"
  echo "$row" | awk '{ a = $(NF-3); b = $(NF-2); if (!(a >= 0 && a <= 100 && b >= 0 && b <= 100)) exit 1 }'
done
# zoo.csv: header + teacher + 16 losses, accuracies numeric in [0, 100]; metrics.csv: 1 + 16 + 1 rows.
[ "$(wc -l < "$out/zoo.csv")" = 18 ]
awk -F, 'NR > 1 { if ($3 !~ /^[0-9.]+$/ || $3 > 100 || $4 !~ /^[0-9.]+$/ || $4 > 100) exit 1 }' "$out/zoo.csv"
[ "$(wc -l < "$out/metrics.csv")" = 18 ]
[ -s "$out/teacher.safetensors" ]
# A weighted combination from the saved teacher.
"$zoo" --data "$data" --loss ce:0.75,kd:0.25,at --epochs 1 --train-limit 300 --test-limit 200 \
  --load-teacher "$out/teacher.safetensors" --out "$out/combo" | tr '\r' '\n' > "$out/combo.log"
grep -q "teacher loaded from" "$out/combo.log"
grep -E '^kd\+at +ce 0\.75 \+ kd 0\.25 \+ at 1000 +[0-9.]+ +[0-9.]+ ' "$out/combo.log"
# An unknown loss is refused with the list of known ones.
if "$zoo" --data "$data" --loss kd,nope --out "$out/bad" > "$out/bad.log" 2>&1; then
  echo "kd_zoo accepted an unknown loss"; exit 1
fi
grep -q "unknown loss 'nope'" "$out/bad.log"
echo "kd_zoo smoke test passed"
