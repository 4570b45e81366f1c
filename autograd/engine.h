// Reverse-mode backward. Starting from `root` (a scalar, or any shape with an explicit gradient
// of that shape), walks the graph in an iterative topological order (no recursion, so graphs of
// any depth work), calls each node's backward once with the sum of the gradients reaching it, and
// accumulates into .grad() of every leaf that requires grad (and of non-leaves that called
// retain_grad()). Unless retain_graph, every visited node is released afterwards: saved tensors
// are freed and a second backward through it is an error.
#pragma once
#include "tensor/tensor.h"

namespace retort::autograd {

void backward(const Tensor& root, const Tensor& gradient = Tensor(), bool retain_graph = false);

}  // namespace retort::autograd
