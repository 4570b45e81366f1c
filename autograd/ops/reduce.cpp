// Differentiable reductions. Every backward first views the upstream gradient with the reduced
// dims kept as size 1 (keep shape), so it broadcasts against the input:
//   sum        g
//   mean       g / n
//   var        g · 2(x − x̄) / (n − correction)
//   logsumexp  g · exp(x − y)
//   norm       g · sign(x)·|x / y|^(p−1)   (0 where y = 0, the subgradient PyTorch picks)
//   max/min    g scattered to the first arg-extreme
// Saved outputs are captured as fresh views, never as the output tensor itself, so a node does
// not keep its own output alive through a cycle.
#include "autograd/ops/reduce.h"

#include <algorithm>

#include "autograd/node.h"
#include "tensor/elementwise.h"
#include "tensor/index.h"

namespace retort {

using autograd::Grads;
using autograd::record;

namespace {

// x's shape with the reduced dims (all when dims is empty) set to 1.
Shape keep_shape(const Tensor& x, const Dims& dims) {
  Shape s = x.sizes();
  if (dims.empty()) return Shape(s.size(), 1);
  for (std::int64_t d : dims)
    if (x.dim() > 0) s[wrap_dim(d, x.dim(), "reduce")] = 1;
  return s;
}

// t (any layout, keep's element count) relabelled as the packed shape keep: a new view.
Tensor as_keep(const Tensor& t, const Shape& keep) {
  Tensor c = t.contiguous();
  return as_strided(c, keep, contiguous_strides(keep), c.offset());
}

// g broadcast from keep to sizes, packed.
Tensor spread(const Tensor& g, const Shape& keep, const Shape& sizes) {
  Tensor out = empty(sizes, g.dtype(), g.device());
  out.copy_(as_keep(g, keep));
  return out;
}

double count(const Shape& sizes, const Shape& keep) {
  return static_cast<double>(shape_numel(sizes)) / static_cast<double>(std::max<std::int64_t>(shape_numel(keep), 1));
}

Tensor scatter_extreme(const Tensor& g, const Shape& sizes, std::int64_t dim, const Tensor& idx_keep,
                       const Shape& keep) {
  if (sizes.empty()) return g.clone();  // a 0-d input is its own extreme
  Tensor out = zeros(sizes, g.dtype(), g.device());
  ops::scatter_add_(out, dim, idx_keep, as_keep(g, keep));
  return out;
}

ValuesIndices extreme(const Tensor& x, std::int64_t dim, bool keepdim, bool is_max) {
  ValuesIndices r = is_max ? ops::max(x, dim, keepdim) : ops::min(x, dim, keepdim);
  const Shape keep = keep_shape(x, {dim});
  const std::int64_t d = x.dim() > 0 ? wrap_dim(dim, x.dim(), is_max ? "max" : "min") : 0;
  r.values = record(is_max ? "max" : "min", {x}, r.values,
                    [s = x.sizes(), d, keep, idx = as_keep(r.indices, keep)](const Tensor& g) {
                      return Grads{scatter_extreme(g, s, d, idx, keep)};
                    });
  return r;
}

}  // namespace

// The raw op runs first (in its own statement) so a bad dims list is reported by it, by name.
Tensor sum(const Tensor& x, const Dims& dims, bool keepdim) {
  Tensor y = ops::sum(x, dims, keepdim);
  return record("sum", {x}, y, [s = x.sizes(), keep = keep_shape(x, dims)](const Tensor& g) {
    return Grads{spread(g, keep, s)};
  });
}

Tensor mean(const Tensor& x, const Dims& dims, bool keepdim) {
  Tensor y = ops::mean(x, dims, keepdim);
  return record("mean", {x}, y, [s = x.sizes(), keep = keep_shape(x, dims)](const Tensor& g) {
    Tensor out = spread(g, keep, s);
    ops::mul_scalar_(out, 1.0 / count(s, keep));
    return Grads{out};
  });
}

Tensor var(const Tensor& x, const Dims& dims, int correction, bool keepdim) {
  Tensor y = ops::var(x, dims, correction, keepdim);
  return record("var", {x}, y, [x, dims, correction, keep = keep_shape(x, dims)](const Tensor& g) {
    const double n = count(x.sizes(), keep);
    Tensor dev = ops::sub(x, ops::mean(x, dims, true));
    return Grads{ops::mul_scalar(ops::mul(as_keep(g, keep), dev), 2.0 / (n - correction))};
  });
}

Tensor logsumexp(const Tensor& x, const Dims& dims, bool keepdim) {
  Tensor y = ops::logsumexp(x, dims, keepdim);
  const Shape keep = keep_shape(x, dims);
  return record("logsumexp", {x}, y, [x, keep, yk = as_keep(y, keep)](const Tensor& g) {
    return Grads{ops::mul(as_keep(g, keep), ops::exp(ops::sub(x, yk)))};
  });
}

Tensor norm(const Tensor& x, double p, const Dims& dims, bool keepdim) {
  Tensor y = ops::norm(x, p, dims, keepdim);
  const Shape keep = keep_shape(x, dims);
  return record("norm", {x}, y, [x, p, keep, yk = as_keep(y, keep)](const Tensor& g) {
    Tensor local;
    if (p == 1.0) {
      local = ops::sign(x);
    } else {
      Tensor zero = scalar_tensor(0.0, yk.dtype(), yk.device());
      Tensor ratio = ops::where(ops::eq(yk, zero), zero, ops::div(x, yk));
      local = p == 2.0 ? ratio : ops::mul(ops::sign(x), ops::pow(ops::abs(ratio), p - 1.0));
    }
    return Grads{ops::mul(as_keep(g, keep), local)};
  });
}

ValuesIndices max(const Tensor& x, std::int64_t dim, bool keepdim) { return extreme(x, dim, keepdim, true); }

ValuesIndices min(const Tensor& x, std::int64_t dim, bool keepdim) { return extreme(x, dim, keepdim, false); }

Tensor amax(const Tensor& x) {
  // The maximum of the flattened input, so the gradient has one first arg-max to go to.
  Tensor c = x.contiguous();
  ValuesIndices r = ops::max(as_strided(c, {c.numel()}, {1}, c.offset()), 0);
  return record("amax", {x}, r.values, [s = x.sizes(), idx = r.indices](const Tensor& g) {
    Tensor flat = zeros({shape_numel(s)}, g.dtype(), g.device());
    ops::index_add_(flat, 0, idx, as_keep(g, {1}));
    return Grads{as_keep(flat, s)};
  });
}

Tensor argmax(const Tensor& x, std::int64_t dim, bool keepdim) { return ops::argmax(x, dim, keepdim); }

}  // namespace retort
