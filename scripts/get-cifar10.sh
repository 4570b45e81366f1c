#!/usr/bin/env bash
# Puts CIFAR-10 in its official binary layout into DIR (data_batch_1.bin … data_batch_5.bin,
# test_batch.bin: 30,730,000 bytes each), the layout data/cifar10.h reads.
# usage: get-cifar10.sh DIR
#   1. DIR already holds the six files at the right sizes → nothing to do;
#   2. else, when the bundled copy sits beside the checkout (../shared/data/prepare_cifar10.sh
#      relative to the repository root) → it writes DIR (offline, about 10 s);
#   3. else → downloads cifar-10-binary.tar.gz from the authors' site (CIFAR10_URL overrides the
#      address, e.g. a file:// mirror), checks its MD5 and unpacks it.
set -euo pipefail
dir=${1:?usage: get-cifar10.sh DIR}
files=(data_batch_1.bin data_batch_2.bin data_batch_3.bin data_batch_4.bin data_batch_5.bin test_batch.bin)
size=30730000
url=${CIFAR10_URL:-https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz}
md5=c32a1d4ab5d03f1284b67883e8d87530

complete() {
  local f
  for f in "${files[@]}"; do
    [ -f "$dir/$f" ] && [ "$(stat -c %s "$dir/$f")" = "$size" ] || return 1
  done
}

if complete; then
  echo "CIFAR-10 already at $dir"
  exit 0
fi

prepare="$(dirname "$0")/../../shared/data/prepare_cifar10.sh"
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
  tarball="$dir/cifar-10-binary.tar.gz"
  echo "Downloading $url"
  if command -v curl >/dev/null; then
    curl -fL --retry 3 -o "$tarball" "$url"
  elif command -v wget >/dev/null; then
    wget -O "$tarball" "$url"
  else
    echo "get-cifar10.sh: neither curl nor wget is installed" >&2
    exit 1
  fi
  got=$(md5sum "$tarball" | cut -d' ' -f1)
  if [ "$got" != "$md5" ]; then
    rm -f "$tarball"
    echo "get-cifar10.sh: $url: MD5 $got, expected $md5 (corrupt or changed download; deleted)" >&2
    exit 1
  fi
  # The tarball holds cifar-10-batches-bin/; its files go straight into DIR.
  tar xzf "$tarball" -C "$dir" --strip-components=1
  rm -f "$tarball"
fi

if ! complete; then
  echo "get-cifar10.sh: $dir is still incomplete: expected ${files[*]} of $size bytes each" >&2
  exit 1
fi
echo "CIFAR-10 ready at $dir"
