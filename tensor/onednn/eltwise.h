// oneDNN eltwise fast path for the unary activations (float32, dense layouts). Each function
// returns false when the fast path does not apply (dtype, layout, disabled), and the caller then
// runs the reference kernel.
#pragma once
#include "tensor/tensor.h"

namespace retort::onednn {

enum class Eltwise { Relu, Sigmoid, Tanh, Exp, Log, Sqrt, Abs };

// y = f(x); y is preallocated with x's sizes and strides.
bool eltwise_forward(Eltwise k, const Tensor& x, const Tensor& y);
// gx = g · f'(·), from the forward output y (Relu, Sigmoid, Tanh, Exp, Sqrt) or input (Log, Abs).
bool eltwise_backward(Eltwise k, const Tensor& g, const Tensor& saved, const Tensor& gx);

// The same on deferred blocked tensors (blocked.h), computed in their blocked layout and returned
// deferred: forward when x is one, backward when g and saved are in one blocked layout.
// Undefined results when they are not.
Tensor eltwise_forward_blocked(Eltwise k, const Tensor& x);
Tensor eltwise_backward_blocked(Eltwise k, const Tensor& g, const Tensor& saved);

}  // namespace retort::onednn
