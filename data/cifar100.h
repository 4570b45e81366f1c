// CIFAR-100 (Krizhevsky, 2009): 32×32 RGB images in 100 fine classes grouped into 20 coarse
// superclasses, 50,000 for training and 10,000 for testing (500 / 100 per fine class), in the
// official binary layout (cifar-100-binary.tar.gz; scripts/get-cifar100.sh DIR fetches or
// prepares it). One directory holds
//   train.bin   the train split, 50,000 records
//   test.bin    the test split, 10,000 records
// each a sequence of 3074-byte records: 1 coarse label byte (0..19), 1 fine label byte (0..99),
// then 3072 pixel bytes in CIFAR-10's order (R, G, B planes, each row-major 32×32 = [3, 32, 32]).
// The result types and the Dataset are CIFAR-10's (data/cifar_binary.h), so loaders, transforms
// and the training code take either release.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "data/cifar_binary.h"

namespace retort::data {

inline constexpr std::int64_t kCifar100FineClasses = 100;
inline constexpr std::int64_t kCifar100CoarseClasses = 20;
inline constexpr std::int64_t kCifar100RecordBytes = 2 + kCifarImageBytes;                           // 3074
inline constexpr std::int64_t kCifar100TrainRecords = 50000;                                         // train.bin
inline constexpr std::int64_t kCifar100TestRecords = 10000;                                          // test.bin
inline constexpr std::int64_t kCifar100TrainBytes = kCifar100TrainRecords * kCifar100RecordBytes;  // 153,700,000
inline constexpr std::int64_t kCifar100TestBytes = kCifar100TestRecords * kCifar100RecordBytes;    // 30,740,000

// Which of a record's two labels is returned: the fine class (0..99, the usual CIFAR-100
// benchmark) or its coarse superclass (0..19).
enum class Cifar100Labels { Fine, Coarse };

// The files of a split: {"train.bin"} or {"test.bin"}.
std::vector<std::string> cifar100_files(Split split);

// The folder cifar-100-binary.tar.gz unpacks into.
inline constexpr const char* kCifar100TarballFolder = "cifar-100-binary";

// Reads a split from dir: all of it when limit < 0, its first `limit` records when limit > 0, with
// the fine or the coarse label of each record (bytes.classes = 100 or 20). When dir holds none of
// the split's files but has a cifar-100-binary/ folder (the tarball unpacked into dir), the files
// are read from there. Checked as CIFAR-10 is (data/cifar_binary.h), throwing retort::Error and
// returning nothing partial: a missing file; a size that is not a multiple of 3074 (file, size and
// the record that is cut); without a limit, a file not holding exactly its 50,000 / 10,000
// records; a limit of 0 or above the records present; a coarse label ≥ 20 or a fine label ≥ 100
// in any record read — both are checked whichever is returned (file, record index, byte offset
// of the label byte); a failed read.
CifarBytes read_cifar100(Split split, const std::string& dir, Cifar100Labels labels = Cifar100Labels::Fine,
                         std::int64_t limit = -1);

// read_cifar100 converted to tensors the way torchvision's ToTensor does (float(byte)/255):
// images [N, 3, 32, 32] float32 in [0, 1], labels [N] int64 in 0..99 (fine) or 0..19 (coarse).
CifarImages load_cifar100(Split split, const std::string& dir, Cifar100Labels labels = Cifar100Labels::Fine,
                          std::int64_t limit = -1);

// The release's names of fine labels 0..99 (apple, aquarium_fish, …, worm) and coarse labels
// 0..19 (aquatic_mammals, fish, …, vehicles_2), as in fine_label_names.txt / coarse_label_names.txt.
const std::array<const char*, kCifar100FineClasses>& cifar100_fine_class_names();
const std::array<const char*, kCifar100CoarseClasses>& cifar100_coarse_class_names();
// The name of a label of the given kind; throws naming the range when it is out of it.
const char* cifar100_class_name(std::int64_t label, Cifar100Labels labels = Cifar100Labels::Fine);

// The byte-keeping CifarDataset (data/cifar_binary.h) over a CIFAR-100 split.
class Cifar100Dataset : public CifarDataset {
 public:
  using CifarDataset::CifarDataset;
  Cifar100Dataset(Split split, const std::string& dir, Cifar100Labels labels = Cifar100Labels::Fine,
                  std::int64_t limit = -1);
};

}  // namespace retort::data
