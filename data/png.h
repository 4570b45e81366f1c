// PNG output (namespace retort::data): 8-bit RGB or grey images, written without filters through
// zlib (compress2), each chunk with its CRC-32, atomically (tensor/atomic_file.h). Enough for
// looking at images a program made (synthesised inputs, samples); no reader.
//
//   write_png(path, pixels, H, W, C)   pixels: H·W·C bytes, row-major, channels interleaved
//                                      (C = 1 grey, 3 RGB)
//   image_to_png_bytes(img)            img [C, H, W] float in [0, 1] (clamped) → H·W·C bytes
//   image_grid(images, rows, cols, pad) images [N, C, H, W] in [0, 1] → [C, rows·(H+pad)+pad,
//                                      cols·(W+pad)+pad], image i at row i / cols, column i % cols
//                                      on a white background (N ≤ rows·cols)
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace retort::data {

// The PNG file's bytes (signature, IHDR, one IDAT, IEND). Throws on a size of 0, C not 1 or 3,
// or pixels.size() ≠ H·W·C.
std::string encode_png(const std::vector<std::uint8_t>& pixels, std::int64_t height, std::int64_t width,
                       std::int64_t channels);
void write_png(const std::string& path, const std::vector<std::uint8_t>& pixels, std::int64_t height,
               std::int64_t width, std::int64_t channels);

std::vector<std::uint8_t> image_to_png_bytes(const Tensor& image);
Tensor image_grid(const Tensor& images, std::int64_t rows, std::int64_t cols, std::int64_t pad = 2);
// write_png of image_to_png_bytes(image), image [C, H, W] with C = 1 or 3.
void write_png(const std::string& path, const Tensor& image);

}  // namespace retort::data
