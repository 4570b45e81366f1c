#!/usr/bin/env bash
# The GPU checks of the CUDA backend, as one script for a machine with an NVIDIA GPU:
#   1. configure and build the CUDA build (library, [cuda] tests, benchmark, demo), or, with
#      --prebuilt DIR, take the programs of a scripts/gpu-bundle.sh archive unpacked in DIR (for a
#      GPU machine without Retort's build dependencies);
#   2. run the [cuda] tests (every op and KD loss on CUDA vs the CPU reference, training curves);
#   3. the four benchmark workloads on the GPU, Retort then the PyTorch peer on the same GPU;
#   4. when CIFAR-10 is at DATA (default data-cache/cifar10; a bundle's copy is converted there
#      first), the seed experiment on the GPU.
# usage: scripts/gpu-check.sh [--quick] [--prebuilt DIR]     (--quick: steps 1–3 only)
# Env: CUDA_BUILD_DIR (default build-cuda-gpu), JOBS (default nproc), OUT (a folder to copy the
# logs into), PEER (the PyTorch peer script, default ../shared/bench/torch_seed_nets.py, or the
# bundle's), PYTHON (default python3), DATA.
set -uo pipefail
cd "$(dirname "$0")/.."
quick=0
prebuilt=
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --prebuilt) prebuilt=$(realpath "${2:?--prebuilt needs a folder}"); shift ;;
    *) echo "usage: scripts/gpu-check.sh [--quick] [--prebuilt DIR]" >&2; exit 2 ;;
  esac
  shift
done
jobs=${JOBS:-$(nproc)}
logs=${OUT:-gpu-check-logs}
peer=${PEER:-../shared/bench/torch_seed_nets.py}
python=${PYTHON:-python3}
data=${DATA:-data-cache/cifar10}
mkdir -p "$logs"
status=0
step() { echo "== $*"; }
if ! nvidia-smi -L > "$logs/gpu.txt" 2>&1; then
  cat "$logs/gpu.txt"; echo "gpu-check: no NVIDIA GPU here (nvidia-smi -L failed)"; exit 1
fi
cat "$logs/gpu.txt"

if [ -n "$prebuilt" ]; then
  step "prebuilt programs in $prebuilt"
  bin=$prebuilt/bin bench=$prebuilt/bin/retort_bench demo=$prebuilt/bin/cifar10_kd
  [ -f "$prebuilt/peer/torch_seed_nets.py" ] && [ -z "${PEER:-}" ] && peer=$prebuilt/peer/torch_seed_nets.py
  # The bundle's oneDNN, then wherever this machine keeps cuDNN, cuBLAS and the CUDA runtime (the
  # toolkit, or the NVIDIA wheels of its Python).
  cuda_dirs=$(find /usr/local /usr/lib /opt \( -name 'libcudnn.so.9' -o -name 'libcublas.so.13' \
    -o -name 'libcudart.so.13' \) 2>/dev/null | xargs -r -n1 dirname | sort -u | tr '\n' ':')
  export LD_LIBRARY_PATH=$prebuilt/lib:$cuda_dirs${LD_LIBRARY_PATH:-}
  if ldd "$demo" | grep 'not found'; then echo "gpu-check: libraries missing (above)"; exit 1; fi
else
  build=${CUDA_BUILD_DIR:-build-cuda-gpu}
  step "build ($build, -j$jobs)"
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DRETORT_WITH_CUDA=ON > "$logs/configure.log" 2>&1 &&
    cmake --build "$build" -j"$jobs" --target retort retort_cuda_tests retort_bench cifar10_kd \
      > "$logs/build.log" 2>&1 || { tail -40 "$logs/build.log"; echo "gpu-check: build failed"; exit 1; }
  bin=$build/tests bench=$build/bench/retort_bench demo=$build/examples/cifar10_kd
fi

step "[cuda] tests"
: > "$logs/tests.log"
for t in "$bin"/retort_test_cuda_*; do
  if "$t" > "$logs/test.tmp" 2>&1; then r=passed; else r=FAILED; status=1; fi
  # A [cuda] test returns early with this warning when it finds no device: that is no pass.
  if grep -q 'no CUDA device' "$logs/test.tmp"; then r="NOT RUN (no CUDA device)"; status=1; fi
  { echo "=== $(basename "$t"): $r"; cat "$logs/test.tmp"; } >> "$logs/tests.log"
  echo "$(basename "$t"): $r $(grep -E '^(All tests passed|test cases:)' "$logs/test.tmp")"
done
rm -f "$logs/test.tmp"

step "benchmark: Retort on cuda, then PyTorch on cuda"
"$bench" --device cuda --steps 50 2>&1 | tee "$logs/bench_retort.txt"
if [ -f "$peer" ]; then
  "$python" "$peer" 4 50 cuda 2>&1 | tee "$logs/bench_torch.txt"
else
  echo "gpu-check: no peer script at $peer" | tee "$logs/bench_torch.txt"
fi

if [ "$quick" = 0 ]; then
  if [ ! -f "$data/test_batch.bin" ] && [ -n "$prebuilt" ] && [ -f "$prebuilt/data/cifar10-jpeg.tar.xz" ]; then
    step "CIFAR-10 from the bundle into $data"
    tmp=$(mktemp -d)
    tar xJf "$prebuilt/data/cifar10-jpeg.tar.xz" -C "$tmp" &&
      "$python" "$prebuilt/data/cifar10_to_bin.py" "$tmp" "$data" > "$logs/data.log" 2>&1 ||
      { tail -3 "$logs/data.log"; echo "gpu-check: converting the bundle's CIFAR-10 failed (needs Pillow)"; }
    rm -rf "$tmp"
  fi
  if [ -f "$data/test_batch.bin" ]; then
    step "seed experiment on cuda (--full)"
    "$demo" --device cuda --full --cache-teacher-logits --data "$data" --csv "$logs/cifar10_kd.csv" \
      --out "$logs/cifar10_kd_out" 2>&1 | tr '\r' '\n' | grep -v '^ *[a-z_]* epoch [0-9]*/[0-9]* \[' |
      tee "$logs/cifar10_kd.txt" | tail -20
  else
    echo "gpu-check: no CIFAR-10 at $data (scripts/get-cifar10.sh $data makes it); demo skipped"
  fi
fi
echo "gpu-check: logs in $logs; exit $status"
exit $status
