#!/usr/bin/env bash
# Runs the libFuzzer targets of tests/fuzz/ (docs/reliability.md, "Sanitizers and fuzzing").
# usage: scripts/fuzz.sh [--time SECONDS] [--build DIR] [TARGET...]
#   --time S    fuzz each target for S seconds (default 25; CI uses the default)
#   --build D   the clang fuzzing build folder (default build-fuzz), configured and built here
#   TARGET...   names as in tests/fuzz/CMakeLists.txt (default: every target built)
# Each target starts from its committed seed corpus (tests/fuzz/corpus/NAME, never written) and
# keeps what it discovers in D/corpus/NAME, so a later run goes on from there. A crash, leak,
# timeout (-timeout=10 s per input) or allocation beyond -rss_limit_mb=2048 stops the target;
# its input is saved as D/artifacts/NAME-crash-<sha1> (or leak-, timeout-, oom-) and the script
# fails after running the others. One line per target gives libFuzzer's executions and corpus.
# Targets run as many at a time as there are cores, each for its full time.
set -euo pipefail
cd "$(dirname "$0")/.."
time_s=25
build=build-fuzz
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --time) time_s=${2:?--time needs seconds}; shift 2 ;;
    --build) build=${2:?--build needs a folder}; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done

# The readers use none of the kernels or of dist/, so the fuzzing build leaves oneDNN (its OpenMP
# runtime, libgomp, would also meet clang's libomp in one process) and MPI out.
mkdir -p "$build"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
      -DRETORT_BUILD_FUZZ=ON -DRETORT_WITH_ONEDNN=OFF -DRETORT_BUILD_TESTS=OFF \
      -DRETORT_BUILD_EXAMPLES=OFF -DRETORT_BUILD_BENCH=OFF -DRETORT_WITH_MPI=OFF >"$build/configure.log" 2>&1 ||
  { cat "$build/configure.log"; exit 1; }
cmake --build "$build" -j2 --target retort_fuzz
if [ ${#targets[@]} -eq 0 ]; then
  for exe in "$build"/tests/fuzz/fuzz_*; do [ -x "$exe" ] && targets+=("${exe##*/fuzz_}"); done
fi

mkdir -p "$build/artifacts"
# One target: fuzzes it and writes its one-line result to $build/result_<target> (the exit status
# on the first line).
fuzz_one() {
  local t=$1 exe="$build/tests/fuzz/fuzz_$1" seeds="tests/fuzz/corpus/$1" work="$build/corpus/$1"
  local log="$build/fuzz_$1.log" out="$build/result_$1" rc=0 extra=()
  mkdir -p "$work"
  local opts=(-max_total_time="$time_s" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1
              -artifact_prefix="$build/artifacts/$t-")
  [ -f "tests/fuzz/$t.dict" ] && opts+=(-dict="tests/fuzz/$t.dict")
  [ -f "tests/fuzz/$t.options" ] && read -r -a extra <"tests/fuzz/$t.options" && opts+=("${extra[@]}")
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 "$exe" "${opts[@]}" "$work" "$seeds" >"$log" 2>&1 || rc=$?
  local runs cov units
  # A crashed target's log may lack these lines; the captures must not end the function.
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1 || true)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2 || true)
  units=$(find "$work" -type f | wc -l)
  if [ "$rc" -eq 0 ]; then
    printf '0\nfuzz %s: OK, %s executions in %s s (coverage %s edges, corpus %s inputs)\n' \
      "$t" "${runs:-?}" "$time_s" "${cov:-?}" "$units" >"$out"
  else
    { echo 1; echo "fuzz $t: FAILED (exit $rc) after ${runs:-?} executions; log $log:"
      grep -E 'ERROR|SUMMARY|Test unit written|runtime error|deadly signal|uncaught' "$log" | head -20 || true
    } >"$out"
  fi
}
for t in "${targets[@]}"; do
  [ -x "$build/tests/fuzz/fuzz_$t" ] ||
    { echo "fuzz.sh: no target $t (built: $build/tests/fuzz/fuzz_*)" >&2; exit 2; }
done
rm -f "$build"/result_*
jobs=$(nproc)
running=0
for t in "${targets[@]}"; do
  fuzz_one "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then wait -n || true; running=$((running - 1)); fi
done
wait
failed=()
for t in "${targets[@]}"; do
  r="$build/result_$t"
  [ -f "$r" ] || { echo "fuzz $t: FAILED (no result; log $build/fuzz_$t.log)"; failed+=("$t"); continue; }
  tail -n +2 "$r"
  [ "$(head -1 "$r")" = 0 ] || failed+=("$t")
done
[ ${#failed[@]} -eq 0 ] || { echo "fuzz.sh: failed: ${failed[*]}"; exit 1; }
