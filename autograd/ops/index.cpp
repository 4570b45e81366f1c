// Differentiable indexing. The gradient of picking elements is adding the upstream gradient back
// at the picked places, so repeated indices accumulate: index_select ↔ index_add,
// gather ↔ scatter_add (both into zeros of the input's shape).
#include "autograd/ops/index.h"

#include "autograd/node.h"
#include "tensor/index.h"

namespace retort {

using autograd::Grads;
using autograd::record;

Tensor index_select(const Tensor& x, std::int64_t dim, const Tensor& idx) {
  return record("index_select", {x}, ops::index_select(x, dim, idx),
                [s = x.sizes(), dim, idx](const Tensor& g) {
                  Tensor out = zeros(s, g.dtype(), g.device());
                  ops::index_add_(out, dim, idx, g);
                  return Grads{out};
                });
}

Tensor gather(const Tensor& x, std::int64_t dim, const Tensor& idx) {
  return record("gather", {x}, ops::gather(x, dim, idx), [s = x.sizes(), dim, idx](const Tensor& g) {
    Tensor out = zeros(s, g.dtype(), g.device());
    ops::scatter_add_(out, dim, idx, g);
    return Grads{out};
  });
}

Tensor one_hot(const Tensor& labels, std::int64_t num_classes, DType dtype) {
  return ops::one_hot(labels, num_classes, dtype);
}

}  // namespace retort
