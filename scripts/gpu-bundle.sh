#!/usr/bin/env bash
# Packs the CUDA build's GPU checks into one archive, for a GPU machine that has the NVIDIA driver,
# the CUDA 13 runtime, cuBLAS and cuDNN 9 but none of Retort's build dependencies (a bare image
# with no package registry, as lent GPU machines often are). The archive holds the [cuda] test
# programs, retort_bench and cifar10_kd (stripped), oneDNN's library and what it pulls in beyond
# the C and C++ runtimes, and, when ../shared has them, the PyTorch peer script and the bundled
# CIFAR-10 copy. On the GPU machine, in a checkout of the same commit:
#   mkdir -p /tmp/b && tar xJf BUNDLE -C /tmp/b && scripts/gpu-check.sh --prebuilt /tmp/b
# usage: scripts/gpu-bundle.sh OUT.tar.xz
# Env: CUDA_BUILD_DIR (default build-cuda-bundle), CUDA_ARCHS (default 90: H100, H200), JOBS.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(realpath -m "${1:?usage: scripts/gpu-bundle.sh OUT.tar.xz}")
build=${CUDA_BUILD_DIR:-build-cuda-bundle}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DRETORT_WITH_CUDA=ON \
  -DCMAKE_CUDA_ARCHITECTURES="${CUDA_ARCHS:-90}" > /dev/null
cmake --build "$build" -j"${JOBS:-$(nproc)}" --target retort_cuda_tests retort_bench cifar10_kd > /dev/null
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/lib"
cp "$build"/tests/retort_test_cuda_* "$build/bench/retort_bench" "$build/examples/cifar10_kd" "$stage/bin/"
strip "$stage"/bin/*
# The CUDA libraries come from the GPU machine (they must match its driver); glibc and libstdc++
# are there on any Linux. oneDNN (and the OpenMP and OpenCL loaders it links) usually are not.
ldd "$stage/bin/cifar10_kd" | awk '/=> \// {print $1, $3}' | while read -r name path; do
  case "$name" in libdnnl.so* | libgomp.so* | libOpenCL.so*) cp -L "$path" "$stage/lib/$name" ;; esac
done
if [ -f ../shared/bench/torch_seed_nets.py ]; then
  mkdir -p "$stage/peer"
  cp ../shared/bench/torch_seed_nets.py ../shared/bench/torch_seed_nets_defs.py "$stage/peer/"
fi
if [ -f ../shared/data/cifar10-jpeg.tar.xz ]; then
  mkdir -p "$stage/data"
  cp ../shared/data/cifar10-jpeg.tar.xz ../shared/data/cifar10_to_bin.py "$stage/data/"
fi
tar cJf "$out" -C "$stage" .
echo "gpu-bundle: $out ($(du -h "$out" | cut -f1)): $(ls "$stage/bin" | wc -l) programs, libs: $(ls "$stage/lib" | tr '\n' ' ')"
