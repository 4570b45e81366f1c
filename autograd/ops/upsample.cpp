// Nearest upsampling as views: [N, C, H, 1, W, 1] expanded to [N, C, H, sh, W, sw] is exactly the
// repeated image laid out row by row, so one reshape (a copy, the expand is not contiguous)
// produces it, and autograd's expand backward (sum over the broadcast dims) is the exact gradient.
#include "autograd/ops/upsample.h"

#include "autograd/ops/shape.h"
#include "tensor/error.h"
#include "tensor/shape.h"

namespace retort {

Tensor upsample_nearest2d(const Tensor& x, std::array<std::int64_t, 2> scale) {
  RETORT_CHECK(x.dim() == 4, "upsample_nearest2d: x must be [N, C, H, W], got ", shape_str(x.sizes()));
  RETORT_CHECK(scale[0] >= 1 && scale[1] >= 1, "upsample_nearest2d: scale factors must be >= 1, got ", scale[0],
               " x ", scale[1], " for x ", shape_str(x.sizes()));
  const std::int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  Tensor y = reshape(x, {n, c, h, 1, w, 1});
  y = expand(y, {n, c, h, scale[0], w, scale[1]});
  return reshape(y, {n, c, h * scale[0], w * scale[1]});
}

}  // namespace retort
