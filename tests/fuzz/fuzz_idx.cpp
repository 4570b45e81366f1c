// libFuzzer target: the IDX reader (data/idx.h), gzip-compressed or plain. The input is the
// file; it is read as images (magic 2051) and as labels (magic 2049), each in full and with a
// limit of 2 items. read_idx must return exactly items · (product of dims[1..]) bytes, or throw
// retort::Error.
//
// Inputs whose header declares more than 64 MiB of data are skipped: read_idx multiplies the
// dimensions without an overflow check and allocates what the header declares before checking
// that the file holds it (known defects, docs/reliability.md). Each such input would end the run
// within seconds at the allocation limit or in UBSan's signed-overflow check, hiding everything
// else; truncated files declaring up to 64 MiB are still read.
#include <zlib.h>

#include <limits>
#include <vector>

#include "data/idx.h"
#include "fuzz_input.h"
#include "tensor/error.h"

using namespace retort;
using namespace retort::data;

namespace {

constexpr unsigned __int128 kMaxDeclared = 64u << 20;

// The file's bytes after gzip decoding (plain files pass through), at most 1 MiB of them:
// enough for any header.
std::vector<unsigned char> decoded_head(const std::string& path) {
  std::vector<unsigned char> out(1 << 20);
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) return {};
  const int got = gzread(f, out.data(), static_cast<unsigned>(out.size()));
  gzclose(f);
  out.resize(got > 0 ? static_cast<std::size_t>(got) : 0);
  return out;
}

bool declares_too_much(const std::string& path) {
  const auto b = decoded_head(path);
  if (b.size() < 4) return false;
  const std::uint32_t magic = (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) | b[3];
  if (magic != kIdxImagesMagic && magic != kIdxLabelsMagic) return false;  // refused by its magic
  const unsigned ndims = magic & 0xff;
  if (b.size() < 4 + 4 * std::size_t{ndims}) return false;
  auto dim = [&](unsigned d) {
    const unsigned char* p = &b[4 + 4 * d];
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
  };
  // The reader's item size: the product of dims[1..], refused once above 2^32, overflowing int64
  // when one multiplication goes past it before that.
  unsigned __int128 item = 1;
  for (unsigned d = 1; d < ndims; ++d) {
    item *= dim(d);
    if (item > static_cast<unsigned __int128>(std::numeric_limits<std::int64_t>::max())) return true;
    if (item > (std::uint64_t{1} << 32)) return false;
  }
  return item * dim(0) > kMaxDeclared;
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = fuzz::scratch().write("data.idx", data, size);
  if (declares_too_much(path)) return 0;
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
