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
here=$(dirname "$0")
source "$here/lib/get_cifar.sh"
# The tarball holds cifar-100-binary/ (train.bin, test.bin and the label names); its files go
# straight into DIR.
get_cifar get-cifar100.sh CIFAR-100 "$dir" "$here/../../shared/data/prepare_cifar100.sh" \
  "${CIFAR100_URL:-https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz}" 03b5dce01913d631647c71ecec9e9cb8 \
  train.bin:153700000 test.bin:30740000
