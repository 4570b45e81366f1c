// Matrix products on raw tensors (no graph; autograd/ops/linalg.cpp wraps these). Operands may
// have any strides (a transposed view costs nothing: the fast path describes it to oneDNN as it
// lies). Results are packed. Both operands must share a floating dtype.
#pragma once
#include "tensor/tensor.h"

namespace retort::ops {

// a [..., M, K] × b [..., K, N] → [batch..., M, N], where batch is the NumPy broadcast of the
// leading dims of a and b. Both operands are at least 2-D.
Tensor matmul(const Tensor& a, const Tensor& b);

// a [B, M, K] × b [B, K, N] → [B, M, N] (no broadcasting).
Tensor bmm(const Tensor& a, const Tensor& b);

// x [..., IN], w [OUT, IN], b [OUT] or undefined → y = x·wᵀ + b, [..., OUT].
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b = Tensor());

// Gradients of y = x·wᵀ + b for the upstream gradient gy [..., OUT]:
//   gx = gy·w            [..., IN]   computed when w is given,
//   gw = Σ gyᵀ·x         [OUT, IN]   summed over all leading dims, computed when x is given,
//   gb = Σ gy            [OUT]       summed over all leading dims, computed when need_gb.
// Gradients not computed are undefined.
struct LinearGrads {
  Tensor gx, gw, gb;
};
LinearGrads linear_backward(const Tensor& gy, const Tensor& x, const Tensor& w, bool need_gb);

}  // namespace retort::ops
