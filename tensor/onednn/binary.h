// Elementwise sum of deferred blocked tensors (blocked.h), e.g. a residual block's two branches
// (batch norm outputs, or a batch norm output and the block's blocked input) and the autograd
// engine's sum of two blocked gradients of one tensor.
//   y[n, c, h, w] = a[n, c, h, w] + b[n, c, h, w]     a, b, y: [N, C, H, W] float32, same sizes
// and, with relu, y = max(a + b, 0) in the same pass (a relu post-op): a residual block's output.
#pragma once
#include "tensor/tensor.h"

namespace retort::onednn {

// a + b computed in a blocked layout and returned deferred in it, when a or b is a deferred
// blocked tensor (the other is reordered into its layout; a's layout when both are blocked) and
// both are dense float32 cpu tensors of one shape. Undefined otherwise (broadcasting, other
// dtypes, fast paths off): the caller runs the reference kernel.
Tensor add_blocked(const Tensor& a, const Tensor& b, bool relu = false);

}  // namespace retort::onednn
