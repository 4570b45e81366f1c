// Views on raw tensors: they share storage and change only sizes/strides/offset. reshape copies
// only when the strides make a view impossible (as in PyTorch); view() never copies and throws.
#pragma once
#include <vector>

#include "tensor/tensor.h"

namespace retort::ops {

Tensor view(const Tensor& x, Shape sizes);     // one size may be −1 (inferred)
Tensor reshape(const Tensor& x, Shape sizes);  // view when possible, else a packed copy
Tensor flatten(const Tensor& x, std::int64_t start_dim = 0, std::int64_t end_dim = -1);
Tensor permute(const Tensor& x, const std::vector<std::int64_t>& order);
Tensor transpose(const Tensor& x, std::int64_t d0, std::int64_t d1);
Tensor narrow(const Tensor& x, std::int64_t dim, std::int64_t start, std::int64_t length);
// Elements start, start+step, ... < end along dim (negative start/end count from the end).
Tensor slice(const Tensor& x, std::int64_t dim, std::int64_t start, std::int64_t end,
             std::int64_t step = 1);
Tensor select(const Tensor& x, std::int64_t dim, std::int64_t index);  // drops dim
Tensor unsqueeze(const Tensor& x, std::int64_t dim);
Tensor squeeze(const Tensor& x, std::int64_t dim);
Tensor expand(const Tensor& x, const Shape& sizes);  // size-1 dims to any size (stride 0)

}  // namespace retort::ops
