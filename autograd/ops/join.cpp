// Differentiable joins (declared in autograd/ops/shape.h). Each input's gradient is its window of
// the upstream gradient, returned as a view (no copy); inputs that do not require grad get none.
#include "autograd/node.h"
#include "autograd/ops/shape.h"
#include "tensor/index.h"

namespace retort {

using autograd::Grads;
using autograd::record;

namespace {

std::vector<bool> wants_grad(const std::vector<Tensor>& xs) {
  std::vector<bool> w;
  w.reserve(xs.size());
  for (const Tensor& x : xs) w.push_back(x.defined() && x.requires_grad());
  return w;
}

}  // namespace

Tensor cat(const std::vector<Tensor>& xs, std::int64_t dim) {
  Tensor y = ops::cat(xs, dim);
  const int d = wrap_dim(dim, y.dim(), "cat");
  std::vector<Shape> shapes;
  for (const Tensor& x : xs) shapes.push_back(x.sizes());
  return record("cat", xs, y, [shapes, d, want = wants_grad(xs)](const Tensor& g) {
    Grads out(shapes.size());
    std::int64_t at = 0;
    for (std::size_t i = 0; i < shapes.size(); ++i) {
      if (want[i]) out[i] = as_strided(g, shapes[i], g.strides(), g.offset() + at * g.stride(d));
      at += shapes[i][d];
    }
    return out;
  });
}

Tensor stack(const std::vector<Tensor>& xs, std::int64_t dim) {
  Tensor y = ops::stack(xs, dim);
  const int d = wrap_dim(dim, y.dim(), "stack");
  return record("stack", xs, y, [s = xs[0].sizes(), d, want = wants_grad(xs)](const Tensor& g) {
    Shape st = g.strides();
    st.erase(st.begin() + d);
    Grads out(want.size());
    for (std::size_t i = 0; i < want.size(); ++i)
      if (want[i]) out[i] = as_strided(g, s, st, g.offset() + static_cast<std::int64_t>(i) * g.stride(d));
    return out;
  });
}

}  // namespace retort
