// 2-D pooling on raw tensors (no graph; autograd/ops/pool.cpp wraps these).
//
// x [N, C, H, W] → y [N, C, OH, OW], windows of kernel KH×KW moved by stride (sh, sw) over x padded
// by (ph, pw) on each side: OH = floor((H + 2·ph − KH) / sh) + 1 (same for OW); padding may be at
// most half the kernel. Window (i, j) covers rows i·sh − ph … i·sh − ph + KH − 1 (columns alike).
//   max:  y = max over the window's in-image elements (padding never wins).
//   avg:  y = Σ in-image elements / divisor, divisor KH·KW when count_include_pad, else the number
//         of in-image elements of the window.
//   adaptive avg: output (i, j) averages rows floor(i·H/OH) … ceil((i+1)·H/OH) − 1 (columns
//         alike), so any H, W map onto the requested OH, OW.
// Inputs may have any strides. float32 runs on oneDNN when enabled, float32/float64 on the
// reference kernels; fast-path results keep x's layout when x is NCHW or NHWC. cuda tensors run on
// cuDNN (adaptive pooling with unequal windows on an own kernel); their results are packed.
#pragma once
#include <array>
#include <cstdint>
#include <memory>

#include "tensor/tensor.h"

namespace retort::onednn {
struct PoolWorkspace;  // defined by the oneDNN fast path
}

namespace retort::ops {

struct Pool2dParams {
  std::array<std::int64_t, 2> kernel{1, 1};
  std::array<std::int64_t, 2> stride{1, 1};  // resolved: ≥ 1 (the autograd API maps 0 to kernel)
  std::array<std::int64_t, 2> padding{0, 0};
};

// Checks x and params (op names the caller in errors); returns y's shape.
Shape pool2d_output_shape(const char* op, const Tensor& x, const Pool2dParams& p);

// What max_pool2d_backward needs from the forward. Exactly one of indices / workspace / (input,
// output) is set: indices (reference path) is int64 [N, C, OH, OW] holding h·W + w of each
// window's maximum (the first one in row-major order on ties); workspace (oneDNN fast path) is
// oneDNN's opaque record; input and output (cuda path) are the forward's x and y, which cuDNN's
// backward reads to find each window's maximum again.
struct MaxPool2dState {
  Shape input_sizes;
  Pool2dParams params;
  Tensor indices;
  std::shared_ptr<const onednn::PoolWorkspace> workspace;
  Tensor input, output;
};
struct MaxPool2dResult {
  Tensor output;
  std::shared_ptr<const MaxPool2dState> state;  // null when !with_state
};
// with_state = false skips recording what the backward needs (inference).
MaxPool2dResult max_pool2d_forward(const Tensor& x, const Pool2dParams& p, bool with_state = true);
// gx [N, C, H, W]: gy[n,c,i,j] routed to the element that won window (i, j), summed where windows
// overlap.
Tensor max_pool2d_backward(const Tensor& gy, const MaxPool2dState& state);

Tensor avg_pool2d_forward(const Tensor& x, const Pool2dParams& p, bool count_include_pad = true);
// gx: gy[n,c,i,j] / divisor spread over window (i, j)'s in-image elements.
Tensor avg_pool2d_backward(const Tensor& gy, const Shape& x_sizes, const Pool2dParams& p,
                           bool count_include_pad = true);

// When OH divides H and OW divides W this is avg pooling with kernel = stride = (H/OH, W/OW).
Tensor adaptive_avg_pool2d_forward(const Tensor& x, std::array<std::int64_t, 2> output_size);
Tensor adaptive_avg_pool2d_backward(const Tensor& gy, const Shape& x_sizes);

}  // namespace retort::ops
