// Differentiable matrix products. Backward lambdas capture only the operand the other gradient
// needs (a for ∂b, b for ∂a), and only when that gradient is wanted, so e.g. a frozen weight does
// not keep activations alive. Transposes are views: the raw matmul reads them in place.
#include "autograd/node.h"
#include "autograd/ops/nn_ops.h"
#include "tensor/linalg.h"
#include "tensor/reduce.h"
#include "tensor/views.h"

namespace retort {

using autograd::Grads;
using autograd::record;

namespace {

Tensor mT(const Tensor& t) { return ops::transpose(t, -1, -2); }

// Gradient for an operand of shape `shape` from one of the broadcast batch shape.
Tensor reduce_to(const Tensor& g, const Shape& shape) {
  return g.sizes() == shape ? g : ops::sum_to(g, shape);
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  Tensor y = ops::matmul(a, b);
  const bool need_a = a.requires_grad(), need_b = b.requires_grad();
  Tensor sa = need_b ? a : Tensor(), sb = need_a ? b : Tensor();
  return record("matmul", {a, b}, y, [sa, sb, need_a, need_b, sha = a.sizes(), shb = b.sizes()](const Tensor& g) {
    Grads r(2);
    // ∂a = g·bᵀ, ∂b = aᵀ·g, then summed over any batch dims the operand was broadcast along.
    if (need_a) r[0] = reduce_to(ops::matmul(g, mT(sb)), sha);
    if (need_b) {
      if (shb.size() == 2 && sa.dim() > 2) {
        // b shared by every batch entry: Σ_batch aᵀ·g is one GEMM over the stacked rows.
        const std::int64_t rows = shape_numel(Shape(sa.sizes().begin(), sa.sizes().end() - 1));
        r[1] = ops::matmul(mT(ops::reshape(sa, {rows, sa.size(-1)})), ops::reshape(g, {rows, g.size(-1)}));
      } else {
        r[1] = reduce_to(ops::matmul(mT(sa), g), shb);
      }
    }
    return r;
  });
}

Tensor bmm(const Tensor& a, const Tensor& b) {
  Tensor y = ops::bmm(a, b);
  const bool need_a = a.requires_grad(), need_b = b.requires_grad();
  Tensor sa = need_b ? a : Tensor(), sb = need_a ? b : Tensor();
  return record("bmm", {a, b}, y, [sa, sb, need_a, need_b](const Tensor& g) {
    Grads r(2);
    if (need_a) r[0] = ops::bmm(g, mT(sb));
    if (need_b) r[1] = ops::bmm(mT(sa), g);
    return r;
  });
}

Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b) {
  Tensor y = ops::linear(x, w, b);
  const bool need_b = b.defined() && b.requires_grad();
  // linear_backward computes ∂x only when given w and ∂w only when given x.
  Tensor sx = w.requires_grad() ? x : Tensor(), sw = x.requires_grad() ? w : Tensor();
  return record("linear", {x, w, b}, y, [sx, sw, need_b](const Tensor& g) {
    auto r = ops::linear_backward(g, sx, sw, need_b);
    return Grads{r.gx, r.gw, r.gb};
  });
}

}  // namespace retort
