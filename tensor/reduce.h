// Reductions on raw tensors. `dims` lists the dims to reduce (negative counts from the end; empty
// means all); keepdim keeps them as size 1. Results are packed.
#pragma once
#include <vector>

#include "tensor/tensor.h"

namespace retort::ops {

using Dims = std::vector<std::int64_t>;

Tensor sum(const Tensor& x, const Dims& dims = {}, bool keepdim = false);
Tensor mean(const Tensor& x, const Dims& dims = {}, bool keepdim = false);
// Variance with `correction` (1 = unbiased, 0 = population).
Tensor var(const Tensor& x, const Dims& dims = {}, int correction = 1, bool keepdim = false);
// log Σ exp(x), computed stably (max-shifted).
Tensor logsumexp(const Tensor& x, const Dims& dims, bool keepdim = false);
// p-norm (p > 0): (Σ |x|^p)^(1/p).
Tensor norm(const Tensor& x, double p = 2.0, const Dims& dims = {}, bool keepdim = false);

struct ValuesIndices {
  Tensor values;   // dtype of x
  Tensor indices;  // int64, index along dim of the first max/min
};
ValuesIndices max(const Tensor& x, std::int64_t dim, bool keepdim = false);
ValuesIndices min(const Tensor& x, std::int64_t dim, bool keepdim = false);
Tensor max_all(const Tensor& x);  // 0-d
Tensor min_all(const Tensor& x);
Tensor argmax(const Tensor& x, std::int64_t dim, bool keepdim = false);

// Sums g (of a broadcast result shape) down to `shape` — the gradient of broadcasting.
Tensor sum_to(const Tensor& g, const Shape& shape);

}  // namespace retort::ops
