// oneDNN int8 fast paths for tensor/int8.h: convolution_forward and matmul on u8 activations and
// s8 weights with s32 accumulation, per-output-channel output scales given at run time
// (primitive_attr::set_output_scales with DNNL_RUNTIME_F32_VAL) and ReLU as an eltwise post-op.
// Same arguments and results as the reference (tensor/cpu/int8.h). Each returns an undefined
// Tensor when oneDNN offers no primitive for the case, and the dispatch falls back.
#pragma once
#include "tensor/int8.h"

namespace retort::onednn {

Tensor int8_conv2d(const std::vector<std::uint8_t>& x, std::int64_t n, std::int64_t h, std::int64_t w,
                   const ops::Int8Layer& layer);
Tensor int8_linear(const std::vector<std::uint8_t>& x, std::int64_t m, const ops::Int8Layer& layer);

}  // namespace retort::onednn
