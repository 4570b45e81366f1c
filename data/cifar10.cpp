// CIFAR-10 reader (see cifar10.h): the file names, record size and label range of the release;
// the reading and checking is data/cifar_binary.cpp's, shared with CIFAR-100.
#include "data/cifar10.h"

#include "tensor/error.h"

namespace retort::data {

std::vector<std::string> cifar10_files(Split split) {
  if (split == Split::Test) return {"test_batch.bin"};
  return {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"};
}

namespace {

// One label byte per record; every batch file of either split holds 10,000 records.
CifarLayout layout(Split split) {
  return CifarLayout{"cifar10", "scripts/get-cifar10.sh", kCifar10TarballFolder, cifar10_files(split),
                     kCifar10FileRecords, "every CIFAR-10 batch file", {{"label", kCifar10Classes}}, 0};
}

}  // namespace

Cifar10Bytes read_cifar10(Split split, const std::string& dir, std::int64_t limit) {
  return read_cifar_binary(layout(split), split, dir, limit);
}

Cifar10 load_cifar10(Split split, const std::string& dir, std::int64_t limit) {
  return cifar_to_tensors(read_cifar10(split, dir, limit));
}

const std::array<const char*, kCifar10Classes>& cifar10_class_names() {
  static constexpr std::array<const char*, kCifar10Classes> kNames = {
      "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"};
  return kNames;
}

const char* cifar10_class_name(std::int64_t label) {
  RETORT_CHECK(label >= 0 && label < kCifar10Classes, "cifar10_class_name: label ", label, " is not in 0..9");
  return cifar10_class_names()[static_cast<std::size_t>(label)];
}

Cifar10Dataset::Cifar10Dataset(Split split, const std::string& dir, std::int64_t limit)
    : CifarDataset(read_cifar10(split, dir, limit)) {}

}  // namespace retort::data
