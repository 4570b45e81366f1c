// CIFAR-10 (Krizhevsky, 2009): 32×32 RGB images in 10 classes, 50,000 for training and 10,000
// for testing, in the official binary layout (cifar-10-binary.tar.gz; scripts/get-cifar10.sh DIR
// fetches or prepares it). One directory holds
//   data_batch_1.bin … data_batch_5.bin   the train split, in that order
//   test_batch.bin                        the test split
// each a sequence of 3073-byte records: 1 label byte (0..9), then 3072 pixel bytes — the 1024 red
// values, then the 1024 green, then the 1024 blue, each plane a row-major 32×32 image. That is
// already the [C, H, W] order of a tensor image, so a record's pixels map to [3, 32, 32] as is.
// The reader, the tensors and the Dataset are the ones CIFAR-100 uses too (data/cifar_binary.h).
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "data/cifar_binary.h"

namespace retort::data {

inline constexpr std::int64_t kCifar10Classes = 10;
inline constexpr std::int64_t kCifar10ImageBytes = kCifarImageBytes;              // 3072
inline constexpr std::int64_t kCifar10RecordBytes = 1 + kCifar10ImageBytes;       // 3073
inline constexpr std::int64_t kCifar10FileRecords = 10000;                         // per official file
inline constexpr std::int64_t kCifar10FileBytes = kCifar10FileRecords * kCifar10RecordBytes;  // 30,730,000

// The files of a split, in reading order.
std::vector<std::string> cifar10_files(Split split);

// The raw bytes of a split: pixels [N, 3, 32, 32] as stored, labels [N] each < 10; classes = 10.
using Cifar10Bytes = CifarBytes;

// The folder cifar-10-binary.tar.gz unpacks into.
inline constexpr const char* kCifar10TarballFolder = "cifar-10-batches-bin";

// Reads a split from dir: all of it when limit < 0, its first `limit` records when limit > 0. When
// dir holds none of the split's files but has a cifar-10-batches-bin/ folder (the tarball unpacked
// into dir), the files are read from there. Checks every file of the split before reading any
// data, and throws retort::Error — returning nothing partial — when files are missing (the
// message lists them), a file's size is not a multiple of 3073 (naming the file, its size and the
// record that is cut), the whole split is asked for and a file does not hold exactly 10,000
// records (an empty or cut-short copy: every such file is named with its record count), a limit
// is 0 (an empty split) or exceeds the records the files hold, a label read is ≥ 10 (file, record
// index and byte offset), or a read fails. With a positive limit only the records read must be
// there: a subset asked for explicitly may come from smaller files.
Cifar10Bytes read_cifar10(Split split, const std::string& dir, std::int64_t limit = -1);

// images [N, 3, 32, 32] float32 in [0, 1], labels [N] int64 in 0..9.
using Cifar10 = CifarImages;

// read_cifar10 converted to tensors the way torchvision's ToTensor does (float(byte)/255).
Cifar10 load_cifar10(Split split, const std::string& dir, std::int64_t limit = -1);

// airplane, automobile, bird, cat, deer, dog, frog, horse, ship, truck: the names of labels 0..9.
const std::array<const char*, kCifar10Classes>& cifar10_class_names();
const char* cifar10_class_name(std::int64_t label);

// The byte-keeping CifarDataset (data/cifar_binary.h) over a CIFAR-10 split.
class Cifar10Dataset : public CifarDataset {
 public:
  using CifarDataset::CifarDataset;
  Cifar10Dataset(Split split, const std::string& dir, std::int64_t limit = -1);
};

}  // namespace retort::data
