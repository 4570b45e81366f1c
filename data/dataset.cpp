// Dataset defaults and TensorDataset (see dataset.h).
#include "data/dataset.h"

#include <algorithm>
#include <cstring>

#include "tensor/error.h"
#include "tensor/index.h"
#include "tensor/views.h"

namespace retort::data {

void check_index(const char* op, std::int64_t i, std::int64_t n) {
  RETORT_CHECK(i >= 0 && i < n, op, ": index ", i, " out of range for a dataset of ", n, " examples");
}

Batch Dataset::get_batch(const std::vector<std::int64_t>& indices) const {
  RETORT_CHECK(!indices.empty(), "Dataset::get_batch: expected at least one index");
  std::vector<Tensor> inputs, targets;
  inputs.reserve(indices.size());
  targets.reserve(indices.size());
  for (auto i : indices) {
    Example e = get(i);
    inputs.push_back(std::move(e.input));
    targets.push_back(std::move(e.target));
  }
  return Batch{ops::stack(inputs), ops::stack(targets), from_vector(indices, {static_cast<std::int64_t>(indices.size())})};
}

TensorDataset::TensorDataset(Tensor inputs, Tensor targets) {
  RETORT_CHECK(inputs.defined() && targets.defined(), "TensorDataset: inputs and targets must be defined");
  RETORT_CHECK(inputs.dim() >= 1 && targets.dim() == 1 && inputs.size(0) == targets.size(0),
               "TensorDataset: inputs ", shape_str(inputs.sizes()), " and targets ", shape_str(targets.sizes()),
               ": expected inputs [N, ...] and targets [N]");
  RETORT_CHECK(inputs.device().is_cpu() && targets.device().is_cpu(), "TensorDataset: inputs ", inputs.str(),
               " and targets ", targets.str(), " must be on the cpu");
  // Packed rows make get_batch a plain memcpy per sample; a view of a packed tensor is cheap.
  inputs_ = inputs.contiguous();
  targets_ = targets.contiguous();
}

Example TensorDataset::get(std::int64_t i) const {
  check_index("TensorDataset::get", i, size());
  return Example{ops::select(inputs_, 0, i), ops::select(targets_, 0, i)};
}

namespace {

// out[k] = src[indices[k]] for packed tensors whose dim 0 is the example dim.
Tensor gather_rows(const Tensor& src, const std::vector<std::int64_t>& indices) {
  Shape shape = src.sizes();
  shape[0] = static_cast<std::int64_t>(indices.size());
  Tensor out = empty(shape, src.dtype());
  const std::size_t row = static_cast<std::size_t>(shape_numel(src.sizes()) / std::max<std::int64_t>(src.size(0), 1)) *
                          dtype_size(src.dtype());
  const auto* from = static_cast<const char*>(src.raw_data());
  auto* to = static_cast<char*>(out.raw_data());
  for (std::size_t k = 0; k < indices.size(); ++k)
    std::memcpy(to + k * row, from + static_cast<std::size_t>(indices[k]) * row, row);
  return out;
}

}  // namespace

Batch TensorDataset::get_batch(const std::vector<std::int64_t>& indices) const {
  for (auto i : indices) check_index("TensorDataset::get_batch", i, size());
  return Batch{gather_rows(inputs_, indices), gather_rows(targets_, indices),
               from_vector(indices, {static_cast<std::int64_t>(indices.size())})};
}

}  // namespace retort::data
