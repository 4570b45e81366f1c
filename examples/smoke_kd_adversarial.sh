#!/usr/bin/env bash
# ctest: kd_adversarial's flag checks (usage errors, exit 2, before any data is read), then
# `kd_adversarial --smoke` end to end on the CIFAR-10 copy prepared into the build tree: the table
# has the teacher, kd and adv rows with accuracies in [0, 100], the CSVs have their rows, the
# epoch lines carry the discriminator's accuracy, and a second run with --features and two
# discriminator steps reuses the saved teacher. Without ../shared beside the checkout there is no
# offline data: the flag checks still run, then it says so and passes.
# usage: smoke_kd_adversarial.sh SOURCE_DIR DATA_DIR KD_ADVERSARIAL_BINARY OUT_DIR
set -euo pipefail
src=$1 data=$2 prog=$3 out=$4
rm -rf "$out"
mkdir -p "$out"

# expect_usage PATTERN ARGS...: exit 2 and PATTERN (grep -E) in stderr, before reading any data.
expect_usage() {
  local pattern=$1 rc=0
  shift
  timeout 20 "$prog" --data "$out/no-such-data" "$@" > "$out/flag.out" 2> "$out/flag.err" || rc=$?
  if [ "$rc" != 2 ] || ! grep -qE -- "$pattern" "$out/flag.err"; then
    echo "FAIL: kd_adversarial $*: expected exit 2 and /$pattern/, got exit $rc:"
    head -3 "$out/flag.err"
    exit 1
  fi
}
expect_usage "--epochs: '0' is not a positive integer" --epochs 0
expect_usage "--d-steps: '0' is not a positive integer" --d-steps 0
expect_usage "--adv-weight: '-1' is not a non-negative number" --adv-weight -1
expect_usage "--d-lr: 'nan'" --d-lr nan
expect_usage "--batch 64 is larger than the train split \(10 images\)" --train-limit 10 --batch 64
expect_usage "--ce-weight and --kd-weight are both 0" --ce-weight 0 --kd-weight 0
expect_usage "unknown (flag|option).*--bogus" --bogus
expect_usage "--device nope" --device nope
"$prog" --help > "$out/help.out"
grep -q '^usage: kd_adversarial' "$out/help.out"

source "$src/examples/smoke_data.sh"
smoke_data "$src" "$data" kd_adversarial || exit 0
"$prog" --smoke --data "$data" --threads 2 --teacher-ckpt "$out/teacher.safetensors" --out "$out/run" |
  tr '\r' '\n' > "$out/run.log"
# The table: teacher, kd and adv rows; last and best accuracy in [0, 100].
for r in "(teacher)" kd adv; do
  row=$(grep -E -- "^$(printf '%s' "$r" | sed 's/[()]/\\&/g') +.* [0-9]+\.[0-9]{2} +[0-9]+\.[0-9]{2} " "$out/run.log" | tail -1)
  [ -n "$row" ] || { echo "no table row for $r"; cat "$out/run.log" | tail -8; exit 1; }
  echo "$row"
done
# Each student epoch line carries D's accuracy.
[ "$(grep -cE '^(kd|adv) epoch [0-9]+/2 .*test_acc [0-9.]+% D acc [0-9.]+% \(teacher [0-9.]+%, student [0-9.]+%\) L_D [0-9.]+' "$out/run.log")" = 4 ]
# adversarial.csv: header + teacher + kd + adv; discriminator.csv: header + 2 runs x 2 epochs, D
# accuracies in [0, 100]; metrics.csv: header + teacher 1 + 2 x 2 epochs.
[ "$(wc -l < "$out/run/adversarial.csv")" = 4 ]
awk -F, 'NR > 1 { if ($3 !~ /^[0-9.]+$/ || $3 > 100 || $4 !~ /^[0-9.]+$/ || $4 > 100) exit 1 }' "$out/run/adversarial.csv"
[ "$(wc -l < "$out/run/discriminator.csv")" = 5 ]
awk -F, 'NR > 1 { for (i = 3; i <= 5; ++i) if ($i !~ /^[0-9.]+$/ || $i > 100) exit 1 }' "$out/run/discriminator.csv"
[ "$(wc -l < "$out/run/metrics.csv")" = 6 ]
[ -s "$out/teacher.safetensors" ]
# The saved teacher, a discriminator that also sees attention maps, two D steps per student step.
"$prog" --smoke --data "$data" --threads 2 --teacher-ckpt "$out/teacher.safetensors" --features --d-steps 2 \
  --out "$out/features" | tr '\r' '\n' > "$out/features.log"
grep -q "teacher loaded from" "$out/features.log"
grep -q "attention maps" "$out/features.log"
[ "$(wc -l < "$out/features/discriminator.csv")" = 5 ]
echo "kd_adversarial smoke test passed"
