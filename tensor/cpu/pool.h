// Reference pooling kernels (float32 and float64): loops over the definitions in tensor/pool.h.
// Arguments are assumed checked by the dispatch in tensor/pool.cpp; inputs may have any strides,
// outputs are packed NCHW.
#pragma once
#include "tensor/pool.h"

namespace retort::cpu {

struct MaxPool2dOutput {
  Tensor output;   // [N, C, OH, OW]
  Tensor indices;  // int64 [N, C, OH, OW]: h·W + w of each window's (first) maximum
};
MaxPool2dOutput max_pool2d_forward(const Tensor& x, const ops::Pool2dParams& p);
// gx[n, c, idx / W, idx % W] += gy[n, c, i, j] with idx = indices[n, c, i, j].
Tensor max_pool2d_backward(const Tensor& gy, const Tensor& indices, const Shape& x_sizes);

Tensor avg_pool2d_forward(const Tensor& x, const ops::Pool2dParams& p, bool count_include_pad);
Tensor avg_pool2d_backward(const Tensor& gy, const Shape& x_sizes, const ops::Pool2dParams& p,
                           bool count_include_pad);

// y [N, C, OH, OW]; see tensor/pool.h for the window bounds.
Tensor adaptive_avg_pool2d_forward(const Tensor& x, std::array<std::int64_t, 2> output_size);
Tensor adaptive_avg_pool2d_backward(const Tensor& gy, const Shape& x_sizes);

}  // namespace retort::cpu
