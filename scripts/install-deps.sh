#!/usr/bin/env bash
# Installs what Retort's build, tests, examples and peer benchmarks need (Debian 12), including
# graphviz (kd graph dumps rendered to PNG) and gnuplot-nox (the examples' training-curve plots),
# so the tests exercise both, and clang with its sanitizer/libFuzzer runtimes and OpenMP library
# for the fuzzing build (scripts/fuzz.sh; GCC's sanitizer runtimes come with g++), and OpenMPI
# (libopenmpi-dev, openmpi-bin: dist/'s multi-process training and its mpirun tests).
# Idempotent: packages already present are skipped, and apt-get update runs only when
# something is missing.
set -euo pipefail
pkgs=(cmake g++ make libdnnl-dev catch2 nlohmann-json3-dev zlib1g-dev dataset-fashion-mnist
      python3-torch libopenblas0-pthread python3-numpy python3-pil
      graphviz gnuplot-nox clang libclang-rt-dev libomp-dev libopenmpi-dev openmpi-bin)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#pkgs[@]} packages present"
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "install-deps: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
