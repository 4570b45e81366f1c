// Reference softmax kernels: one max-shifted pass per slice along dim, any strides, accumulation
// in double. The oneDNN fast path is tested against these. dim is already wrapped (0 ≤ dim < ndim).
#pragma once
#include <cstdint>

#include "tensor/tensor.h"

namespace retort::cpu {

// y = softmax(x) along dim, or log_softmax when log; y has x's layout when x is dense, else packed.
Tensor softmax(const Tensor& x, int dim, bool log);
// gx from upstream g and forward output y along dim (formulas in tensor/softmax.h); gx has y's
// layout when y is dense, else packed.
Tensor softmax_backward(const Tensor& g, const Tensor& y, int dim, bool log);

}  // namespace retort::cpu
