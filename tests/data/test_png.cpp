// The PNG writer: a file written is decoded here independently — signature, chunk order, every
// chunk's CRC-32, IHDR fields, the inflated scanlines (filter 0) equal to the pixels given — and
// image_to_png_bytes / image_grid place and round values as documented; bad input is refused.
#include <zlib.h>

#include <fstream>
#include <sstream>

#include "data/png.h"
#include "support/helpers.h"
#include "support/temp_dir.h"

using namespace retort;
using Catch::Contains;

namespace {

std::uint32_t u32(const std::string& s, std::size_t at) {
  return (std::uint32_t(std::uint8_t(s[at])) << 24) | (std::uint32_t(std::uint8_t(s[at + 1])) << 16) |
         (std::uint32_t(std::uint8_t(s[at + 2])) << 8) | std::uint32_t(std::uint8_t(s[at + 3]));
}

struct Decoded {
  std::uint32_t width = 0, height = 0;
  int depth = 0, colour = 0;
  std::vector<std::string> chunks;
  std::string raw;  // inflated IDAT: per row a filter byte then the row
};

Decoded decode(const std::string& f) {
  Decoded d;
  REQUIRE(f.substr(0, 8) == std::string("\x89PNG\r\n\x1a\n", 8));
  std::string idat;
  std::size_t at = 8;
  while (at < f.size()) {
    REQUIRE(at + 12 <= f.size());
    std::uint32_t len = u32(f, at);
    std::string type = f.substr(at + 4, 4);
    std::string body = f.substr(at + 4, 4 + len);
    REQUIRE(u32(f, at + 8 + len) == crc32(0L, reinterpret_cast<const Bytef*>(body.data()), body.size()));
    std::string data = f.substr(at + 8, len);
    if (type == "IHDR") {
      REQUIRE(len == 13);
      d.width = u32(data, 0);
      d.height = u32(data, 4);
      d.depth = std::uint8_t(data[8]);
      d.colour = std::uint8_t(data[9]);
      REQUIRE(data.substr(10) == std::string(3, '\0'));  // deflate, adaptive filtering, no interlace
    }
    if (type == "IDAT") idat += data;
    d.chunks.push_back(type);
    at += 12 + len;
  }
  REQUIRE(at == f.size());
  uLongf n = 1 << 20;
  d.raw.resize(n);
  REQUIRE(uncompress(reinterpret_cast<Bytef*>(d.raw.data()), &n, reinterpret_cast<const Bytef*>(idat.data()),
                     idat.size()) == Z_OK);
  d.raw.resize(n);
  return d;
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("write_png writes a PNG whose chunks, CRCs and scanlines decode to the pixels", "[data][png]") {
  testing::TempDir dir("png");
  for (int channels : {1, 3}) {
    INFO("channels " << channels);
    const std::int64_t H = 5, W = 7;
    std::vector<std::uint8_t> px(H * W * channels);
    for (std::size_t i = 0; i < px.size(); ++i) px[i] = static_cast<std::uint8_t>((i * 37 + 11) % 256);
    const std::string path = dir.file("img" + std::to_string(channels) + ".png");
    data::write_png(path, px, H, W, channels);
    Decoded d = decode(read_all(path));
    REQUIRE(d.chunks == std::vector<std::string>{"IHDR", "IDAT", "IEND"});
    REQUIRE(d.width == W);
    REQUIRE(d.height == H);
    REQUIRE(d.depth == 8);
    REQUIRE(d.colour == (channels == 3 ? 2 : 0));
    REQUIRE(d.raw.size() == static_cast<std::size_t>(H * (W * channels + 1)));
    for (std::int64_t h = 0; h < H; ++h) {
      REQUIRE(d.raw[h * (W * channels + 1)] == '\0');
      for (std::int64_t i = 0; i < W * channels; ++i)
        REQUIRE(std::uint8_t(d.raw[h * (W * channels + 1) + 1 + i]) == px[h * W * channels + i]);
    }
  }
}

TEST_CASE("image_to_png_bytes interleaves channels and clamps; image_grid places images", "[data][png]") {
  Tensor img = from_vector(std::vector<double>{0.0, 1.0, -0.5, 2.0, 0.5, 0.2, 0.3, 0.4}, {2, 1, 4});
  REQUIRE_THROWS_WITH(data::image_to_png_bytes(img), Contains("C = 1 or 3"));
  Tensor rgb = from_vector(std::vector<double>{0.0, 1.0, 0.5, 0.2, -1.0, 3.0}, {3, 1, 2});
  // pixel 0 = (r 0, g 0.5, b −1 → 0), pixel 1 = (r 1, g 0.2, b 3 → 1).
  REQUIRE(data::image_to_png_bytes(rgb) == std::vector<std::uint8_t>{0, 128, 0, 255, 51, 255});
  Tensor nan = full({1, 1, 1}, std::nan(""));
  REQUIRE_THROWS_WITH(data::image_to_png_bytes(nan), Contains("non-finite"));

  Tensor imgs = zeros({3, 1, 2, 2});
  imgs.fill_(0.25);
  Tensor g = data::image_grid(imgs, 2, 2, 1);
  REQUIRE(g.sizes() == Shape{1, 7, 7});
  std::vector<float> v = g.to_vector<float>();
  REQUIRE(v[0] == 1.0f);           // padding is white
  REQUIRE(v[1 * 7 + 1] == 0.25f);  // image 0 at (1, 1)
  REQUIRE(v[1 * 7 + 4] == 0.25f);  // image 1 at (1, 4)
  REQUIRE(v[4 * 7 + 1] == 0.25f);  // image 2 at (4, 1)
  REQUIRE(v[4 * 7 + 4] == 1.0f);   // no image 3: white
  REQUIRE_THROWS_WITH(data::image_grid(zeros({5, 1, 2, 2}), 2, 2), Contains("do not fit"));
  REQUIRE_THROWS_WITH(data::encode_png({1, 2}, 1, 1, 3), Contains("2 bytes for a 1 x 1 x 3 image"));
  REQUIRE_THROWS_WITH(data::encode_png({1, 2}, 1, 1, 2), Contains("channels must be 1"));
}
