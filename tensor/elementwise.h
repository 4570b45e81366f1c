// Elementwise ops on raw tensors (no graph; autograd/ops/ wraps these). Binary ops broadcast
// NumPy-style; both operands must have the same dtype. Results are new packed tensors unless the
// name ends in '_' (in place into the first argument, which must already have the result shape).
// Comparisons return a mask of the input dtype holding 0 and 1.
#pragma once
#include "tensor/tensor.h"

namespace retort::ops {

// Unary: y = f(x).
Tensor neg(const Tensor& x);
Tensor abs(const Tensor& x);
Tensor sign(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor pow(const Tensor& x, double p);                 // x^p
Tensor clamp(const Tensor& x, double lo, double hi);   // use ±infinity for one-sided
Tensor relu(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor tanh(const Tensor& x);
// Nearest integer, ties to even (torch.round): 0.5 → 0, 1.5 → 2, −2.5 → −2. Floating dtypes.
Tensor round(const Tensor& x);

// Backward helpers for the activations (g = upstream gradient).
Tensor relu_backward(const Tensor& g, const Tensor& y);     // g · [y > 0]
Tensor sigmoid_backward(const Tensor& g, const Tensor& y);  // g · y(1−y)
Tensor tanh_backward(const Tensor& g, const Tensor& y);     // g · (1−y²)
// relu_backward that may write its result over g's memory and return a tensor over it, when g
// alone holds that memory (no other tensor, view or blocked copy shares it). Same values. Only for
// a caller that never reads g again: a backward function handed the engine's gradient.
Tensor relu_backward_reusing(const Tensor& g, const Tensor& y);

// Binary with broadcasting: out shape = broadcast_shapes(a, b).
Tensor add(const Tensor& a, const Tensor& b);
// relu(a + b) for a, b of one shape (a residual block's output): the values of relu(add(a, b)),
// in one pass when an operand is a deferred blocked tensor (oneDNN's add with a relu post-op).
Tensor add_relu(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor maximum(const Tensor& a, const Tensor& b);
Tensor minimum(const Tensor& a, const Tensor& b);

// Scalar forms: x op s.
Tensor add_scalar(const Tensor& x, double s);
Tensor mul_scalar(const Tensor& x, double s);
Tensor rsub_scalar(const Tensor& x, double s);  // s − x
Tensor rdiv_scalar(const Tensor& x, double s);  // s / x

// Masks (same dtype as a; 1 where true).
Tensor eq(const Tensor& a, const Tensor& b);
Tensor ne(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);
Tensor gt_scalar(const Tensor& a, double s);
Tensor lt_scalar(const Tensor& a, double s);
// where(mask, a, b): a where mask ≠ 0 else b; all three broadcast together.
Tensor where(const Tensor& mask, const Tensor& a, const Tensor& b);

// In place: a ← a op b (b broadcast to a's shape).
void add_(const Tensor& a, const Tensor& b);
void mul_(const Tensor& a, const Tensor& b);
void add_scaled_(const Tensor& a, const Tensor& b, double alpha);  // a ← a + alpha·b
void mul_scalar_(const Tensor& a, double s);

// True when every element is finite (no NaN/Inf).
bool all_finite(const Tensor& x);

}  // namespace retort::ops
