// The IDX reader against crafted headers: sizes that overflow, data promised beyond what the file
// can hold (checked before anything is allocated), directories; and plain (uncompressed) files,
// whose real length bounds the data exactly.
#include "data/idx.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>

#include "support/helpers.h"
#include "support/temp_dir.h"

using namespace retort;
using retort::testing::TempDir;
using namespace retort::data;
namespace fs = std::filesystem;

namespace {

void put_be(std::string& out, std::uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<char>(v >> s));
}

// A plain (uncompressed) IDX file: magic, dims, then `data`.
std::string plain(const std::string& path, std::uint32_t magic, const std::vector<std::uint32_t>& dims,
                  const std::string& data = "") {
  std::string bytes;
  put_be(bytes, magic);
  for (auto d : dims) put_be(bytes, d);
  bytes += data;
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return path;
}

// Runs f, which must throw; returns its message and requires it to have taken under a second
// (the old reader allocated and zero-filled what the header claimed before noticing).
std::string quick_error(const std::function<void()>& f) {
  const auto t0 = std::chrono::steady_clock::now();
  std::string msg = "(no error)";
  try {
    f();
  } catch (const std::exception& e) {
    msg = e.what();
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  INFO(msg);
  REQUIRE(secs < 1.0);
  return msg;
}

}  // namespace

TEST_CASE("read_idx reads plain IDX files as well as gzip ones", "[data]") {
  TempDir d("idx");
  const std::string p = plain(d.file("labels"), kIdxLabelsMagic, {5}, std::string("\x01\x02\x03\x04\x05", 5));
  IdxBytes all = read_idx(p, kIdxLabelsMagic);
  REQUIRE(all.dims == std::vector<std::int64_t>{5});
  REQUIRE(all.items == 5);
  REQUIRE(all.bytes == std::vector<std::uint8_t>{1, 2, 3, 4, 5});
  REQUIRE(read_idx(p, kIdxLabelsMagic, 2).bytes == std::vector<std::uint8_t>{1, 2});
  write_idx_gz(d.file("labels.gz"), kIdxLabelsMagic, {3}, {7, 8, 9});
  REQUIRE(read_idx(d.file("labels.gz"), kIdxLabelsMagic).bytes == std::vector<std::uint8_t>{7, 8, 9});
}

TEST_CASE("read_idx checks header sizes against the file before allocating", "[data]") {
  TempDir d("idx");
  SECTION("an 8-byte file claiming 4 billion labels") {
    const std::string p = plain(d.file("labels8"), kIdxLabelsMagic, {0xFFFFFFFFu});
    REQUIRE(fs::file_size(p) == 8);
    std::string msg = quick_error([&] { read_idx(p, kIdxLabelsMagic); });
    REQUIRE_THAT(msg, Catch::Contains(p) && Catch::Contains("truncated") && Catch::Contains("4294967295 items") &&
                          Catch::Contains("holds 0 bytes after its 8-byte header"));
  }
  SECTION("a 16-byte file claiming 12.9 GB of images") {
    const std::string p = plain(d.file("images16"), kIdxImagesMagic, {0xFFFFFFFFu, 1, 3});
    REQUIRE(fs::file_size(p) == 16);
    std::string msg = quick_error([&] { read_idx(p, kIdxImagesMagic); });
    REQUIRE_THAT(msg, Catch::Contains("12884901885 bytes of data") && Catch::Contains("holds 0 bytes"));
  }
  SECTION("a small gzip file claiming more than it can expand to") {
    write_idx_gz(d.file("images.gz"), kIdxImagesMagic, {0xFFFFFFFFu, 28, 28}, std::vector<std::uint8_t>(784, 1));
    std::string msg = quick_error([&] { read_idx(d.file("images.gz"), kIdxImagesMagic); });
    REQUIRE_THAT(msg, Catch::Contains("more than a") && Catch::Contains("-byte gzip file can hold"));
    // A limit inside what is there still reads.
    REQUIRE(read_idx(d.file("images.gz"), kIdxImagesMagic, 1).bytes.size() == 784);
  }
  SECTION("a gzip file a little short of its header's promise is read up to its end") {
    // Incompressible bytes, so the gzip size bound does not apply and the chunked read must see it.
    std::vector<std::uint8_t> noise(50000);
    std::uint32_t x = 12345;
    for (auto& b : noise) b = static_cast<std::uint8_t>((x = x * 1664525u + 1013904223u) >> 24);
    write_idx_gz(d.file("short.gz"), kIdxLabelsMagic, {100000}, noise);
    std::string msg = quick_error([&] { read_idx(d.file("short.gz"), kIdxLabelsMagic); });
    REQUIRE_THAT(msg, Catch::Contains("truncated") && Catch::Contains("expected 100000") && Catch::Contains("got 50000"));
  }
  SECTION("dimension products that overflow 64 bits") {
    // Item size (2^32 − 1)^2 fits in 64 unsigned bits but not in a signed one: it used to wrap
    // negative, pass the plausibility check and reach vector::resize as a huge size.
    const std::string p = plain(d.file("overflow"), kIdxImagesMagic, {1, 0xFFFFFFFFu, 0xFFFFFFFFu});
    REQUIRE_THAT(quick_error([&] { read_idx(p, kIdxImagesMagic); }),
                 Catch::Contains(p) && Catch::Contains("overflows 64 bits"));
    const std::string q = plain(d.file("overflow_items"), kIdxImagesMagic, {0xFFFFFFFFu, 0xFFFFFFFFu, 0x80000000u});
    REQUIRE_THAT(quick_error([&] { read_idx(q, kIdxImagesMagic); }), Catch::Contains("overflow"));
  }
  SECTION("a directory") {
    fs::create_directories(d.path / "dir");
    REQUIRE_THAT(quick_error([&] { read_idx(d.file("dir"), kIdxLabelsMagic); }),
                 Catch::Contains(d.file("dir")) && Catch::Contains("not a regular file"));
  }
}
