// The CIFAR binary-layout reader shared by CIFAR-10 and CIFAR-100 (see cifar_binary.h). All files
// of a split are checked (present, whole records) before any data is read, so a broken download
// fails at once with every problem named instead of after seconds of reading; the result is built
// in locals and returned only when complete.
#include "data/cifar_binary.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "tensor/error.h"
#include "tensor/views.h"

namespace retort::data {

namespace fs = std::filesystem;

namespace {

// A user who unpacked the official tarball by hand passes the directory it was unpacked in; its
// files are one level down, in the tarball's folder. That folder is used only when dir itself
// holds none of the split's files, so a partial copy in dir is still reported as such.
fs::path split_dir(const std::string& dir, const CifarLayout& layout) {
  std::error_code ec;
  for (const auto& name : layout.files)
    if (fs::exists(fs::path(dir) / name, ec)) return dir;
  const fs::path nested = fs::path(dir) / layout.tarball_folder;
  return fs::is_directory(nested, ec) ? nested : fs::path(dir);
}

}  // namespace

CifarBytes read_cifar_binary(const CifarLayout& layout, Split split, const std::string& dir_arg,
                             std::int64_t limit) {
  const char* reader = layout.reader;
  const char* split_name = split == Split::Train ? "train" : "test";
  const std::int64_t record_bytes = layout.record_bytes();
  const std::string dir = split_dir(dir_arg, layout).string();
  std::vector<std::string> paths, missing;
  for (const auto& name : layout.files) {
    paths.push_back((fs::path(dir) / name).string());
    std::error_code ec;
    if (!fs::is_regular_file(paths.back(), ec)) missing.push_back(name);
  }
  if (!missing.empty()) {
    std::string list;
    for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
    fail(reader, ": ", dir, ": missing ", list, " (", missing.size(), " of the ", layout.files.size(),
         " files of the ", split_name, " split; ", layout.fetch_script, " DIR fetches them)");
  }

  std::vector<std::int64_t> records;
  std::int64_t total = 0;
  std::string short_files;
  for (const auto& path : paths) {
    const auto bytes = static_cast<std::int64_t>(fs::file_size(path));
    RETORT_CHECK(bytes % record_bytes == 0, reader, ": ", path, ": size ", bytes, " bytes is not a multiple of the ",
                 record_bytes, "-byte record: record ", bytes / record_bytes, " is truncated (",
                 bytes % record_bytes, " of ", record_bytes, " bytes)");
    records.push_back(bytes / record_bytes);
    total += records.back();
    if (records.back() != layout.file_records)
      short_files += (short_files.empty() ? "" : "; ") + path + " holds " + std::to_string(records.back()) +
                     " records (" + std::to_string(bytes) + " bytes)";
  }
  // The whole split is the official one or an error: a copy cut at a record boundary (or an
  // empty file) would otherwise train or evaluate on whatever is left without a word.
  RETORT_CHECK(limit != 0, reader, ": ", dir, ": a limit of 0 records asks for an empty ", split_name,
               " split (use a positive limit for a subset, or none for the whole split)");
  RETORT_CHECK(limit > 0 || short_files.empty(), reader, ": ", dir, ": incomplete ", split_name, " split: ",
               short_files, "; ", layout.official_files, " holds ", layout.file_records, " records (",
               layout.file_records * record_bytes, " bytes). Re-fetch it (", layout.fetch_script,
               " DIR), or ask for a subset with a positive limit");
  RETORT_CHECK(limit < 0 || limit <= total, reader, ": ", dir, ": ", limit, " records of the ", split_name,
               " split asked for, but its files hold ", total);

  const std::size_t label_bytes = layout.labels.size();
  CifarBytes out;
  out.classes = layout.labels.at(layout.keep).classes;
  out.size = limit < 0 ? total : std::min(limit, total);
  out.pixels.resize(static_cast<std::size_t>(out.size * kCifarImageBytes));
  out.labels.resize(static_cast<std::size_t>(out.size));
  std::vector<std::uint8_t> buf;
  std::int64_t done = 0;
  for (std::size_t f = 0; f < paths.size() && done < out.size; ++f) {
    const std::int64_t n = std::min(records[f], out.size - done);
    buf.resize(static_cast<std::size_t>(n * record_bytes));
    std::ifstream in(paths[f], std::ios::binary);
    in.read(reinterpret_cast<char*>(buf.data()), static_cast<std::streamsize>(buf.size()));
    RETORT_CHECK(in.gcount() == static_cast<std::streamsize>(buf.size()), reader, ": ", paths[f],
                 ": read failed after ", in.gcount(), " of ", buf.size(), " bytes (", n, " records)");
    for (std::int64_t r = 0; r < n; ++r) {
      const std::uint8_t* rec = buf.data() + r * record_bytes;
      // Every label byte is checked, the one not kept too: a record with a broken coarse label
      // is a broken record whichever label the caller trains on.
      for (std::size_t j = 0; j < label_bytes; ++j)
        RETORT_CHECK(rec[j] < layout.labels[j].classes, reader, ": ", paths[f], ": ", layout.labels[j].name, " ",
                     int{rec[j]}, " at record ", r, " (byte offset ", r * record_bytes + static_cast<std::int64_t>(j),
                     "), expected 0..", layout.labels[j].classes - 1);
      out.labels[static_cast<std::size_t>(done + r)] = rec[layout.keep];
      std::memcpy(out.pixels.data() + (done + r) * kCifarImageBytes, rec + label_bytes, kCifarImageBytes);
    }
    done += n;
  }
  return out;
}

CifarImages cifar_to_tensors(const CifarBytes& bytes, const std::vector<std::int64_t>& idx) {
  const auto b = static_cast<std::int64_t>(idx.size());
  CifarImages out{empty({b, 3, 32, 32}, kFloat32), empty({b}, kInt64)};
  float* px = out.images.data<float>();
  std::int64_t* lb = out.labels.data<std::int64_t>();
  for (std::int64_t k = 0; k < b; ++k) {
    const std::uint8_t* src = bytes.pixels.data() + idx[static_cast<std::size_t>(k)] * kCifarImageBytes;
    float* dst = px + k * kCifarImageBytes;
    // Division (not multiplication by 1/255) matches torchvision's ToTensor bit for bit.
    for (std::int64_t i = 0; i < kCifarImageBytes; ++i) dst[i] = static_cast<float>(src[i]) / 255.0f;
    lb[k] = bytes.labels[static_cast<std::size_t>(idx[static_cast<std::size_t>(k)])];
  }
  return out;
}

CifarImages cifar_to_tensors(const CifarBytes& bytes) {
  std::vector<std::int64_t> all(static_cast<std::size_t>(bytes.size));
  for (std::int64_t i = 0; i < bytes.size; ++i) all[static_cast<std::size_t>(i)] = i;
  return cifar_to_tensors(bytes, all);
}

Example CifarDataset::get(std::int64_t i) const {
  check_index("CifarDataset::get", i, size());
  CifarImages one = cifar_to_tensors(bytes_, {i});
  return Example{ops::select(one.images, 0, 0), ops::select(one.labels, 0, 0)};
}

Batch CifarDataset::get_batch(const std::vector<std::int64_t>& indices) const {
  for (auto i : indices) check_index("CifarDataset::get_batch", i, size());
  CifarImages b = cifar_to_tensors(bytes_, indices);
  return Batch{std::move(b.images), std::move(b.labels),
               from_vector(indices, {static_cast<std::int64_t>(indices.size())})};
}

}  // namespace retort::data
