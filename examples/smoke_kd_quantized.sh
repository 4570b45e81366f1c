#!/usr/bin/env bash
# ctest: kd_quantized's bad flags are usage errors (exit 2, naming the flag, before any data is
# read), then kd_quantized --smoke end to end on a few hundred CIFAR-10 images: the table has one
# row per bit width with accuracies in [0, 100], the CSVs are written, the int8 models agree with
# the fake-quantised ones on at least 95% of the test images, and a second invocation
# loads the teacher saved by the first. Without ../shared beside the checkout there is no offline
# data: the training part says so and passes.
# usage: smoke_kd_quantized.sh SOURCE_DIR DATA_DIR KD_QUANTIZED_BINARY OUT_DIR
set -euo pipefail
src=$1 data=$2 prog=$3 out=$4
rm -rf "$out"
mkdir -p "$out"
expect_usage() {
  local pattern=$1
  shift
  local rc=0
  "$prog" --data "$out/no-such-data" "$@" > "$out/flag.log" 2>&1 || rc=$?
  [ "$rc" = 2 ] && grep -qE -- "$pattern" "$out/flag.log" || {
    echo "kd_quantized $*: expected exit 2 and /$pattern/, got exit $rc:"; head -3 "$out/flag.log"; exit 1; }
}
expect_usage "--bits: 9 is not in \[2, 8\]" --bits 8,9
expect_usage "--bits: 'x' is not a positive integer" --bits x
expect_usage "--quantizer: 'int' is not lsq or minmax" --quantizer int
expect_usage "--epochs: '0' is not a positive integer" --epochs 0
expect_usage "--threads: 'abc' is not a positive integer" --threads abc
expect_usage "--batch 512 is larger than the train split \(256 images\)" --smoke --batch 512
expect_usage "unknown (flag|option).*--nope" --nope
"$prog" --help | grep -q '^usage: kd_quantized'

source "$src/examples/smoke_data.sh"
smoke_data "$src" "$data" kd_quantized || exit 0
"$prog" --smoke --data "$data" --threads 2 --out "$out" | tr '\r' '\n' > "$out/run.log"
csv="$out/quantized.csv"
[ "$(head -1 "$csv")" = "bits,QAT,QAT+KD,KD gain,QAT time s,QAT+KD time s" ] || { cat "$csv"; exit 1; }
[ "$(cut -d, -f1 "$csv" | tail -n +2 | tr '\n' ' ')" = "8 4 2 " ] || { cat "$csv"; exit 1; }
awk -F, 'NR > 1 { for (i = 2; i <= 3; i++) if ($i !~ /^[0-9]+(\.[0-9]+)?$/ || $i + 0 > 100) {
    print "bad accuracy " $i; exit 1 } }' "$csv"
grep -q "^w2_qat_kd,1," "$out/metrics.csv"
# The int8 models (oneDNN's int8 kernels) predict what their fake-quantised models predict.
[ "$(cut -d, -f1 "$out/int8.csv" | tail -n +2 | tr '\n' ' ')" = "8 4 2 " ] || { cat "$out/int8.csv"; exit 1; }
awk -F, 'NR > 1 && ($5 + 0 < 95 || $8 + 0 <= 0) { print "int8 row " $1 ": same prediction " $5 "%, " $8 " img/s"; exit 1 }' \
  "$out/int8.csv"
grep -q "^bits *QAT *QAT+KD" "$out/run.log"
"$prog" --smoke --data "$data" --threads 2 --bits 4 --out "$out" | tr '\r' '\n' > "$out/again.log"
grep -q "teacher loaded from" "$out/again.log"
echo "kd_quantized smoke test passed"
