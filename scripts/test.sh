#!/usr/bin/env bash
# The README's test command: installs what is missing, builds Retort (Release, oneDNN on) with its
# tests, examples and benchmark, and runs every test with ctest. Safe to run again: the build is
# incremental. BUILD_DIR overrides the build folder (default: build).
#
# When the CUDA toolkit is present (nvcc on PATH or in /usr/local/cuda/bin) it then configures a
# second build with -DRETORT_WITH_CUDA=ON (CUDA_BUILD_DIR, default build-cuda), compiles the
# library, the benchmark, the demo and the [cuda] tests, and runs those tests: on a machine without
# a GPU each one WARNs "no CUDA device" and passes, so this step proves the backend builds and
# links. RETORT_SKIP_CUDA=1 skips it.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
jobs=$(nproc)
bash scripts/install-deps.sh
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release
cmake --build "$build" -j"$jobs"
(cd "$build" && ctest --output-on-failure -j"$jobs")

nvcc=$(command -v nvcc || true)
[ -z "$nvcc" ] && [ -x /usr/local/cuda/bin/nvcc ] && nvcc=/usr/local/cuda/bin/nvcc
if [ -n "$nvcc" ] && [ "${RETORT_SKIP_CUDA:-0}" != 1 ]; then
  cuda_build=${CUDA_BUILD_DIR:-build-cuda}
  echo "test.sh: CUDA toolkit found ($nvcc): building the CUDA backend in $cuda_build"
  cmake -S . -B "$cuda_build" -DCMAKE_BUILD_TYPE=Release -DRETORT_WITH_CUDA=ON \
        -DCMAKE_CUDA_COMPILER="$nvcc" -DRETORT_BUILD_EXAMPLES=ON -DRETORT_BUILD_BENCH=ON
  cmake --build "$cuda_build" -j"$jobs" --target retort retort_bench cifar10_kd retort_cuda_tests
  (cd "$cuda_build" && ctest --output-on-failure -j"$jobs" -R '^cuda\.')
else
  echo "test.sh: no CUDA toolkit (or RETORT_SKIP_CUDA=1): the CUDA build is not checked"
fi
