#!/usr/bin/env bash
# Puts CIFAR-100 in its official binary layout into DIR (train.bin: 153,700,000 bytes, test.bin:
# 30,740,000 bytes), the layout data/cifar100.h reads.
# usage: get-cifar100.sh DIR
#   1. DIR already holds both files at the right sizes → nothing to do;
#   2. else, when the bundled copy sits beside the checkout (../shared/data/prepare_cifar100.sh
#      relative to the repository root) → it writes DIR (offline, about 15 s);
#   3. else → downloads cifar-100-binary.tar.gz from the authors' site (CIFAR100_URL overrides the
#      address, e.g. a file:// mirror), checks its MD5 and unpacks it.
set -euo pipefail
dir=${1:?usage: get-cifar100.sh DIR}
files=(train.bin test.bin)
sizes=(153700000 30740000)
url=${CIFAR100_URL:-https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz}
md5=03b5dce01913d631647c71ecec9e9cb8

complete() {
  local i
  for i in "${!files[@]}"; do
    [ -f "$dir/${files[$i]}" ] && [ "$(stat -c %s "$dir/${files[$i]}")" = "${sizes[$i]}" ] || return 1
  done
}

if complete; then
  echo "CIFAR-100 already at $dir"
  exit 0
fi

prepare="$(dirname "$0")/../../shared/data/prepare_cifar100.sh"
if [ -f "$prepare" ]; then
  # It unpacks 60,000 small JPEGs into a temp dir (mktemp): on a disk that is ~30 s of file
  # creation, in RAM (tmpfs) under a second. Use /dev/shm unless TMPDIR is chosen already.
  if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ] &&
     [ "$(df --output=avail -k /dev/shm | tail -1)" -gt 500000 ]; then
    export TMPDIR=/dev/shm
  fi
  bash "$prepare" "$dir"
else
  mkdir -p "$dir"
  tarball="$dir/cifar-100-binary.tar.gz"
  echo "Downloading $url"
  if command -v curl >/dev/null; then
    curl -fL --retry 3 -o "$tarball" "$url"
  elif command -v wget >/dev/null; then
    wget -O "$tarball" "$url"
  else
    echo "get-cifar100.sh: neither curl nor wget is installed" >&2
    exit 1
  fi
  got=$(md5sum "$tarball" | cut -d' ' -f1)
  if [ "$got" != "$md5" ]; then
    rm -f "$tarball"
    echo "get-cifar100.sh: $url: MD5 $got, expected $md5 (corrupt or changed download; deleted)" >&2
    exit 1
  fi
  # The tarball holds cifar-100-binary/ (train.bin, test.bin and the label names); its files go
  # straight into DIR.
  tar xzf "$tarball" -C "$dir" --strip-components=1
  rm -f "$tarball"
fi

if ! complete; then
  echo "get-cifar100.sh: $dir is still incomplete: expected train.bin of ${sizes[0]} bytes and test.bin of ${sizes[1]} bytes" >&2
  exit 1
fi
echo "CIFAR-100 ready at $dir"
