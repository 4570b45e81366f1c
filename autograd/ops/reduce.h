// Differentiable reductions (namespace retort). dims empty = all dims; negative dims count from
// the end. max/min return values (differentiable: the gradient goes to the first arg-max) and
// int64 indices.
#pragma once
#include "tensor/reduce.h"

namespace retort {

using ops::Dims;
using ops::ValuesIndices;

Tensor sum(const Tensor& x, const Dims& dims = {}, bool keepdim = false);
Tensor mean(const Tensor& x, const Dims& dims = {}, bool keepdim = false);
Tensor var(const Tensor& x, const Dims& dims = {}, int correction = 1, bool keepdim = false);
Tensor logsumexp(const Tensor& x, const Dims& dims, bool keepdim = false);
Tensor norm(const Tensor& x, double p = 2.0, const Dims& dims = {}, bool keepdim = false);
ValuesIndices max(const Tensor& x, std::int64_t dim, bool keepdim = false);
ValuesIndices min(const Tensor& x, std::int64_t dim, bool keepdim = false);
Tensor amax(const Tensor& x);  // 0-d maximum of all elements, differentiable
Tensor argmax(const Tensor& x, std::int64_t dim, bool keepdim = false);  // not differentiable

}  // namespace retort
