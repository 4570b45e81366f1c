// Reference matrix products: plain loops over any strides, accumulating in double. They are the
// specification the oneDNN matmul fast path is tested against, and the float64 path.
#pragma once
#include "tensor/tensor.h"

namespace retort::cpu {

// y [batch..., M, N] = a [..., M, K] · b [..., K, N], leading dims broadcast; packed result.
Tensor matmul(const Tensor& a, const Tensor& b);

// y [M, OUT] = x [M, IN] · wᵀ + bias, w [OUT, IN], bias [OUT] or undefined; packed result.
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& bias);

// s [N] = Σ_m x[m, n] for x [M, N] (any strides).
Tensor sum_rows(const Tensor& x);

}  // namespace retort::cpu
