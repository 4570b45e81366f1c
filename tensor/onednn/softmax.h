// oneDNN softmax fast path (float32, softmax_v2: accurate or log).
//
// Tensors may have any dense layout (packed, channels-last, ...) but the operands of one call
// must share it: y has x's layout; g and gx have y's. axis is already wrapped.
#pragma once
#include "tensor/tensor.h"

namespace retort::onednn {

// y = softmax(x) (log_softmax when log) along axis.
void softmax_forward(const Tensor& x, const Tensor& y, int axis, bool log);
// gx from upstream g and forward output y along axis.
void softmax_backward(const Tensor& g, const Tensor& y, const Tensor& gx, int axis, bool log);

}  // namespace retort::onednn
