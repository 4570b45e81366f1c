// Pooling alignment for FSP and VID. Heights decide which map is pooled (RepDistiller compares
// H only); the widths must then agree, otherwise the maps cannot be compared element-wise.
#include "kd/align.h"

#include "autograd/ops/nn_ops.h"
#include "tensor/error.h"

namespace retort::kd {

std::pair<Tensor, Tensor> pool_to_smaller(const char* op, const Tensor& a, const Tensor& b,
                                          const char* a_name, const char* b_name) {
  RETORT_CHECK(a.defined() && b.defined(), op, ": ", a_name, " and ", b_name,
               " must be defined");
  auto fail_shapes = [&](const char* why) {
    fail(op, ": ", a_name, " ", shape_str(a.sizes()), " and ", b_name, " ",
         shape_str(b.sizes()), ": ", why);
  };
  if (a.dim() != 4 || b.dim() != 4) fail_shapes("must both be 4-D [N, C, H, W]");
  if (a.size(0) != b.size(0)) fail_shapes("must have the same batch size N");
  if (a.dtype() != b.dtype()) fail_shapes("must have the same dtype");
  Tensor x = a, y = b;
  if (x.size(2) > y.size(2)) {
    x = adaptive_avg_pool2d(x, {y.size(2), y.size(3)});
  } else if (x.size(2) < y.size(2)) {
    y = adaptive_avg_pool2d(y, {x.size(2), x.size(3)});
  }
  if (x.size(3) != y.size(3)) fail_shapes("cannot be aligned spatially (widths differ)");
  return {x, y};
}

}  // namespace retort::kd
