// ClassSubset and class_tasks (see class_subset.h). The subset maps its indices to base rows and
// gathers through base->get_batch, so a TensorDataset underneath keeps its direct gather.
#include "data/class_subset.h"

#include <algorithm>
#include <numeric>
#include <set>

#include "tensor/error.h"

namespace retort::data {

ClassSubset::ClassSubset(std::shared_ptr<const Dataset> base, std::vector<std::int64_t> classes, Remap remap)
    : base_(std::move(base)), classes_(std::move(classes)), remap_(remap) {
  RETORT_CHECK(base_ != nullptr, "ClassSubset: the base dataset is null");
  RETORT_CHECK(!classes_.empty(), "ClassSubset: no classes given");
  std::set<std::int64_t> wanted(classes_.begin(), classes_.end());
  RETORT_CHECK(wanted.size() == classes_.size(), "ClassSubset: the classes must be distinct");
  for (std::int64_t i = 0; i < base_->size(); ++i) {
    const Tensor t = base_->get(i).target;
    RETORT_CHECK(t.numel() == 1 && t.dtype() == kInt64, "ClassSubset: sample ", i, " has target ", t.str(),
                 ", expected an int64 class label");
    if (wanted.count(t.item<std::int64_t>())) rows_.push_back(i);
  }
  RETORT_CHECK(!rows_.empty(), "ClassSubset: none of the ", base_->size(), " samples has one of the ",
               classes_.size(), " classes");
}

Tensor ClassSubset::map_targets(const Tensor& targets) const {
  if (remap_ == Remap::None) return targets;
  std::vector<std::int64_t> v = targets.to_vector<std::int64_t>();
  for (auto& y : v) y = std::find(classes_.begin(), classes_.end(), y) - classes_.begin();
  return from_vector(v, targets.sizes());
}

Example ClassSubset::get(std::int64_t i) const {
  check_index("ClassSubset::get", i, size());
  Example e = base_->get(rows_[static_cast<std::size_t>(i)]);
  e.target = map_targets(e.target);
  return e;
}

Batch ClassSubset::get_batch(const std::vector<std::int64_t>& indices) const {
  std::vector<std::int64_t> base_rows;
  base_rows.reserve(indices.size());
  for (auto i : indices) {
    check_index("ClassSubset::get_batch", i, size());
    base_rows.push_back(rows_[static_cast<std::size_t>(i)]);
  }
  Batch b = base_->get_batch(base_rows);
  b.targets = map_targets(b.targets);
  b.indices = from_vector(indices, {static_cast<std::int64_t>(indices.size())});
  return b;
}

Batch ClassSubset::all() const {
  std::vector<std::int64_t> idx(rows_.size());
  std::iota(idx.begin(), idx.end(), 0);
  return get_batch(idx);
}

std::vector<std::vector<std::int64_t>> class_tasks(std::int64_t num_classes, std::int64_t tasks) {
  RETORT_CHECK(num_classes >= 1 && tasks >= 1 && num_classes % tasks == 0, "class_tasks: ", num_classes,
               " classes do not split into ", tasks, " equal tasks");
  const std::int64_t per = num_classes / tasks;
  std::vector<std::vector<std::int64_t>> out(static_cast<std::size_t>(tasks));
  for (std::int64_t c = 0; c < num_classes; ++c) out[static_cast<std::size_t>(c / per)].push_back(c);
  return out;
}

}  // namespace retort::data
