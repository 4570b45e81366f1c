// Writing safetensors files (format in serialization.h). The file is assembled in "<path>.tmp",
// flushed to disk, and renamed over <path>: rename is atomic on POSIX, so readers see either the
// old checkpoint or the complete new one.
#include <unistd.h>

#include <bit>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "nn/serialization.h"
#include "tensor/error.h"

namespace retort::nn {

static_assert(std::endian::native == std::endian::little,
              "safetensors stores little-endian data; big-endian hosts would need byte swaps");

namespace {

const char* st_dtype(DType t) {
  switch (t) {
    case DType::Float32:
      return "F32";
    case DType::Float64:
      return "F64";
    case DType::Int64:
      return "I64";
  }
  return "?";
}

// Writes all of buf or throws; also used for the header and the length prefix.
void write_all(std::FILE* f, const void* buf, std::size_t n, const std::string& path) {
  if (n > 0 && std::fwrite(buf, 1, n, f) != n)
    fail("save_safetensors: '", path, "': write failed (disk full?)");
}

}  // namespace

void save_safetensors(const NamedTensors& tensors, const std::string& path,
                      const Metadata& metadata) {
  // Packed CPU copies, and the header that describes them.
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::vector<Tensor> packed;
  std::set<std::string> seen;
  std::uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    RETORT_CHECK(!name.empty() && name != "__metadata__", "save_safetensors: '", path,
                 "': invalid tensor name '", name, "'");
    RETORT_CHECK(seen.insert(name).second, "save_safetensors: '", path, "': tensor '", name,
                 "' appears twice");
    RETORT_CHECK(t.defined(), "save_safetensors: '", path, "': tensor '", name, "' is undefined");
    Tensor c = t.to(kCPU).contiguous();
    std::uint64_t nbytes = static_cast<std::uint64_t>(c.numel()) * dtype_size(c.dtype());
    header[name] = {{"dtype", st_dtype(c.dtype())},
                    {"shape", c.sizes()},
                    {"data_offsets", {offset, offset + nbytes}}};
    offset += nbytes;
    packed.push_back(c);
  }
  std::string text = header.dump();
  // The reference implementation pads the header with spaces to a multiple of 8 bytes so the
  // data section starts aligned.
  text.append((8 - text.size() % 8) % 8, ' ');
  std::uint64_t hlen = text.size();

  const std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  RETORT_CHECK(f != nullptr, "save_safetensors: '", path, "': cannot open '", tmp,
               "' for writing: ", std::strerror(errno));
  try {
    write_all(f, &hlen, 8, path);
    write_all(f, text.data(), text.size(), path);
    for (const Tensor& c : packed)
      write_all(f, c.raw_data(), c.numel() * dtype_size(c.dtype()), path);
    if (std::fflush(f) != 0 || ::fsync(::fileno(f)) != 0)
      fail("save_safetensors: '", path, "': flushing to disk failed: ", std::strerror(errno));
  } catch (...) {
    std::fclose(f);
    std::remove(tmp.c_str());
    throw;
  }
  if (std::fclose(f) != 0) {
    std::remove(tmp.c_str());
    fail("save_safetensors: '", path, "': closing '", tmp, "' failed: ", std::strerror(errno));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    fail("save_safetensors: '", path, "': renaming '", tmp, "' into place failed: ", ec.message());
  }
}

void save_safetensors(const TensorMap& tensors, const std::string& path, const Metadata& metadata) {
  save_safetensors(NamedTensors(tensors.begin(), tensors.end()), path, metadata);
}

void save_safetensors(const Module& module, const std::string& path, const Metadata& metadata) {
  save_safetensors(module.state_dict(), path, metadata);
}

void load_safetensors(Module& module, const std::string& path, bool strict) {
  module.load_state_dict(load_safetensors(path), strict);
}

}  // namespace retort::nn
