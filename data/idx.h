// The IDX format of MNIST-style datasets, unsigned-byte variant, gzip-compressed or plain (zlib
// reads both). Layout, all integers big-endian:
//   magic   u32 = 0x0000'08'D  (0x08: unsigned bytes; D: number of dimensions)
//   dims    D × u32            (dims[0] is the number of items N)
//   data    N·dims[1]·…·dims[D−1] bytes, row-major
// So images [N, rows, cols] have magic 2051 (0x803) and labels [N] have magic 2049 (0x801).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace retort::data {

inline constexpr std::uint32_t kIdxImagesMagic = 2051;
inline constexpr std::uint32_t kIdxLabelsMagic = 2049;

struct IdxBytes {
  std::vector<std::int64_t> dims;   // as stored in the file: dims[0] is the file's item count
  std::int64_t items = 0;           // items actually read: min(limit, dims[0]), or dims[0]
  std::vector<std::uint8_t> bytes;  // items · (product of dims[1..]) bytes
};

// Reads the header and the first `limit` items (all when limit < 0). Throws retort::Error naming
// the file when it cannot be opened or is not a regular file, the magic number is not
// expected_magic, or the file ends before the header or the requested data. The header's sizes
// are untrusted: their products are overflow-checked, and the data they promise is checked
// against the file's real size (a plain file) or the most a gzip file of its size can expand to
// (1032:1) before anything is allocated; the data are then read in growing chunks, so memory
// follows the bytes that actually arrive.
IdxBytes read_idx(const std::string& path, std::uint32_t expected_magic, std::int64_t limit = -1);

// Writes a gzip-compressed IDX file with the given magic and dims followed by `bytes` verbatim
// (no consistency check, so tests can write malformed files on purpose).
void write_idx_gz(const std::string& path, std::uint32_t magic, const std::vector<std::uint32_t>& dims,
                  const std::vector<std::uint8_t>& bytes);

}  // namespace retort::data
