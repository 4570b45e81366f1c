// libFuzzer target: the CIFAR-10 batch reader (data/cifar10.h). The input is test_batch.bin;
// read_cifar10 must return whole records with labels in 0..9, or throw retort::Error. A split
// that reads is converted to tensors the way training sees it (Cifar10Dataset::get_batch).
#include <numeric>

#include "data/cifar10.h"
#include "fuzz_input.h"
#include "tensor/error.h"

using namespace retort;
using namespace retort::data;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto& scratch = fuzz::scratch();
  scratch.write("test_batch.bin", data, size);
  Cifar10Bytes bytes;
  try {
    bytes = read_cifar10(Split::Test, scratch.dir().string());
  } catch (const Error&) {
    return 0;
  }
  if (bytes.size < 0 || bytes.size * kCifar10RecordBytes > static_cast<std::int64_t>(size) ||
      bytes.labels.size() != static_cast<std::size_t>(bytes.size) ||
      bytes.pixels.size() != static_cast<std::size_t>(bytes.size * kCifar10ImageBytes))
    __builtin_trap();
  for (auto l : bytes.labels)
    if (l >= kCifar10Classes) __builtin_trap();

  if (bytes.size == 0) return 0;
  Cifar10Dataset dataset(std::move(bytes));
  std::vector<std::int64_t> all(static_cast<std::size_t>(dataset.size()));
  std::iota(all.begin(), all.end(), 0);
  Batch b = dataset.get_batch(all);
  if (b.inputs.size(0) != dataset.size()) __builtin_trap();
  return 0;
}
