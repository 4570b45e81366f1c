// libFuzzer target: the CIFAR-100 reader (data/cifar100.h). The input is test.bin; read_cifar100
// must return whole records with labels in range, or throw retort::Error — and the same either way
// for fine and coarse labels, since both label bytes are checked whichever is kept. A split that
// reads is converted to tensors the way training sees it (CifarDataset::get_batch).
#include <numeric>
#include <optional>

#include "data/cifar100.h"
#include "fuzz_input.h"
#include "tensor/error.h"

using namespace retort;
using namespace retort::data;

namespace {

// Reads the split with the given labels; nullopt when the reader refused it.
std::optional<CifarBytes> read(Cifar100Labels labels) {
  try {
    return read_cifar100(Split::Test, fuzz::scratch().dir().string(), labels);
  } catch (const Error&) {
    return std::nullopt;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::scratch().write("test.bin", data, size);
  std::optional<CifarBytes> fine = read(Cifar100Labels::Fine), coarse = read(Cifar100Labels::Coarse);
  if (fine.has_value() != coarse.has_value()) __builtin_trap();
  if (!fine) return 0;
  if (fine->size < 0 || fine->size * kCifar100RecordBytes > static_cast<std::int64_t>(size) ||
      fine->labels.size() != static_cast<std::size_t>(fine->size) ||
      fine->pixels.size() != static_cast<std::size_t>(fine->size * kCifarImageBytes) ||
      coarse->size != fine->size || coarse->pixels != fine->pixels)
    __builtin_trap();
  for (std::size_t i = 0; i < fine->labels.size(); ++i)
    if (fine->labels[i] >= kCifar100FineClasses || coarse->labels[i] >= kCifar100CoarseClasses ||
        data[i * kCifar100RecordBytes] != coarse->labels[i] || data[i * kCifar100RecordBytes + 1] != fine->labels[i])
      __builtin_trap();

  if (fine->size == 0) return 0;
  CifarDataset dataset(std::move(*fine));
  std::vector<std::int64_t> all(static_cast<std::size_t>(dataset.size()));
  std::iota(all.begin(), all.end(), 0);
  Batch b = dataset.get_batch(all);
  if (b.inputs.size(0) != dataset.size()) __builtin_trap();
  return 0;
}
