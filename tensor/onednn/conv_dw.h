// Depthwise convolution backward-weights with the padding made explicit, for the geometries where
// oneDNN 2.6's jit_dw kernel declines the padded problem and it falls to gemm:jit: MobileNetV2's
// 480-channel 3x3 depthwise layers on a 2x2 map (padding 1) took 5.5–12 ms each per step there,
// against 0.2 ms for jit_dw on the 4x4 maps beside them. With x copied into the middle of a
// zeroed [N, C, H + 2·ph, W + 2·pw] buffer, the same weight gradient is that of an unpadded
// convolution, which jit_dw takes:
//   gw[c, 0, i, j] = Σ_{n,oh,ow} gy[n, c, oh, ow] · xpad[n, c, oh·sh + i, ow·sw + j]
//   gb[c]          = Σ_{n,oh,ow} gy[n, c, oh, ow]
#pragma once
#include <oneapi/dnnl/dnnl.hpp>

#include "tensor/conv.h"

namespace retort::onednn {

// Writes gw ([C, 1, KH, KW], packed) and gb ([C] when defined) from x (a memory over x's
// contents, any layout) and gy, for a depthwise convolution (groups = C = O, dilation 1) of x's
// sizes xs; returns false, writing nothing, when p has no padding or the unpadded problem would
// not run on a jit kernel either. The caller holds scratch_mutex() (this uses the Src and
// DiffDst2 slots).
bool depthwise_weights_padded(const dnnl::memory& x, const Tensor& gy, const Shape& xs,
                              const Shape& ws, const ops::Conv2dParams& p, const Tensor& gw,
                              const Tensor& gb);

// Whether pd runs oneDNN's gemm-based convolution (im2col + sgemm).
bool runs_on_gemm(const dnnl::primitive_desc_base& pd);

}  // namespace retort::onednn
