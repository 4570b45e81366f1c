// What the CIFAR-10 and CIFAR-100 readers share (data/cifar10.h, data/cifar100.h): both releases
// store 32×32 RGB images in the same binary layout, a sequence of fixed-size records
//   L label bytes (CIFAR-10: the class; CIFAR-100: the coarse class, then the fine class)
//   3072 pixel bytes: the 1024 red values, then the 1024 green, then the 1024 blue, each plane a
//                     row-major 32×32 image, already the [C, H, W] order of a tensor image
// so one reader, one byte-keeping Dataset and one conversion to tensors serve both. Use the
// release's own functions (read_cifar10, read_cifar100, …); read_cifar_binary is their engine.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/fashion_mnist.h"  // Split (Train / Test), shared by the dataset readers
#include "tensor/tensor.h"

namespace retort::data {

inline constexpr std::int64_t kCifarImageBytes = 3 * 32 * 32;  // 3072

// The raw bytes of a split: pixels [N, 3, 32, 32] as stored, labels [N] (one label per record).
struct CifarBytes {
  std::int64_t size = 0;
  std::vector<std::uint8_t> pixels;  // size · 3072
  std::vector<std::uint8_t> labels;  // size, each < classes
  std::int64_t classes = 0;          // 10 (CIFAR-10), 100 (CIFAR-100 fine) or 20 (CIFAR-100 coarse)
};

// A split as tensors, converted the way torchvision's ToTensor does (float(byte)/255).
struct CifarImages {
  Tensor images;  // [N, 3, 32, 32] float32, byte/255 ∈ [0, 1]
  Tensor labels;  // [N] int64 in 0..classes−1
};

// One label byte of a record: its name in messages ("label", "coarse label") and its range 0..classes−1.
struct CifarLabelByte {
  const char* name;
  std::int64_t classes;
};

// The files of one split of a release and how to check them.
struct CifarLayout {
  const char* reader;                 // message prefix: "cifar10", "cifar100"
  const char* fetch_script;           // named in messages: "scripts/get-cifar10.sh"
  const char* tarball_folder;         // what the official tarball unpacks into
  std::vector<std::string> files;     // the split's files, in reading order
  std::int64_t file_records;          // records in each official file of the split
  const char* official_files;         // "every CIFAR-10 batch file": subject of "holds N records"
  std::vector<CifarLabelByte> labels;  // the label bytes leading each record, in order
  std::size_t keep = 0;               // which of them is returned as the label
  std::int64_t record_bytes() const { return static_cast<std::int64_t>(labels.size()) + kCifarImageBytes; }
};

// Reads a split from dir: all of it when limit < 0, its first `limit` records when limit > 0. When
// dir holds none of the split's files but has the layout's tarball folder, the files are read from
// there. Checks every file of the split before reading any data, and throws retort::Error —
// returning nothing partial — when files are missing (the message lists them), a file's size is
// not a multiple of the record (naming the file, its size and the record that is cut), the whole
// split is asked for and a file does not hold exactly file_records records (every such file is
// named with its record count), a limit is 0 or exceeds the records the files hold, any label byte
// read is out of its range (whichever is kept: file, label name, record index and the byte offset
// of that label byte), or a read fails. With a positive limit only the records read must be there.
CifarBytes read_cifar_binary(const CifarLayout& layout, Split split, const std::string& dir, std::int64_t limit);

// The records at idx as tensors: images [B, 3, 32, 32] float32 byte/255, labels [B] int64.
CifarImages cifar_to_tensors(const CifarBytes& bytes, const std::vector<std::int64_t>& idx);
// All records of bytes, in order.
CifarImages cifar_to_tensors(const CifarBytes& bytes);

// A Dataset keeping the bytes (150 MB for a train split instead of 600 MB of float32) and
// converting only the requested samples: inputs [B, 3, 32, 32] float32 in [0, 1], targets [B]
// int64. With a DataLoader the conversion runs on the prefetch thread.
class CifarDataset : public Dataset {
 public:
  explicit CifarDataset(CifarBytes bytes) : bytes_(std::move(bytes)) {}
  std::int64_t size() const override { return bytes_.size; }
  Example get(std::int64_t i) const override;
  Batch get_batch(const std::vector<std::int64_t>& indices) const override;
  const CifarBytes& bytes() const { return bytes_; }
  std::int64_t classes() const { return bytes_.classes; }

 private:
  CifarBytes bytes_;
};

}  // namespace retort::data
