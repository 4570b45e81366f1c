// Differentiable softmax / log_softmax. Both derivatives are functions of the output alone, so
// the backward keeps y (not x). It keeps a graph-free alias of y: capturing y itself would form
// the cycle y → node → lambda → y and leak any graph that never runs backward.
#include "autograd/node.h"
#include "autograd/ops/nn_ops.h"
#include "tensor/softmax.h"

namespace retort {

using autograd::Grads;
using autograd::record;

namespace {

Tensor alias(const Tensor& y) { return as_strided(y, y.sizes(), y.strides(), y.offset()); }

}  // namespace

Tensor softmax(const Tensor& x, std::int64_t dim) {
  Tensor y = ops::softmax(x, dim);
  return record("softmax", {x}, y, [ys = alias(y), dim](const Tensor& g) {
    return Grads{ops::softmax_backward(g, ys, dim)};
  });
}

Tensor log_softmax(const Tensor& x, std::int64_t dim) {
  Tensor y = ops::log_softmax(x, dim);
  return record("log_softmax", {x}, y, [ys = alias(y), dim](const Tensor& g) {
    return Grads{ops::log_softmax_backward(g, ys, dim)};
  });
}

}  // namespace retort
