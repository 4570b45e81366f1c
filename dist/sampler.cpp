// DistributedSampler (see sampler.h). The global order is rebuilt exactly as DataLoader::order
// builds it, so a distributed run visits the samples in the single-process run's batches.
#include "dist/sampler.h"

#include "data/loader.h"
#include "tensor/random.h"

namespace retort::dist {

DistributedSampler::DistributedSampler(std::int64_t dataset_size, std::int64_t global_batch, int world_size,
                                       int rank, bool shuffle, std::uint64_t seed)
    : n_(dataset_size), global_batch_(global_batch), world_(world_size), rank_(rank), shuffle_(shuffle), seed_(seed) {
  RETORT_CHECK(world_size >= 1 && rank >= 0 && rank < world_size, "DistributedSampler: rank ", rank,
               " of world size ", world_size);
  RETORT_CHECK(dataset_size >= 1, "DistributedSampler: dataset of ", dataset_size, " samples");
  RETORT_CHECK(global_batch >= world_size, "DistributedSampler: global batch ", global_batch,
               " is smaller than the world size ", world_size, " (a rank would get no samples)");
}

std::int64_t DistributedSampler::num_batches() const {
  const std::int64_t full = n_ / global_batch_, rest = n_ % global_batch_;
  return full + (rest >= world_ ? 1 : 0);
}

std::vector<std::vector<std::int64_t>> DistributedSampler::batches(std::int64_t epoch) const {
  std::vector<std::int64_t> order;
  if (shuffle_) {
    Generator g(data::epoch_seed(seed_, epoch, data::kShuffleStream));
    order = randperm(n_, &g).to_vector<std::int64_t>();
  } else {
    order.resize(static_cast<std::size_t>(n_));
    for (std::int64_t i = 0; i < n_; ++i) order[static_cast<std::size_t>(i)] = i;
  }
  std::vector<std::vector<std::int64_t>> out;
  const std::int64_t nb = num_batches();
  out.reserve(static_cast<std::size_t>(nb));
  for (std::int64_t b = 0; b < nb; ++b) {
    const std::int64_t start = b * global_batch_, len = std::min(global_batch_, n_ - start);
    const std::int64_t lo = start + rank_ * len / world_, hi = start + (rank_ + 1) * len / world_;
    out.emplace_back(order.begin() + lo, order.begin() + hi);
  }
  return out;
}

std::int64_t DistributedSampler::num_samples() const {
  std::int64_t total = 0;
  for (std::int64_t b = 0; b < num_batches(); ++b) {
    const std::int64_t len = std::min(global_batch_, n_ - b * global_batch_);
    total += (rank_ + 1) * len / world_ - rank_ * len / world_;
  }
  return total;
}

}  // namespace retort::dist
