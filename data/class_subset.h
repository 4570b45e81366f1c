// Task-filtered datasets for continual (class-incremental) learning: a view of a dataset holding
// only the samples of some classes, and the split of K classes into tasks.
//
//   ClassSubset s(base, {2, 3});            // the samples of base labelled 2 or 3, base order
//   ClassSubset r(base, {2, 3}, Remap::ToTaskIndex);  // the same, labels 2 → 0, 3 → 1
//
// Index i of the subset is sample rows()[i] of base (rows() ascending). get/get_batch return
// base's inputs unchanged; targets are the base labels (Remap::None) or their position in
// `classes` (Remap::ToTaskIndex); a batch's indices are the subset's own (0 ≤ i < size()), so a
// per-sample cache built over the subset (a teacher's logits) is indexed by them.
// Targets must be int64 scalars (class labels).
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "data/dataset.h"

namespace retort::data {

enum class Remap { None, ToTaskIndex };

class ClassSubset : public Dataset {
 public:
  // classes: distinct labels, non-empty. Reads every target of base once (get(i).target).
  // Throws when no sample of base has one of the classes.
  ClassSubset(std::shared_ptr<const Dataset> base, std::vector<std::int64_t> classes, Remap remap = Remap::None);
  std::int64_t size() const override { return static_cast<std::int64_t>(rows_.size()); }
  Example get(std::int64_t i) const override;
  Batch get_batch(const std::vector<std::int64_t>& indices) const override;

  const std::vector<std::int64_t>& rows() const { return rows_; }
  const std::vector<std::int64_t>& classes() const { return classes_; }
  // Every sample at once (get_batch of 0..size()−1): inputs [n, ...], targets [n].
  Batch all() const;

 private:
  Tensor map_targets(const Tensor& targets) const;
  std::shared_ptr<const Dataset> base_;
  std::vector<std::int64_t> classes_, rows_;
  Remap remap_;
};

// Classes 0..num_classes−1 in order, split into `tasks` tasks of num_classes / tasks classes:
// class_tasks(10, 5) = {{0, 1}, {2, 3}, {4, 5}, {6, 7}, {8, 9}}. Throws unless tasks divides
// num_classes (both ≥ 1).
std::vector<std::vector<std::int64_t>> class_tasks(std::int64_t num_classes, std::int64_t tasks);

}  // namespace retort::data
