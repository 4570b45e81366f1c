// A minimal PNG encoder: filter type 0 on every scanline (the images are small and written once,
// so the better compression of adaptive filters is not worth the code), zlib for the deflate
// stream and for CRC-32, as the format specifies.
#include "data/png.h"

#include <zlib.h>

#include <algorithm>
#include <cmath>

#include "tensor/atomic_file.h"
#include "tensor/error.h"
#include "tensor/shape.h"

namespace retort::data {

namespace {

void put_u32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

// length, type, data, CRC-32 of type + data.
void put_chunk(std::string& out, const char* type, const std::string& data) {
  put_u32(out, static_cast<std::uint32_t>(data.size()));
  std::string body = std::string(type, 4) + data;
  out += body;
  put_u32(out, static_cast<std::uint32_t>(
                   crc32(0L, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size()))));
}

}  // namespace

std::string encode_png(const std::vector<std::uint8_t>& pixels, std::int64_t height, std::int64_t width,
                       std::int64_t channels) {
  RETORT_CHECK(height > 0 && width > 0 && height < (1 << 24) && width < (1 << 24),
               "encode_png: bad image size ", height, " x ", width);
  RETORT_CHECK(channels == 1 || channels == 3, "encode_png: channels must be 1 (grey) or 3 (RGB), got ", channels);
  RETORT_CHECK(static_cast<std::int64_t>(pixels.size()) == height * width * channels, "encode_png: ",
               pixels.size(), " bytes for a ", height, " x ", width, " x ", channels, " image");
  const std::int64_t row = width * channels;
  std::string raw;
  raw.reserve(static_cast<std::size_t>(height * (row + 1)));
  for (std::int64_t h = 0; h < height; ++h) {
    raw.push_back('\0');  // filter type 0 (None)
    raw.append(reinterpret_cast<const char*>(pixels.data() + h * row), static_cast<std::size_t>(row));
  }
  uLongf zsize = compressBound(static_cast<uLong>(raw.size()));
  std::string z(zsize, '\0');
  int rc = compress2(reinterpret_cast<Bytef*>(z.data()), &zsize, reinterpret_cast<const Bytef*>(raw.data()),
                     static_cast<uLong>(raw.size()), Z_BEST_COMPRESSION);
  RETORT_CHECK(rc == Z_OK, "encode_png: zlib compress2 failed (", rc, ")");
  z.resize(zsize);

  std::string ihdr;
  put_u32(ihdr, static_cast<std::uint32_t>(width));
  put_u32(ihdr, static_cast<std::uint32_t>(height));
  ihdr += std::string{'\x08', static_cast<char>(channels == 3 ? 2 : 0), '\0', '\0', '\0'};  // depth 8, colour type
  std::string out("\x89PNG\r\n\x1a\n", 8);
  put_chunk(out, "IHDR", ihdr);
  put_chunk(out, "IDAT", z);
  put_chunk(out, "IEND", "");
  return out;
}

void write_png(const std::string& path, const std::vector<std::uint8_t>& pixels, std::int64_t height,
               std::int64_t width, std::int64_t channels) {
  write_file_atomically(path, encode_png(pixels, height, width, channels), "write_png");
}

std::vector<std::uint8_t> image_to_png_bytes(const Tensor& image) {
  RETORT_CHECK(image.dim() == 3 && (image.size(0) == 1 || image.size(0) == 3),
               "image_to_png_bytes: image must be [C, H, W] with C = 1 or 3, got ", shape_str(image.sizes()));
  const std::int64_t c = image.size(0), h = image.size(1), w = image.size(2);
  std::vector<double> v = image.contiguous().to(kFloat64).to_vector<double>();
  std::vector<std::uint8_t> px(static_cast<std::size_t>(c * h * w));
  for (std::int64_t ch = 0; ch < c; ++ch)
    for (std::int64_t i = 0; i < h * w; ++i) {
      double x = v[ch * h * w + i];
      RETORT_CHECK(std::isfinite(x), "image_to_png_bytes: non-finite value at channel ", ch, ", pixel ", i);
      px[i * c + ch] = static_cast<std::uint8_t>(std::lround(std::clamp(x, 0.0, 1.0) * 255.0));
    }
  return px;
}

Tensor image_grid(const Tensor& images, std::int64_t rows, std::int64_t cols, std::int64_t pad) {
  RETORT_CHECK(images.dim() == 4, "image_grid: images must be [N, C, H, W], got ", shape_str(images.sizes()));
  RETORT_CHECK(rows > 0 && cols > 0 && pad >= 0 && images.size(0) <= rows * cols, "image_grid: ",
               images.size(0), " images do not fit ", rows, " x ", cols, " (pad ", pad, ")");
  const std::int64_t n = images.size(0), c = images.size(1), h = images.size(2), w = images.size(3);
  const std::int64_t gh = rows * (h + pad) + pad, gw = cols * (w + pad) + pad;
  std::vector<double> src = images.contiguous().to(kFloat64).to_vector<double>();
  std::vector<double> grid(static_cast<std::size_t>(c * gh * gw), 1.0);
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int64_t y0 = pad + (i / cols) * (h + pad), x0 = pad + (i % cols) * (w + pad);
    for (std::int64_t ch = 0; ch < c; ++ch)
      for (std::int64_t y = 0; y < h; ++y)
        for (std::int64_t x = 0; x < w; ++x)
          grid[(ch * gh + y0 + y) * gw + x0 + x] = src[((i * c + ch) * h + y) * w + x];
  }
  return from_vector(grid, {c, gh, gw}, kFloat32);
}

void write_png(const std::string& path, const Tensor& image) {
  write_png(path, image_to_png_bytes(image), image.size(1), image.size(2), image.size(0));
}

}  // namespace retort::data
