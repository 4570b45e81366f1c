// Writing safetensors files (format in serialization.h) through AtomicFile (tensor/atomic_file.h):
// a temporary file beside <path>, flushed and fsynced, renamed over <path>, so readers see either
// the old checkpoint or the complete new one.
#include <bit>
#include <nlohmann/json.hpp>
#include <set>

#include "nn/serialization.h"
#include "tensor/atomic_file.h"
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

  AtomicFile f(path, "save_safetensors");
  f.write(&hlen, 8);
  f.write(text);
  for (const Tensor& c : packed) f.write(c.raw_data(), c.numel() * dtype_size(c.dtype()));
  f.commit();
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
