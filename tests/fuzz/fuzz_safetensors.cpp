// libFuzzer target: the safetensors load path (nn/serialization.h). The input is the whole file;
// load_safetensors must return tensors whose bytes it copied from the file, or throw
// retort::Error. A file that loads is then loaded into a Linear(3, 2) (strict, then not), which
// checks names, shapes and dtypes against the module's state_dict and throws retort::Error on a
// mismatch.
//
// Shapes with a zero-sized dimension beside huge others are fed as they are: the size checks
// must refuse them before any stride is computed (seed corpus/safetensors/empty_shape_overflow).
#include <algorithm>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>

#include "fuzz_input.h"
#include "nn/linear.h"
#include "nn/serialization.h"
#include "tensor/error.h"

using namespace retort;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
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
