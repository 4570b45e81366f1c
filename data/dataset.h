// Datasets: indexable collections of (input, target) examples, read one at a time or gathered
// into a batch. A batch keeps the dataset indices of its samples (contrastive distillation and
// per-sample bookkeeping need to know which examples they are looking at).
//
//   Example  input  [...]       one sample, e.g. [C, H, W]
//            target []          its label (int64) or regression target, a 0-d tensor
//   Batch    inputs  [B, ...]   the samples stacked in the order of `indices`
//            targets [B]
//            indices [B] int64  dataset index of each sample
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "tensor/random.h"
#include "tensor/tensor.h"

namespace retort::data {

struct Example {
  Tensor input;
  Tensor target;
};

struct Batch {
  Tensor inputs;
  Tensor targets;
  Tensor indices;
  std::int64_t size() const { return indices.defined() ? indices.numel() : 0; }
};

// A per-batch transform (augmentation, normalisation): rewrites batch.inputs (and possibly
// targets) in place, drawing any randomness from gen only, so a fixed seed reproduces it.
using BatchTransform = std::function<void(Batch& batch, Generator& gen)>;

// The interface the DataLoader reads. Implementations are read from the loader's worker thread
// while the training loop runs, so get/get_batch must not mutate shared state.
class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual std::int64_t size() const = 0;
  // Example i, 0 ≤ i < size(); throws retort::Error naming the index and size otherwise.
  virtual Example get(std::int64_t i) const = 0;
  // The samples at `indices` stacked along a new dim 0 (any order, repeats allowed). The default
  // stacks get(i); datasets holding contiguous storage override it with a direct gather.
  virtual Batch get_batch(const std::vector<std::int64_t>& indices) const;
};

// An in-memory dataset over two tensors sharing their first dim: inputs [N, ...], targets [N].
// get(i) returns views (no copy); get_batch copies the selected rows into fresh packed tensors.
class TensorDataset : public Dataset {
 public:
  // Throws naming both shapes when targets is not [N] for inputs' N.
  TensorDataset(Tensor inputs, Tensor targets);
  std::int64_t size() const override { return inputs_.size(0); }
  Example get(std::int64_t i) const override;
  Batch get_batch(const std::vector<std::int64_t>& indices) const override;
  const Tensor& inputs() const { return inputs_; }
  const Tensor& targets() const { return targets_; }

 private:
  Tensor inputs_;   // packed, CPU
  Tensor targets_;  // packed, CPU
};

// Throws "<op>: index i out of range for a dataset of n examples" unless 0 ≤ i < n.
void check_index(const char* op, std::int64_t i, std::int64_t n);

}  // namespace retort::data
