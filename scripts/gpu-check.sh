#!/usr/bin/env bash
# The GPU checks of the CUDA backend, as one script for a machine with an NVIDIA GPU:
#   1. configure and build the CUDA build (library, [cuda] tests, benchmark, demo);
#   2. run the [cuda] tests (every op and KD loss on CUDA vs the CPU reference, training curves);
#   3. the four benchmark workloads on the GPU, Retort then the PyTorch peer on the same GPU;
#   4. when CIFAR-10 is at DATA (default data-cache/cifar10), the seed experiment on the GPU.
# usage: scripts/gpu-check.sh [--quick]     (--quick: steps 1–3 only)
# Env: CUDA_BUILD_DIR (default build-cuda-gpu), JOBS (default nproc), OUT (a folder to copy the
# logs into), PEER (the PyTorch peer script, default ../shared/bench/torch_seed_nets.py),
# PYTHON (default python3), DATA.
set -uo pipefail
cd "$(dirname "$0")/.."
build=${CUDA_BUILD_DIR:-build-cuda-gpu}
jobs=${JOBS:-$(nproc)}
logs=${OUT:-gpu-check-logs}
peer=${PEER:-../shared/bench/torch_seed_nets.py}
python=${PYTHON:-python3}
data=${DATA:-data-cache/cifar10}
mkdir -p "$logs"
status=0
step() { echo "== $*"; }

step "build ($build, -j$jobs)"
nvidia-smi -L 2>&1 | tee "$logs/gpu.txt"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DRETORT_WITH_CUDA=ON > "$logs/configure.log" 2>&1 &&
  cmake --build "$build" -j"$jobs" --target retort retort_cuda_tests retort_bench cifar10_kd \
    > "$logs/build.log" 2>&1 || { tail -40 "$logs/build.log"; echo "gpu-check: build failed"; exit 1; }

step "[cuda] tests"
(cd "$build" && ctest -R '^cuda\.' --output-on-failure -j4) 2>&1 | tee "$logs/ctest.log" | tail -25
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1

step "benchmark: Retort on cuda, then PyTorch on cuda"
"$build/bench/retort_bench" --device cuda --steps 50 2>&1 | tee "$logs/bench_retort.txt"
if [ -f "$peer" ]; then
  "$python" "$peer" 4 50 cuda 2>&1 | tee "$logs/bench_torch.txt"
else
  echo "gpu-check: no peer script at $peer" | tee "$logs/bench_torch.txt"
fi

if [ "${1:-}" != "--quick" ]; then
  if [ -f "$data/test_batch.bin" ]; then
    step "seed experiment on cuda (--full)"
    "$build/examples/cifar10_kd" --device cuda --full --data "$data" --csv "$logs/cifar10_kd.csv" \
      --out "$logs/cifar10_kd_out" 2>&1 | tr '\r' '\n' | grep -v '^ *batch' | tee "$logs/cifar10_kd.txt" | tail -20
  else
    echo "gpu-check: no CIFAR-10 at $data (scripts/get-cifar10.sh $data makes it); demo skipped"
  fi
fi
echo "gpu-check: logs in $logs; exit $status"
exit $status
