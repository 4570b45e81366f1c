// libFuzzer target: the IDX reader (data/idx.h), gzip-compressed or plain. The input is the
// file; it is read as images (magic 2051) and as labels (magic 2049), each in full and with a
// limit of 2 items. read_idx must return exactly items · (product of dims[1..]) bytes, or throw
// retort::Error.
//
// Headers that declare absurd sizes or overflowing dimension products are fed as they are: the
// reader must refuse them before allocating (seeds corpus/idx/dims_overflow and the like).
#include <vector>

#include "data/idx.h"
#include "fuzz_input.h"
#include "tensor/error.h"

using namespace retort;
using namespace retort::data;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = fuzz::scratch().write("data.idx", data, size);

  for (std::uint32_t magic : {kIdxImagesMagic, kIdxLabelsMagic}) {
    for (std::int64_t limit : {std::int64_t{-1}, std::int64_t{2}}) {
      IdxBytes idx;
      try {
        idx = read_idx(path, magic, limit);
      } catch (const Error&) {
        continue;
      }
      std::int64_t item = 1;
      for (std::size_t d = 1; d < idx.dims.size(); ++d) item *= idx.dims[d];
      if (idx.dims.size() != (magic & 0xff) || idx.items < 0 ||
          static_cast<std::int64_t>(idx.bytes.size()) != idx.items * item)
        __builtin_trap();
    }
  }
  return 0;
}
