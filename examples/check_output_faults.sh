#!/usr/bin/env bash
# ctest examples.output_faults: a real full disk (a tmpfs of 256 KB, filled) under cifar10_kd's
# outputs. The metrics CSV, the plots and the saved teacher must each fail loudly (exit 1, "No
# space left on device" or an incomplete plot named) and leave neither a truncated file under the
# final name nor a temporary file behind; what was written before the disk filled stays complete.
# Needs root (mount) and the CIFAR-10 copy of the smoke tests; without either it says why and
# exits 77, which ctest reports as skipped. The unit tests (tests/tensor/test_atomic_file.cpp)
# cover the same paths by fault injection on any machine.
# usage: check_output_faults.sh SOURCE_DIR DATA_DIR CIFAR10_KD WORK_DIR
set -euo pipefail
src=$1 data=$2 demo=$3 work=$4
if [ "$(id -u)" != 0 ]; then
  echo "SKIPPED: needs root to mount a small tmpfs (the unit tests inject the same faults without it)"
  exit 77
fi
source "$src/examples/smoke_data.sh"
smoke_data "$src" "$data" output_faults || exit 77
rm -rf "$work"
mnt="$work/disk"
mkdir -p "$mnt"
if ! mount -t tmpfs -o size=256k tmpfs "$mnt" 2> "$work/mount.err"; then
  echo "SKIPPED: cannot mount a tmpfs here: $(cat "$work/mount.err")"
  exit 77
fi
trap 'umount "$mnt"' EXIT

# fill FREE_BYTES: leaves that much free on the tmpfs (in 4 KB pages).
fill() {
  rm -f "$mnt/filler"
  local avail
  avail=$(df --output=avail -B4096 "$mnt" | tail -1)
  dd if=/dev/zero of="$mnt/filler" bs=4096 count=$((avail - $1 / 4096)) status=none 2>/dev/null || true
}
no_temporaries() {
  if find "$mnt" -name '*.retort-tmp.*' | grep .; then echo "temporary files left behind"; exit 1; fi
}
run() {  # run LOG ARGS...: cifar10_kd on 128 images, 1 epoch; prints the exit code
  local log=$1
  shift
  set +e
  "$demo" --data "$data" --epochs 1 --train-limit 128 --test-limit 50 --batch 64 --threads 2 "$@" \
    > "$work/$log" 2>&1
  echo $?
  set -e
}

# 1. The disk is full when the metrics CSV is written (after all training).
fill 0
rc=$(run csv.log --out "$mnt/out")
[ "$rc" = 1 ] || { echo "metrics CSV on a full disk: exit $rc, expected 1"; tail -3 "$work/csv.log"; exit 1; }
grep -q "write_epoch_csv: '$mnt/out/metrics.csv'.*No space left on device" "$work/csv.log"
[ ! -e "$mnt/out/metrics.csv" ] || { echo "a metrics.csv was left on the full disk"; exit 1; }
! grep -q "per-epoch metrics:" "$work/csv.log" || { echo "reported the CSV as written"; exit 1; }
no_temporaries
echo "full disk at the metrics CSV: exit 1, no file: ok"

# 2. The disk is full when the trained teacher is saved.
rm -rf "$mnt/out"
fill 0
rc=$(run save.log --out "$work/out2" --save-teacher "$mnt/teacher.safetensors")
[ "$rc" = 1 ] || { echo "teacher save on a full disk: exit $rc, expected 1"; tail -3 "$work/save.log"; exit 1; }
grep -q "save_safetensors: '$mnt/teacher.safetensors'.*No space left on device" "$work/save.log"
[ ! -e "$mnt/teacher.safetensors" ]
no_temporaries
echo "full disk at the teacher checkpoint: exit 1, no file: ok"

# 3. Room for the CSV but not for the plots (gnuplot's PNGs are ~20 KB each).
if command -v gnuplot > /dev/null; then
  fill 12288
  rc=$(run plots.log --out "$mnt/out")
  [ "$rc" = 1 ] || { echo "plots on a full disk: exit $rc, expected 1"; tail -3 "$work/plots.log"; exit 1; }
  grep -qE "plot not written: gnuplot .*(incomplete|failed)" "$work/plots.log"
  [ "$(wc -l < "$mnt/out/metrics.csv")" = 4 ] || { echo "metrics.csv incomplete"; exit 1; }
  [ ! -e "$mnt/out/loss.png" ] && [ ! -e "$mnt/out/test_accuracy.png" ] || { echo "a truncated plot was left"; exit 1; }
  no_temporaries
  echo "full disk at the plots: exit 1, CSV complete, no PNG: ok"
fi
echo "output faults test passed"
