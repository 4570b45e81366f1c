# Sourced by the smoke tests: smoke_data SOURCE_DIR DATA_DIR NAME prepares the CIFAR-10 copy in
# DATA_DIR (scripts/get-cifar10.sh) and returns 0; without ../shared beside the checkout and no
# copy already there, there is no offline data: it says so for NAME and returns 1 (the test then
# passes without running). A failed preparation exits with 1.
smoke_data() {
  local src=$1 data=$2 name=$3
  if [ ! -f "$src/../shared/data/prepare_cifar10.sh" ] && [ ! -f "$data/test_batch.bin" ]; then
    echo "WARNING: no CIFAR-10 copy (../shared/data absent): $name smoke test not run"
    return 1
  fi
  # A failed preparation fails the test (exit, not return: the caller's `|| exit 0` must not
  # turn it into a pass).
  bash "$src/scripts/get-cifar10.sh" "$data" >/dev/null || {
    echo "smoke_data: scripts/get-cifar10.sh $data failed" >&2
    exit 1
  }
}
