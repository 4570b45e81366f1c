// 2-D convolution on raw tensors (no graph; autograd/ops/conv.cpp wraps these).
//
// x [N, C, H, W], w [O, C/G, KH, KW] (G = groups, C and O divisible by G), bias [O] or undefined.
// y [N, O, OH, OW] with OH = floor((H + 2·ph − dh·(KH−1) − 1) / sh) + 1 (same for OW), and
//   y[n,o,i,j] = bias[o] + Σ_{c,kh,kw} x[n, g·C/G + c, i·sh − ph + kh·dh, j·sw − pw + kw·dw]
//                                       · w[o, c, kh, kw],        g = o / (O/G),
// taps outside the input reading 0. Inputs may have any strides; results are packed NCHW
// (contiguous). float32 runs on oneDNN when enabled, float32/float64 on the reference kernels.
#pragma once
#include <array>
#include <cstdint>
#include <memory>

#include "tensor/tensor.h"

namespace retort::onednn {
struct ConvSaved;  // defined by the oneDNN fast path
}

namespace retort::ops {

struct Conv2dParams {
  std::array<std::int64_t, 2> stride{1, 1};
  std::array<std::int64_t, 2> padding{0, 0};
  std::array<std::int64_t, 2> dilation{1, 1};
  std::int64_t groups = 1;
};

// Checks x, w, bias and params (names "conv2d" and both shapes on failure); returns y's shape.
Shape conv2d_output_shape(const Tensor& x, const Tensor& w, const Tensor& bias,
                          const Conv2dParams& p);

// What a forward can leave for the weight gradient: the fast path's copy of x in the layout its
// kernels read (saves converting x again in the backward). Null when there is nothing to keep.
using Conv2dSaved = std::shared_ptr<const onednn::ConvSaved>;

// y; when `saved` is non-null it receives the forward's reusable state (training).
Tensor conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dParams& p,
                      Conv2dSaved* saved = nullptr);

// relu(conv2d_forward(x, w, bias, p)) in one pass (the oneDNN path applies the relu as it writes
// y); the same values as the composite. Its backward is relu_backward(g, y) into conv2d_backward.
Tensor conv2d_relu_forward(const Tensor& x, const Tensor& w, const Tensor& bias,
                           const Conv2dParams& p, Conv2dSaved* saved = nullptr);

// Which gradients conv2d_backward computes.
struct Conv2dGradMask {
  bool input = true;
  bool weight = true;
  bool bias = false;
};
struct Conv2dGrads {
  Tensor input;   // gx [N, C, H, W]       = Σ over the taps that read x of gy · w
  Tensor weight;  // gw [O, C/G, KH, KW]   = Σ_{n,i,j} gy[n,o,i,j] · x[n, ·, tap]
  Tensor bias;    // gb [O]                = Σ_{n,i,j} gy[n,o,i,j]
};
// All requested gradients from one upstream gradient gy [N, O, OH, OW] (any strides). x and w are
// the forward's inputs (x is only read for the weight gradient, w only for the input gradient, but
// both shapes are needed). Doing them together lets the fast path convert gy's layout once.
// `saved` (from conv2d_forward of the same x, w) is optional.
Conv2dGrads conv2d_backward(const Tensor& gy, const Tensor& x, const Tensor& w,
                            const Conv2dGradMask& mask, const Conv2dParams& p,
                            const Conv2dSaved& saved = nullptr);

// The three pieces separately; x_sizes / w_sizes are the shapes of the forward's x and w.
Tensor conv2d_backward_data(const Tensor& gy, const Tensor& w, const Shape& x_sizes,
                            const Conv2dParams& p);
Tensor conv2d_backward_weight(const Tensor& gy, const Tensor& x, const Shape& w_sizes,
                              const Conv2dParams& p);
Tensor conv2d_backward_bias(const Tensor& gy);

}  // namespace retort::ops
