// oneDNN matmul fast path (float32).
//
// dst [B..., M, N] = a [B..., M, K] · b [B..., K, N] (+ bias [N] on every row when defined).
// a and b have dst's rank; a size-1 batch dim of either broadcasts. Operands are described to
// oneDNN with their own strides, so transposed views (e.g. wᵀ of a linear layer) are used in place;
// only strides oneDNN's GEMM kernels do not take (no unit stride in the last two dims, or a
// stride-0 expansion) are packed first. dst must be packed and no dim may be 0.
#pragma once
#include "tensor/tensor.h"

namespace retort::onednn {

void matmul(const Tensor& a, const Tensor& b, const Tensor& bias, const Tensor& dst);

}  // namespace retort::onednn
