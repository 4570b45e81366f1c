#!/usr/bin/env bash
# ctest: kd_assistant end to end with --smoke (a few hundred CIFAR-10 images, 1 epoch per run):
# the size table holds the seed nets' parameter counts, the chain and gap studies print their
# tables and write OUT/<study>.csv with accuracies that parse as numbers in [0, 100] and the
# chains' step counts (each stage one epoch of 2 batches); a second invocation in the same OUT
# loads the saved teachers instead of training them. Uses the CIFAR-10 copy prepared into the
# build tree; without ../shared beside the checkout there is no offline data: say so and pass.
# usage: smoke_kd_assistant.sh SOURCE_DIR DATA_DIR KD_ASSISTANT_BINARY OUT_DIR
set -euo pipefail
src=$1 data=$2 prog=$3 out=$4
source "$src/examples/smoke_data.sh"
smoke_data "$src" "$data" kd_assistant || exit 0
rm -rf "$out"
mkdir -p "$out"
"$prog" all --smoke --data "$data" --threads 2 --out "$out" --csv "$out/all.csv" | tr '\r' '\n' > "$out/all.log"
fail() { echo "$*"; exit 1; }
# study name, expected data rows, accuracy columns (1-based CSV columns, each in [0, 100]).
check() {
  local study=$1 rows=$2 cols=$3 csv="$out/$1.csv"
  [ "$(($(wc -l < "$csv") - 1))" = "$rows" ] || { cat "$csv"; fail "$csv: expected $rows rows"; }
  awk -F, -v cols="$cols" 'NR > 1 { n = split(cols, c, " "); for (i = 1; i <= n; i++)
      if ($c[i] !~ /^[0-9]+(\.[0-9]+)?$/ || $c[i] + 0 > 100) { print FILENAME ": bad accuracy " $c[i]; exit 1 } }' "$csv"
  tail -n +2 "$csv" | cut -d, -f1 | while IFS= read -r label; do
    grep -qF -- "$label" "$out/all.log" || fail "$study: row '$label' not printed"
  done
  echo "$study: $rows rows ok"
}
check sizes 5 ""
grep -q '^student,\[1x16 k3\] \[1x16 k3\] fc256,267738,' "$out/sizes.csv" || fail "sizes: StudentNet's count"
grep -q '^teacher,\[128/64 k3\] \[64/32 k3\] fc512,1186986,' "$out/sizes.csv" || fail "sizes: TeacherNet's count"
grep -q '^==== study chain$' "$out/all.log" || fail "study chain did not run"
check chain 4 "3"
[ "$(tail -n +2 "$out/chain.csv" | cut -d, -f6 | tr '\n' ' ')" = "2 2 4 6 " ] || { cat "$out/chain.csv"; fail "chain: step counts"; }
grep -q '^2 assistants,teacher>ta-medium>ta-small>student,' "$out/chain.csv" || fail "chain: the two-assistant path"
grep -q '^==== study gap$' "$out/all.log" || fail "study gap did not run"
check gap 3 "4 5"
[ "$(tail -n +2 "$out/gap.csv" | cut -d, -f1 | tr '\n' ' ')" = "ta-small ta-medium teacher " ] || fail "gap: teachers"
[ "$(head -1 "$out/all.csv")" = "study,row,column,value" ] || fail "--csv header"
[ "$(cut -d, -f1 "$out/all.csv" | sort -u | grep -vc '^study$')" = 3 ] || fail "--csv: expected 3 studies"
grep -q "^per-epoch metrics: $out/metrics.csv" "$out/all.log" || fail "no metrics line"
# The teachers saved in OUT are reused by the next invocation.
"$prog" gap --smoke --data "$data" --threads 2 --out "$out" | tr '\r' '\n' > "$out/again.log"
[ "$(grep -c ' loaded from ' "$out/again.log")" = 3 ] || { cat "$out/again.log"; fail "teachers not reused"; }
if "$prog" nope --smoke --out "$out/bad" > "$out/bad.log" 2>&1; then fail "kd_assistant accepted an unknown study"; fi
grep -q "unknown study nope" "$out/bad.log"
echo "kd_assistant smoke test passed"
