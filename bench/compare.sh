#!/usr/bin/env bash
# Runs Retort's benchmark and the PyTorch peer (../shared/bench/torch_seed_nets.py) back to back on
# this machine with the same thread and step counts, and prints images/s and the ratio per
# workload. usage: bench/compare.sh [threads] [steps] [rounds]   (median of rounds per side)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
threads=${1:-2}
steps=${2:-20}
rounds=${3:-3}
bench=${RETORT_BENCH:-$here/build/bench/retort_bench}
peer=${TORCH_PEER:-$here/../shared/bench/torch_seed_nets.py}
[ -x "$bench" ] || { echo "compare: $bench not built (run scripts/test.sh or cmake --build build)" >&2; exit 1; }
[ -f "$peer" ] || { echo "compare: peer script $peer not found" >&2; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for r in $(seq "$rounds"); do
  OMP_NUM_THREADS=$threads "$bench" --threads "$threads" --steps "$steps" | grep -v '^#' >>"$tmp/retort"
  /usr/bin/python3 "$peer" "$threads" "$steps" | grep 'img/s' >>"$tmp/torch"
done
echo "threads=$threads steps=$steps rounds=$rounds (median of rounds; each round is a median over steps)"
printf '%-14s %12s %12s %8s\n' workload retort torch ratio
for w in teacher_train student_train kd_step teacher_infer; do
  r=$(awk -v w=$w '$1==w {print $2}' "$tmp/retort" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  t=$(awk -v w=$w '$1==w {print $2}' "$tmp/torch" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  awk -v w="$w" -v r="$r" -v t="$t" 'BEGIN {printf "%-14s %12.1f %12.1f %7.2fx\n", w, r, t, r / t}'
done
