// CIFAR-10 reader (see cifar10.h). All files of a split are checked (present, whole records)
// before any data is read, so a broken download fails at once with every problem named instead
// of after seconds of reading; the result is built in locals and returned only when complete.
#include "data/cifar10.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "tensor/error.h"
#include "tensor/views.h"

namespace retort::data {

namespace fs = std::filesystem;

std::vector<std::string> cifar10_files(Split split) {
  if (split == Split::Test) return {"test_batch.bin"};
  return {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"};
}

namespace {

// A user who unpacked cifar-10-binary.tar.gz by hand passes the directory the tarball was unpacked
// in; its files are one level down, in cifar-10-batches-bin/. That folder is used only when dir
// itself holds none of the split's files, so a partial copy in dir is still reported as such.
fs::path split_dir(const std::string& dir, const std::vector<std::string>& names) {
  std::error_code ec;
  for (const auto& name : names)
    if (fs::exists(fs::path(dir) / name, ec)) return dir;
  const fs::path nested = fs::path(dir) / kCifar10TarballFolder;
  return fs::is_directory(nested, ec) ? nested : fs::path(dir);
}

}  // namespace

Cifar10Bytes read_cifar10(Split split, const std::string& dir_arg, std::int64_t limit) {
  const std::vector<std::string> names = cifar10_files(split);
  const std::string dir = split_dir(dir_arg, names).string();
  std::vector<std::string> paths, missing;
  for (const auto& name : names) {
    paths.push_back((fs::path(dir) / name).string());
    std::error_code ec;
    if (!fs::is_regular_file(paths.back(), ec)) missing.push_back(name);
  }
  if (!missing.empty()) {
    std::string list;
    for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
    fail("cifar10: ", dir, ": missing ", list, " (", missing.size(), " of the ", names.size(), " files of the ",
         split == Split::Train ? "train" : "test", " split; scripts/get-cifar10.sh DIR fetches them)");
  }

  const char* split_name = split == Split::Train ? "train" : "test";
  std::vector<std::int64_t> records;
  std::int64_t total = 0;
  std::string short_files;
  for (const auto& path : paths) {
    const auto bytes = static_cast<std::int64_t>(fs::file_size(path));
    RETORT_CHECK(bytes % kCifar10RecordBytes == 0, "cifar10: ", path, ": size ", bytes,
                 " bytes is not a multiple of the ", kCifar10RecordBytes, "-byte record: record ",
                 bytes / kCifar10RecordBytes, " is truncated (", bytes % kCifar10RecordBytes, " of ",
                 kCifar10RecordBytes, " bytes)");
    records.push_back(bytes / kCifar10RecordBytes);
    total += records.back();
    if (records.back() != kCifar10FileRecords)
      short_files += (short_files.empty() ? "" : "; ") + path + " holds " + std::to_string(records.back()) +
                     " records (" + std::to_string(bytes) + " bytes)";
  }
  // The whole split is the official one or an error: a copy cut at a record boundary (or an
  // empty file) would otherwise train or evaluate on whatever is left without a word.
  RETORT_CHECK(limit != 0, "cifar10: ", dir, ": a limit of 0 records asks for an empty ", split_name,
               " split (use a positive limit for a subset, or none for the whole split)");
  RETORT_CHECK(limit > 0 || short_files.empty(), "cifar10: ", dir, ": incomplete ", split_name, " split: ",
               short_files, "; every CIFAR-10 batch file holds ", kCifar10FileRecords, " records (",
               kCifar10FileBytes, " bytes). Re-fetch it (scripts/get-cifar10.sh DIR), or ask for a subset with a "
               "positive limit");
  RETORT_CHECK(limit < 0 || limit <= total, "cifar10: ", dir, ": ", limit, " records of the ", split_name,
               " split asked for, but its files hold ", total);

  Cifar10Bytes out;
  out.size = limit < 0 ? total : std::min(limit, total);
  out.pixels.resize(static_cast<std::size_t>(out.size * kCifar10ImageBytes));
  out.labels.resize(static_cast<std::size_t>(out.size));
  std::vector<std::uint8_t> buf;
  std::int64_t done = 0;
  for (std::size_t f = 0; f < paths.size() && done < out.size; ++f) {
    const std::int64_t n = std::min(records[f], out.size - done);
    buf.resize(static_cast<std::size_t>(n * kCifar10RecordBytes));
    std::ifstream in(paths[f], std::ios::binary);
    in.read(reinterpret_cast<char*>(buf.data()), static_cast<std::streamsize>(buf.size()));
    RETORT_CHECK(in.gcount() == static_cast<std::streamsize>(buf.size()), "cifar10: ", paths[f],
                 ": read failed after ", in.gcount(), " of ", buf.size(), " bytes (", n, " records)");
    for (std::int64_t r = 0; r < n; ++r) {
      const std::uint8_t* rec = buf.data() + r * kCifar10RecordBytes;
      RETORT_CHECK(rec[0] < kCifar10Classes, "cifar10: ", paths[f], ": label ", int{rec[0]}, " at record ", r,
                   " (byte offset ", r * kCifar10RecordBytes, "), expected 0..9");
      out.labels[static_cast<std::size_t>(done + r)] = rec[0];
      std::memcpy(out.pixels.data() + (done + r) * kCifar10ImageBytes, rec + 1, kCifar10ImageBytes);
    }
    done += n;
  }
  return out;
}

namespace {

// images[k] = pixels of record idx[k] / 255 (float32), labels[k] = its label (int64).
Cifar10 convert(const Cifar10Bytes& bytes, const std::vector<std::int64_t>& idx) {
  const auto b = static_cast<std::int64_t>(idx.size());
  Cifar10 out{empty({b, 3, 32, 32}, kFloat32), empty({b}, kInt64)};
  float* px = out.images.data<float>();
  std::int64_t* lb = out.labels.data<std::int64_t>();
  for (std::int64_t k = 0; k < b; ++k) {
    const std::uint8_t* src = bytes.pixels.data() + idx[static_cast<std::size_t>(k)] * kCifar10ImageBytes;
    float* dst = px + k * kCifar10ImageBytes;
    // Division (not multiplication by 1/255) matches torchvision's ToTensor bit for bit.
    for (std::int64_t i = 0; i < kCifar10ImageBytes; ++i) dst[i] = static_cast<float>(src[i]) / 255.0f;
    lb[k] = bytes.labels[static_cast<std::size_t>(idx[static_cast<std::size_t>(k)])];
  }
  return out;
}

}  // namespace

Cifar10 load_cifar10(Split split, const std::string& dir, std::int64_t limit) {
  const Cifar10Bytes bytes = read_cifar10(split, dir, limit);
  std::vector<std::int64_t> all(static_cast<std::size_t>(bytes.size));
  for (std::int64_t i = 0; i < bytes.size; ++i) all[static_cast<std::size_t>(i)] = i;
  return convert(bytes, all);
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
    : bytes_(read_cifar10(split, dir, limit)) {}

Example Cifar10Dataset::get(std::int64_t i) const {
  check_index("Cifar10Dataset::get", i, size());
  Cifar10 one = convert(bytes_, {i});
  return Example{ops::select(one.images, 0, 0), ops::select(one.labels, 0, 0)};
}

Batch Cifar10Dataset::get_batch(const std::vector<std::int64_t>& indices) const {
  for (auto i : indices) check_index("Cifar10Dataset::get_batch", i, size());
  Cifar10 b = convert(bytes_, indices);
  return Batch{std::move(b.images), std::move(b.labels),
               from_vector(indices, {static_cast<std::int64_t>(indices.size())})};
}

}  // namespace retort::data
