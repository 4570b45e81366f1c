// Reference 2-D convolution kernels (float32 and float64): direct loops over the definition in
// tensor/conv.h, the specification the oneDNN fast path is tested against. Arguments are assumed
// checked by the dispatch in tensor/conv.cpp; inputs may have any strides, outputs are packed.
#pragma once
#include "tensor/conv.h"

namespace retort::cpu {

// y [N, O, OH, OW] = conv(x [N, C, H, W], w [O, C/G, KH, KW]) + bias [O] (bias may be undefined).
Tensor conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& bias,
                      const ops::Conv2dParams& p);
// gx [N, C, H, W] (x_sizes) from gy [N, O, OH, OW] and w.
Tensor conv2d_backward_data(const Tensor& gy, const Tensor& w, const Shape& x_sizes,
                            const ops::Conv2dParams& p);
// gw [O, C/G, KH, KW] (w_sizes) from gy and x.
Tensor conv2d_backward_weight(const Tensor& gy, const Tensor& x, const Shape& w_sizes,
                              const ops::Conv2dParams& p);
// gb [O] = Σ_{n,i,j} gy[n, o, i, j].
Tensor conv2d_backward_bias(const Tensor& gy);

}  // namespace retort::cpu
