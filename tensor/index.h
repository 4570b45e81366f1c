// Joins and indexing on raw tensors (no graph; autograd/ops/index.h and shape.h wrap these).
// Indices are int64 tensors; an index outside its dim is an error naming the op and the shapes.
// Results are new packed tensors unless the name ends in '_' (in place into the first argument).
#pragma once
#include <cstdint>
#include <vector>

#include "tensor/tensor.h"

namespace retort::ops {

// cat: inputs of equal rank, dtype and device, equal sizes except along dim; out size on dim is
// the sum of theirs. stack: inputs of identical shape; out has a new dim of size xs.size() at dim
// (dim in [0, rank], negative counts from the end of the output's rank).
Tensor cat(const std::vector<Tensor>& xs, std::int64_t dim = 0);
Tensor stack(const std::vector<Tensor>& xs, std::int64_t dim = 0);

// index_select: idx [K] → out equals x with dim of size K, out[..., k, ...] = x[..., idx[k], ...].
Tensor index_select(const Tensor& x, std::int64_t dim, const Tensor& idx);
// index_add: x[..., idx[k], ...] += src[..., k, ...] (src equals x with dim of size K; repeated
// indices accumulate). The gradient of index_select.
void index_add_(const Tensor& x, std::int64_t dim, const Tensor& idx, const Tensor& src);
Tensor index_add(const Tensor& x, std::int64_t dim, const Tensor& idx, const Tensor& src);

// gather (PyTorch): idx has x's rank and idx.size(d) ≤ x.size(d) for d ≠ dim; out has idx's
// shape and, for dim = 1 of a 3-d x, out[i][j][k] = x[i][idx[i][j][k]][k].
Tensor gather(const Tensor& x, std::int64_t dim, const Tensor& idx);
// scatter_add: x[i][idx[i][j][k]][k] += src[i][j][k] (dim = 1) over idx's shape; src at least
// idx's size in every dim. The gradient of gather.
void scatter_add_(const Tensor& x, std::int64_t dim, const Tensor& idx, const Tensor& src);
Tensor scatter_add(const Tensor& x, std::int64_t dim, const Tensor& idx, const Tensor& src);

// labels (any shape, int64 in [0, C)) → labels.shape + [C], 1 at the label, 0 elsewhere.
Tensor one_hot(const Tensor& labels, std::int64_t num_classes, DType dtype = kFloat32);

}  // namespace retort::ops
