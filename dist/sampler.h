// DistributedSampler (namespace retort::dist): one rank's part of every global batch, for a
// data::DataLoader (LoaderOptions::batch_sampler).
//
// Epoch e's global order is the single-process loader's: randperm(N) from
// Generator(data::epoch_seed(seed, e, data::kShuffleStream)) with shuffle, 0..N−1 without. It is
// cut into global batches of `global_batch` samples (the last one smaller), and each global batch
// into world_size contiguous parts whose sizes differ by at most one: rank r takes part r,
//   [⌊r·L/W⌋, ⌊(r+1)·L/W⌋) of a global batch of L samples.
// So at step s the ranks' batches together are exactly batch s of a single-process DataLoader
// with batch_size = global_batch, the same seed and shuffle; the shards are disjoint and, over an
// epoch, complete; every rank has the same number of batches. One exception keeps every batch
// non-empty: a last global batch of fewer than world_size samples is dropped (on every rank).
//
// With global_batch divisible by world_size every part has global_batch / world_size samples,
// and DataParallel's averaged gradient equals the single-process gradient of the global batch
// (for a loss that is a mean over the batch). Uneven parts weight each rank's mean equally.
#pragma once
#include <cstdint>
#include <vector>

#include "data/sampler.h"
#include "dist/process_group.h"

namespace retort::dist {

class DistributedSampler : public data::BatchSampler {
 public:
  // Throws naming the values unless dataset_size ≥ 1, global_batch ≥ world_size ≥ 1 and
  // 0 ≤ rank < world_size.
  DistributedSampler(std::int64_t dataset_size, std::int64_t global_batch, int world_size, int rank,
                     bool shuffle = true, std::uint64_t seed = 0);
  DistributedSampler(std::int64_t dataset_size, std::int64_t global_batch, const ProcessGroup& pg,
                     bool shuffle = true, std::uint64_t seed = 0)
      : DistributedSampler(dataset_size, global_batch, pg.size(), pg.rank(), shuffle, seed) {}

  std::int64_t num_batches() const override;
  std::vector<std::vector<std::int64_t>> batches(std::int64_t epoch) const override;
  // This rank's samples per epoch (the sum of its batch sizes).
  std::int64_t num_samples() const;
  std::int64_t global_batch() const { return global_batch_; }

 private:
  std::int64_t n_, global_batch_;
  int world_, rank_;
  bool shuffle_;
  std::uint64_t seed_;
};

}  // namespace retort::dist
