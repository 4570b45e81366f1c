// Integer inference kernels (namespace retort::ops): convolution and linear layers on 8-bit
// activations and weights with 32-bit accumulation, the arithmetic of a deployed int8 model.
// One dispatch point per op: oneDNN's int8 primitives (tensor/onednn/int8.h) when the fast paths
// are on, else the plain-loop reference (tensor/cpu/int8.h), which is their specification.
//
// A layer is prepared once (Int8Layer) and run per batch:
//   conv:   x u8 NHWC [N, H, W, C] (already padded: the caller pads with its zero point),
//           y [N, OC, OH, OW] float32, OH = (H − KH) / SH + 1 (OW likewise),
//           y[n,o,i,j] = act(scale[o] · Σ_{c,u,v} x[n, i·SH+u, j·SW+v, c] · w[o,c,u,v] + bias[o])
//   linear: x u8 [M, K], y [M, OC] float32, y[m,o] = act(scale[o] · Σ_k x[m,k] · w[o,k] + bias[o])
// where the sum is exact (int32), act is ReLU when `relu` is set, else the identity. An
// activation zero point z (x_real = s_x·(q − z)) is folded by the caller into the bias:
// bias[o] = b[o] − scale[o]·z·Σ w[o,·]; scale[o] = s_x·s_w[o].
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "tensor/tensor.h"

namespace retort::ops {

struct Int8Layer {
  std::int64_t out_channels = 0, in_channels = 0;  // linear: OC = out features, C = K
  std::int64_t kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1;
  std::vector<std::int8_t> weight;  // [OC, C, KH, KW] (linear: [OC, K])
  std::vector<float> scale, bias;   // [OC] each
  bool relu = false;
  // The fast path's primitives and reordered weights, made on first use from the values above
  // (a layer whose values change afterwards must reset it).
  mutable std::shared_ptr<void> prepared;
};

// Checks the layer's sizes (names the layer kind and the sizes on failure).
void check_int8_layer(const Int8Layer& l, const char* op);

// Quantises float32 x onto a u8 grid as fake_quantize does (autograd/ops/quant.h), shifted by
// −qmin so that signed grids fit: q = clamp(round(x / scale) + zero_point, qmin, qmax) − qmin,
// rounding half to even, qmax − qmin ≤ 255. x [N, C, H, W] (NCHW) gives NHWC [N, H+2·pad_h,
// W+2·pad_w, C] with the border set to zero_point − qmin (a real 0); any other x is quantised
// in its element order (pad ignored).
std::vector<std::uint8_t> quantize_u8(const Tensor& x, float scale, float zero_point, std::int64_t qmin,
                                      std::int64_t qmax, std::int64_t pad_h = 0, std::int64_t pad_w = 0);

Tensor int8_conv2d(const std::vector<std::uint8_t>& x, std::int64_t n, std::int64_t h, std::int64_t w,
                   const Int8Layer& layer);
Tensor int8_linear(const std::vector<std::uint8_t>& x, std::int64_t m, const Int8Layer& layer);

}  // namespace retort::ops
