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

// The dispatch points' entries: the blocked form when it applies, else the flat one into a new
// tensor of the operand's layout; undefined when neither applies (dtype, device, layout,
// disabled), and the caller runs the reference kernel.
Tensor eltwise_forward_any(Eltwise k, const Tensor& x);
Tensor eltwise_backward_any(Eltwise k, const Tensor& g, const Tensor& saved);
// eltwise_backward_any written over g's own bytes (its blocked copy, or its plain memory) and
// returned as a tensor over them, when g's tensor, storage and blocked copy have no other holder.
// For a caller that never reads g again. Undefined when it does not apply.
Tensor eltwise_backward_over(Eltwise k, const Tensor& g, const Tensor& saved);

}  // namespace retort::onednn
