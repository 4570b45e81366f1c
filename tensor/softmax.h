// Softmax along one dim on raw tensors (no graph; autograd/ops/softmax.cpp wraps these).
// For x of any shape and dim d, each 1-D slice s along d maps to
//   softmax:      y_i = exp(s_i − max s) / Σ_j exp(s_j − max s)
//   log_softmax:  y_i = s_i − max s − log Σ_j exp(s_j − max s)      (never log(softmax), which
//                                                                     underflows to −inf)
// Results have x's layout when x is dense (a channels-last tensor stays channels-last).
#pragma once
#include "tensor/tensor.h"

namespace retort::ops {

Tensor softmax(const Tensor& x, std::int64_t dim);
Tensor log_softmax(const Tensor& x, std::int64_t dim);

// Backward from the upstream gradient g and the forward output y (same shape), along dim:
//   softmax:      gx = y · (g − Σ_d g·y)
//   log_softmax:  gx = g − exp(y) · Σ_d g
Tensor softmax_backward(const Tensor& g, const Tensor& y, std::int64_t dim);
Tensor log_softmax_backward(const Tensor& g, const Tensor& y, std::int64_t dim);

}  // namespace retort::ops
