// libFuzzer target: the safetensors load path (nn/serialization.h). The input is the whole file;
// load_safetensors must return tensors whose bytes it copied from the file, or throw
// retort::Error. A file that loads is then loaded into a Linear(3, 2) (strict, then not), which
// checks names, shapes and dtypes against the module's state_dict and throws retort::Error on a
// mismatch.
//
// Inputs with a shape that has a zero-sized dimension and a product of the other dimensions
// beyond int64 are skipped: the reader's size check passes them (numel is 0) and the strides of
// the empty tensor then overflow (a known defect, docs/reliability.md), which UBSan would report
// on every such input, hiding everything else.
#include <algorithm>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>

#include "fuzz_input.h"
#include "nn/linear.h"
#include "nn/serialization.h"
#include "tensor/error.h"

using namespace retort;

namespace {

bool empty_shape_overflows(const std::uint8_t* data, std::size_t size) {
  std::uint64_t hlen = 0;
  if (size < 8) return false;
  std::memcpy(&hlen, data, 8);
  if (hlen > size - 8) return false;
  const auto header = nlohmann::json::parse(data + 8, data + 8 + hlen, nullptr, false);
  if (!header.is_object()) return false;
  for (const auto& [name, v] : header.items()) {
    if (!v.is_object() || !v.contains("shape") || !v["shape"].is_array()) continue;
    constexpr auto kMax = static_cast<unsigned __int128>(std::numeric_limits<std::int64_t>::max());
    bool zero = false;
    unsigned __int128 product = 1;  // of max(d, 1), saturated above int64's range
    for (const auto& d : v["shape"]) {
      if (!d.is_number_unsigned()) break;
      const std::uint64_t s = d.get<std::uint64_t>();
      zero = zero || s == 0;
      product = std::min(product * (s > 0 ? s : 1), kMax + 1);
    }
    if (zero && product > kMax) return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (empty_shape_overflows(data, size)) return 0;
  const std::string path = fuzz::scratch().write("checkpoint.safetensors", data, size);
  nn::TensorMap tensors;
  nn::Metadata metadata;
  try {
    tensors = nn::load_safetensors(path, &metadata);
  } catch (const Error&) {
    return 0;
  }
  // Every loaded byte came from the data section, so the tensors together are never larger
  // than the file.
  std::size_t bytes = 0;
  for (const auto& [name, t] : tensors) bytes += static_cast<std::size_t>(t.numel()) * dtype_size(t.dtype());
  if (bytes > size) __builtin_trap();

  nn::Linear linear(3, 2);
  for (bool strict : {true, false}) {
    try {
      nn::load_safetensors(linear, path, strict);
    } catch (const Error&) {
    }
  }
  return 0;
}
