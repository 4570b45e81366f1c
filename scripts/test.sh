#!/usr/bin/env bash
# The README's test command: installs what is missing, builds Retort (Release, oneDNN on) with its
# tests, examples and benchmark, and runs every test with ctest. Safe to run again: the builds are
# incremental. BUILD_DIR overrides the build folder (default: build).
#
# Then, in this order (docs/reliability.md, "Sanitizers and fuzzing"):
#   cuda      when the CUDA toolkit is present (nvcc on PATH or in /usr/local/cuda/bin): a second
#             build with -DRETORT_WITH_CUDA=ON (CUDA_BUILD_DIR, default build-cuda) compiles the
#             library (dist/ with NCCL included), the benchmark, the demo, the [cuda] tests and the
#             MPI tests, and runs those tests: on a
#             machine without a GPU each one WARNs "no CUDA device" and passes, so this step
#             proves the backend builds and links. RETORT_SKIP_CUDA=1 skips it.
#   sanitize  AddressSanitizer + UndefinedBehaviorSanitizer (build-asan): every test not labelled
#             `slow` (tests/CMakeLists.txt says which and why), built without dist/.
#   tsan      ThreadSanitizer (build-tsan): the tests that start threads of their own.
#   fuzz      every libFuzzer target (build-fuzz, clang) for FUZZ_TIME seconds (default 25).
# RETORT_SKIP_SANITIZE=1 skips the last three. A failing stage does not stop the later ones; the
# last line names every stage with its time and result, and the exit status is 1 if any failed.
#
#   scripts/test.sh              all of the above
#   scripts/test.sh --sanitize   only the AddressSanitizer + UBSan stage
#   scripts/test.sh --tsan       only the ThreadSanitizer stage
#   scripts/test.sh --fuzz       only the fuzzing stage (scripts/fuzz.sh runs targets longer)
set -uo pipefail
cd "$(dirname "$0")/.."
jobs=2  # the project's machines have 2 cores, often shared
only=""
case "${1:-}" in
  "") ;;
  --sanitize|--tsan|--fuzz) only=${1#--} ;;
  -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
  *) echo "test.sh: unknown option $1 (--sanitize, --tsan or --fuzz)" >&2; exit 2 ;;
esac
bash scripts/install-deps.sh || exit 1

summary=()
status=0
stage() {  # stage NAME FUNCTION: runs it, timing it; a failure is recorded, not fatal
  local name=$1 start=$SECONDS rc=0
  echo "=== test.sh: $name"
  ( set -e; "$2" )  # not `|| rc=$?`: that would turn off set -e inside the stage
  rc=$?
  local t=$((SECONDS - start)) result=passed
  [ "$rc" -eq 0 ] || { result="FAILED (exit $rc)"; status=1; }
  summary+=("$name $((t / 60))m$(printf %02d $((t % 60)))s $result")
  echo "=== test.sh: $name $result in ${t} s"
}

normal() {
  local build=${BUILD_DIR:-build}
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release
  cmake --build "$build" -j"$jobs"
  (cd "$build" && ctest --output-on-failure -j"$jobs")
}

cuda() {
  local nvcc cuda_build=${CUDA_BUILD_DIR:-build-cuda}
  nvcc=$(command -v nvcc || true)
  [ -z "$nvcc" ] && [ -x /usr/local/cuda/bin/nvcc ] && nvcc=/usr/local/cuda/bin/nvcc
  echo "test.sh: CUDA toolkit found ($nvcc): building the CUDA backend in $cuda_build"
  cmake -S . -B "$cuda_build" -DCMAKE_BUILD_TYPE=Release -DRETORT_WITH_CUDA=ON \
        -DCMAKE_CUDA_COMPILER="$nvcc" -DRETORT_BUILD_EXAMPLES=ON -DRETORT_BUILD_BENCH=ON
  cmake --build "$cuda_build" -j"$jobs" --target retort retort_bench cifar10_kd retort_cuda_tests retort_mpi_tests
  (cd "$cuda_build" && ctest --output-on-failure -j"$jobs" -R '^cuda\.')
  # dist/ with NCCL (RETORT_WITH_MPI is on by default): the 2-rank tests, whose NCCL cases WARN
  # and pass without at least 2 GPUs.
  (cd "$cuda_build" && ctest --output-on-failure -L mpi -R '^dist\.')
}

# The sanitized builds: tests only (no examples or benchmark), optimised with debug lines so the
# tests run at a useful speed and reports name source lines.
# Without dist/ (RETORT_WITH_MPI=OFF): OpenMPI is not built with the sanitizers, so its tests
# would check the MPI library rather than Retort; they run in the normal and CUDA stages.
sanitized_configure() {  # DIR SANITIZERS
  cmake -S . -B "$1" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRETORT_SANITIZE="$2" \
        -DRETORT_BUILD_EXAMPLES=OFF -DRETORT_BUILD_BENCH=OFF -DRETORT_WITH_MPI=OFF
}

sanitize() {
  sanitized_configure build-asan address,undefined
  cmake --build build-asan -j"$jobs"
  # data.cifar10 and data.cifar100_real read the real data beside their executables: reuse the
  # normal build's copies instead of converting them again.
  local name copy
  for name in cifar10 cifar100; do
    copy=${BUILD_DIR:-build}/tests/$name
    if [ -d "$copy" ] && [ ! -e "build-asan/tests/$name" ]; then
      ln -s "$(realpath "$copy")" "build-asan/tests/$name"
    fi
  done
  (cd build-asan && ctest --output-on-failure -j"$jobs" -LE slow)
}

tsan() {
  sanitized_configure build-tsan thread
  cmake --build build-tsan -j"$jobs" --target retort_threaded_tests
  (cd build-tsan && ctest --output-on-failure -j"$jobs" -L threads)
}

fuzz() {
  bash scripts/fuzz.sh --time "${FUZZ_TIME:-25}"
}

start=$SECONDS
if [ -n "$only" ]; then
  stage "$only" "$only"
else
  stage "build+ctest" normal
  nvcc=$(command -v nvcc || true)
  if [ "${RETORT_SKIP_CUDA:-0}" != 1 ] && { [ -n "$nvcc" ] || [ -x /usr/local/cuda/bin/nvcc ]; }; then
    stage cuda cuda
  else
    echo "test.sh: no CUDA toolkit (or RETORT_SKIP_CUDA=1): the CUDA build is not checked"
  fi
  if [ "${RETORT_SKIP_SANITIZE:-0}" != 1 ]; then
    stage sanitize sanitize
    stage tsan tsan
    stage fuzz fuzz
  fi
fi
t=$((SECONDS - start))
line=$(IFS=';'; echo "${summary[*]}" | sed 's/;/, /g')
if [ "$status" -eq 0 ]; then
  echo "test.sh: PASSED in $((t / 60))m$(printf %02d $((t % 60)))s: $line"
else
  echo "test.sh: FAILED in $((t / 60))m$(printf %02d $((t % 60)))s: $line"
fi
exit "$status"
