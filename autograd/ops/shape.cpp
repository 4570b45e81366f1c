// Differentiable views. A view's gradient goes back to the input's shape: reshapes reshape back,
// permutes apply the inverse order, slicing ops scatter into zeros, expand sums (cat/stack live
// in join.cpp).
#include "autograd/ops/shape.h"

#include "autograd/node.h"
#include "tensor/reduce.h"
#include "tensor/views.h"

namespace retort {

using autograd::Grads;
using autograd::record;
using autograd::record_window;

namespace {

Grads reshape_back(const Tensor& g, const Shape& sizes) { return Grads{ops::reshape(g, sizes)}; }

}  // namespace

Tensor view(const Tensor& x, const Shape& sizes) {
  return record("view", {x}, ops::view(x, sizes), [s = x.sizes()](const Tensor& g) { return reshape_back(g, s); });
}

Tensor reshape(const Tensor& x, const Shape& sizes) {
  return record("reshape", {x}, ops::reshape(x, sizes),
                [s = x.sizes()](const Tensor& g) { return reshape_back(g, s); });
}

Tensor flatten(const Tensor& x, std::int64_t start_dim, std::int64_t end_dim) {
  return record("flatten", {x}, ops::flatten(x, start_dim, end_dim),
                [s = x.sizes()](const Tensor& g) { return reshape_back(g, s); });
}

Tensor unsqueeze(const Tensor& x, std::int64_t dim) {
  return record("unsqueeze", {x}, ops::unsqueeze(x, dim),
                [s = x.sizes()](const Tensor& g) { return reshape_back(g, s); });
}

Tensor squeeze(const Tensor& x, std::int64_t dim) {
  return record("squeeze", {x}, ops::squeeze(x, dim),
                [s = x.sizes()](const Tensor& g) { return reshape_back(g, s); });
}

Tensor permute(const Tensor& x, const std::vector<std::int64_t>& order) {
  Tensor y = ops::permute(x, order);
  std::vector<std::int64_t> inverse(order.size());
  for (std::size_t i = 0; i < order.size(); ++i) inverse[wrap_dim(order[i], x.dim(), "permute")] = static_cast<std::int64_t>(i);
  return record("permute", {x}, y, [inverse](const Tensor& g) { return Grads{ops::permute(g, inverse)}; });
}

Tensor transpose(const Tensor& x, std::int64_t d0, std::int64_t d1) {
  return record("transpose", {x}, ops::transpose(x, d0, d1),
                [d0, d1](const Tensor& g) { return Grads{ops::transpose(g, d0, d1)}; });
}

Tensor narrow(const Tensor& x, std::int64_t dim, std::int64_t start, std::int64_t length) {
  return record_window("narrow", x, ops::narrow(x, dim, start, length),
                       {x.sizes(), [=](const Tensor& z) { return ops::narrow(z, dim, start, length); }});
}

Tensor slice(const Tensor& x, std::int64_t dim, std::int64_t start, std::int64_t end, std::int64_t step) {
  return record_window("slice", x, ops::slice(x, dim, start, end, step),
                       {x.sizes(), [=](const Tensor& z) { return ops::slice(z, dim, start, end, step); }});
}

Tensor select(const Tensor& x, std::int64_t dim, std::int64_t index) {
  return record_window("select", x, ops::select(x, dim, index),
                       {x.sizes(), [=](const Tensor& z) { return ops::select(z, dim, index); }});
}

Tensor expand(const Tensor& x, const Shape& sizes) {
  return record("expand", {x}, ops::expand(x, sizes),
                [s = x.sizes()](const Tensor& g) { return Grads{ops::sum_to(g, s)}; });
}

Tensor contiguous(const Tensor& x) {
  // Always a distinct result tensor (a fresh view when no copy is needed) so the node is its own.
  Tensor y = x.is_contiguous() ? as_strided(x, x.sizes(), x.strides(), x.offset()) : x.clone();
  return record("contiguous", {x}, y, [](const Tensor& g) { return Grads{g}; });
}

}  // namespace retort
