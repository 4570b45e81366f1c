// Upsampling of NCHW images (namespace retort), differentiable.
//
// upsample_nearest2d: x [N, C, H, W], integer scale factors (sh, sw) ≥ 1 → y [N, C, H·sh, W·sw],
//   y[n, c, h, w] = x[n, c, ⌊h / sh⌋, ⌊w / sw⌋]
// which is PyTorch's F.interpolate(x, scale_factor=s, mode="nearest") for integer s. Its gradient
// sums each sh×sw block of the output gradient back onto the input pixel it copied.
// Composed of reshape → expand → reshape, so the backward (expand's sum) is exact and free of a
// hand-written kernel.
#pragma once
#include <array>
#include <cstdint>

#include "tensor/tensor.h"

namespace retort {

Tensor upsample_nearest2d(const Tensor& x, std::array<std::int64_t, 2> scale);
inline Tensor upsample_nearest2d(const Tensor& x, std::int64_t scale) {
  return upsample_nearest2d(x, {scale, scale});
}

}  // namespace retort
