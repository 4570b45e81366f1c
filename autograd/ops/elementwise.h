// Differentiable elementwise ops (namespace retort): what models and losses are written with.
// Each records a graph node when an input requires grad (autograd/node.h); binary ops broadcast
// and their gradients are summed back to each input's shape. Comparisons and detach() return
// tensors that carry no gradient.
#pragma once
#include "tensor/tensor.h"

namespace retort {

Tensor neg(const Tensor& x);
Tensor abs(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor pow(const Tensor& x, double p);
Tensor clamp(const Tensor& x, double lo, double hi);  // gradient 0 outside [lo, hi]
Tensor relu(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor tanh(const Tensor& x);
// y = x where x > 0, else slope·x (PyTorch's leaky_relu; gradient 1 / slope, slope at x = 0).
Tensor leaky_relu(const Tensor& x, double slope = 0.01);

Tensor add(const Tensor& a, const Tensor& b);
// relu(a + b), a and b of one shape, as one node: both get g·[y > 0] (the values and gradients
// of relu(add(a, b)); one pass on blocked operands, tensor/elementwise.h).
Tensor add_relu(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor maximum(const Tensor& a, const Tensor& b);  // gradient to a where a ≥ b, else to b
Tensor minimum(const Tensor& a, const Tensor& b);
Tensor where(const Tensor& mask, const Tensor& a, const Tensor& b);  // no gradient into mask

Tensor operator-(const Tensor& x);
Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator+(const Tensor& a, double s);
Tensor operator-(const Tensor& a, double s);
Tensor operator*(const Tensor& a, double s);
Tensor operator/(const Tensor& a, double s);
Tensor operator+(double s, const Tensor& a);
Tensor operator-(double s, const Tensor& a);
Tensor operator*(double s, const Tensor& a);
Tensor operator/(double s, const Tensor& a);

// Masks (0/1 in a's dtype), never differentiable.
Tensor eq(const Tensor& a, const Tensor& b);
Tensor ne(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);

// Nearest integer, ties to even; no gradient (it is 0 almost everywhere). The straight-through
// estimator that quantisation-aware training needs is round_ste (autograd/ops/quant.h).
Tensor round(const Tensor& x);

// Same data, cut from the graph.
Tensor detach(const Tensor& x);

}  // namespace retort
