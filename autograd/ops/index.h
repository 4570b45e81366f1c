// Differentiable indexing (namespace retort). Indices are int64 tensors.
#pragma once
#include "tensor/tensor.h"

namespace retort {

// Rows of x along dim picked by idx [K]: out has size K on dim.
Tensor index_select(const Tensor& x, std::int64_t dim, const Tensor& idx);
// out[i][j] = x[i][idx[i][j]] (dim = 1), idx same rank as x (PyTorch gather).
Tensor gather(const Tensor& x, std::int64_t dim, const Tensor& idx);
// labels [N] int64 in [0, C) → [N, C] of dtype (not differentiable).
Tensor one_hot(const Tensor& labels, std::int64_t num_classes, DType dtype = kFloat32);

}  // namespace retort
