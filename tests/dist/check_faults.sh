#!/usr/bin/env bash
# A rank that throws, exits or hangs mid-step must end the whole 2-rank job with a non-zero status
# and a clear message well within the collective deadline (2 s, fault_main.cpp) — never hang.
#   check_faults.sh MPIRUN FAULT_MAIN
set -uo pipefail
mpirun=$1 prog=$2
run() {  # MODE: runs the job, sets out, rc and secs
  local start=$SECONDS
  out=$(timeout 60 "$mpirun" --allow-run-as-root --oversubscribe -np 2 "$prog" "$1" 2>&1)
  rc=$?
  secs=$((SECONDS - start))
}
check() {  # MODE PATTERN MAX_SECONDS
  run "$1"
  if [ "$rc" -eq 0 ] || [ "$rc" -eq 124 ] || [ "$secs" -gt "$3" ] || ! grep -Eq "$2" <<<"$out"; then
    echo "check_faults: '$1' ended with status $rc after ${secs} s (want non-zero, within $3 s, output matching '$2'):"
    echo "$out"
    exit 1
  fi
  echo "check_faults: '$1': status $rc after ${secs} s: $(grep -E "$2" <<<"$out" | head -1)"
}
run none
if [ "$rc" -ne 0 ] || ! grep -q "all steps done" <<<"$out"; then
  echo "check_faults: the job without a fault failed (status $rc):"; echo "$out"; exit 1
fi
check throw "rank 1/2: fault_main: rank 1 failed on purpose at step 3" 20
check exit "exited|terminated|non-zero status" 20
check hang "rank 0/2: dist all_reduce \(avg\) on rank 0/2: tensor \[64,33\] float32 cpu: timed out after 2 s" 20
echo "check_faults: all passed"
