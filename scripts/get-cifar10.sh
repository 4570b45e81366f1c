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
here=$(dirname "$0")
source "$here/lib/get_cifar.sh"
# The tarball holds cifar-10-batches-bin/; its files go straight into DIR.
get_cifar get-cifar10.sh CIFAR-10 "$dir" "$here/../../shared/data/prepare_cifar10.sh" \
  "${CIFAR10_URL:-https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz}" c32a1d4ab5d03f1284b67883e8d87530 \
  data_batch_1.bin:30730000 data_batch_2.bin:30730000 data_batch_3.bin:30730000 data_batch_4.bin:30730000 \
  data_batch_5.bin:30730000 test_batch.bin:30730000
