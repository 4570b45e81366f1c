// IDX reading and writing through zlib's gz* API (see idx.h). gzread transparently reads plain
// files too, and reports a gzip stream cut short as an error, which becomes a "truncated" message.
#include "data/idx.h"

#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <memory>

#include "tensor/error.h"

namespace retort::data {

namespace {

// Deflate's largest expansion (RFC 1951 stored-length limits; zlib's technical note: 1032:1).
constexpr std::int64_t kMaxDeflateRatio = 1032;
constexpr std::int64_t kReadChunk = std::int64_t{16} << 20;

struct GzCloser {
  void operator()(gzFile_s* f) const { gzclose(f); }
};
using GzFile = std::unique_ptr<gzFile_s, GzCloser>;

// Reads up to n bytes; returns how many arrived (fewer only at end of data). A corrupt or cut
// gzip stream is an error naming the file and what was being read.
std::int64_t read_up_to(gzFile f, void* dst, std::int64_t n, const std::string& path, const char* what) {
  auto* out = static_cast<unsigned char*>(dst);
  std::int64_t got = 0;
  while (got < n) {
    // gzread takes an unsigned count; read in chunks well below its limit.
    const unsigned chunk = static_cast<unsigned>(std::min<std::int64_t>(n - got, 1 << 30));
    const int r = gzread(f, out + got, chunk);
    if (r < 0) {
      int code = 0;
      const char* msg = gzerror(f, &code);
      fail("read_idx: ", path, ": truncated or corrupt while reading ", what, ": expected ", n,
           " bytes, got ", got, " (zlib: ", msg, ")");
    }
    if (r == 0) break;
    got += r;
  }
  return got;
}

std::uint32_t big_endian(const unsigned char* b) {
  return (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) | b[3];
}

void put_big_endian(std::vector<unsigned char>& out, std::uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<unsigned char>(v >> s));
}

}  // namespace

IdxBytes read_idx(const std::string& path, std::uint32_t expected_magic, std::int64_t limit) {
  // The file's real size bounds what its header may claim; a directory or device is refused here
  // (gzopen would open a directory and fail later with a confusing message).
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) fail("read_idx: cannot open ", path, " (", std::strerror(errno), ")");
  RETORT_CHECK(S_ISREG(st.st_mode), "read_idx: ", path, ": not a regular file (",
               S_ISDIR(st.st_mode) ? "a directory" : "a device, FIFO or socket", ")");
  const auto file_size = static_cast<std::int64_t>(st.st_size);

  GzFile f(gzopen(path.c_str(), "rb"));
  if (!f) fail("read_idx: cannot open ", path, " (", std::strerror(errno), ")");

  unsigned char head[4];
  std::int64_t got = read_up_to(f.get(), head, 4, path, "the magic number");
  RETORT_CHECK(got == 4, "read_idx: ", path, ": truncated: expected a 4-byte magic number, got ", got,
               " bytes");
  const std::uint32_t magic = big_endian(head);
  RETORT_CHECK(magic == expected_magic, "read_idx: ", path, ": bad magic number ", magic, ", expected ",
               expected_magic, " (IDX unsigned bytes with ", expected_magic & 0xff, " dimensions)");

  IdxBytes out;
  const int ndims = static_cast<int>(magic & 0xff);
  std::vector<unsigned char> dims_raw(static_cast<std::size_t>(4 * ndims));
  got = read_up_to(f.get(), dims_raw.data(), 4 * ndims, path, "the dimensions");
  RETORT_CHECK(got == 4 * ndims, "read_idx: ", path, ": truncated header: expected ", ndims,
               " dimensions (", 4 * ndims, " bytes), got ", got, " bytes");
  // Sizes from the header are untrusted: every product is overflow-checked, and the total is
  // checked against what the file can hold before anything is allocated for it.
  std::int64_t item_bytes = 1;
  for (int d = 0; d < ndims; ++d) {
    out.dims.push_back(big_endian(&dims_raw[static_cast<std::size_t>(4 * d)]));
    if (d > 0 && __builtin_mul_overflow(item_bytes, out.dims.back(), &item_bytes))
      fail("read_idx: ", path, ": implausible header: the item size overflows 64 bits");
  }
  const std::int64_t n = ndims > 0 ? out.dims[0] : 1;
  out.items = limit < 0 ? n : std::min(limit, n);
  std::int64_t want = 0;
  if (__builtin_mul_overflow(out.items, item_bytes, &want))
    fail("read_idx: ", path, ": implausible header: ", out.items, " items of ", item_bytes,
         " bytes overflow 64 bits");
  const std::int64_t header_bytes = 4 + 4 * std::int64_t{ndims};
  if (gzdirect(f.get())) {
    // A plain file: its size is exactly what it holds.
    const std::int64_t available = std::max<std::int64_t>(file_size - header_bytes, 0);
    RETORT_CHECK(want <= available, "read_idx: ", path, ": truncated: the header promises ", out.items, " items of ",
                 item_bytes, " bytes (", want, " bytes of data) but the file holds ", available, " bytes after its ",
                 header_bytes, "-byte header");
  } else {
    // gzip: deflate expands at most 1032:1, so a compressed file of S bytes holds less than 1032·S.
    const std::int64_t bound = file_size > std::numeric_limits<std::int64_t>::max() / kMaxDeflateRatio
                                   ? std::numeric_limits<std::int64_t>::max()
                                   : file_size * kMaxDeflateRatio;
    RETORT_CHECK(want <= bound, "read_idx: ", path, ": truncated or corrupt: the header promises ", out.items,
                 " items of ", item_bytes, " bytes (", want, " bytes of data), more than a ", file_size,
                 "-byte gzip file can hold");
  }
  // Read in growing chunks: memory follows the bytes that actually arrive, so a lying gzip
  // header costs at most one chunk beyond the real data.
  while (static_cast<std::int64_t>(out.bytes.size()) < want) {
    const std::int64_t have = static_cast<std::int64_t>(out.bytes.size());
    const std::int64_t next = std::min(want, std::max(have * 2, kReadChunk));
    out.bytes.resize(static_cast<std::size_t>(next));
    got = read_up_to(f.get(), out.bytes.data() + have, next - have, path, "the data");
    RETORT_CHECK(got == next - have, "read_idx: ", path, ": truncated: expected ", want, " bytes of data (",
                 out.items, " items of ", item_bytes, " bytes), got ", have + got);
  }
  return out;
}

void write_idx_gz(const std::string& path, std::uint32_t magic, const std::vector<std::uint32_t>& dims,
                  const std::vector<std::uint8_t>& bytes) {
  std::vector<unsigned char> head;
  put_big_endian(head, magic);
  for (auto d : dims) put_big_endian(head, d);
  GzFile f(gzopen(path.c_str(), "wb"));
  if (!f) fail("write_idx_gz: cannot create ", path, " (", std::strerror(errno), ")");
  const bool ok = gzwrite(f.get(), head.data(), static_cast<unsigned>(head.size())) == static_cast<int>(head.size()) &&
                  (bytes.empty() || gzwrite(f.get(), bytes.data(), static_cast<unsigned>(bytes.size())) ==
                                        static_cast<int>(bytes.size()));
  RETORT_CHECK(ok, "write_idx_gz: ", path, ": write failed");
  // gzclose flushes the compressed stream; its result is the only report of a failed final write.
  RETORT_CHECK(gzclose(f.release()) == Z_OK, "write_idx_gz: ", path, ": closing failed");
}

}  // namespace retort::data
