// BatchSampler: decides which dataset indices form each batch of an epoch, for a DataLoader that
// should not simply cut one (shuffled) order into runs of batch_size — e.g. one rank's part of
// every global batch in data-parallel training (dist::DistributedSampler). With
// LoaderOptions::batch_sampler set, the loader's batches of epoch e are exactly
// batch_sampler->batches(e), in order; batch_size, shuffle and drop_last are not used (seed still
// seeds the transform stream).
#pragma once
#include <cstdint>
#include <vector>

namespace retort::data {

class BatchSampler {
 public:
  virtual ~BatchSampler() = default;
  // Batches per epoch: the same for every epoch.
  virtual std::int64_t num_batches() const = 0;
  // The batches of epoch e (num_batches() of them), each a list of dataset indices; a function of
  // the sampler's settings and e alone.
  virtual std::vector<std::vector<std::int64_t>> batches(std::int64_t epoch) const = 0;
};

}  // namespace retort::data
