// DataLoader: batches of a Dataset, shuffled reproducibly and prepared ahead on a worker thread.
//
// An epoch visits every index 0..N−1 exactly once: in order, or (shuffle) in the permutation
// randperm(N) drawn from Generator(epoch_seed(seed, e, kShuffleStream)). Consecutive runs of
// batch_size indices form the batches; the last one is smaller unless drop_last drops it, so an
// epoch has ⌈N/B⌉ batches (⌊N/B⌋ with drop_last); with a batch_sampler the batches are its
// (data/sampler.h). Each batch is dataset.get_batch(indices), then
// transform(batch, gen) with gen = Generator(epoch_seed(seed, e, kTransformStream)) drawn batch
// after batch in order. Everything is a function of (seed, e) alone: the same seed gives the same
// batches in every run, with or without prefetch.
//
// With prefetch = P > 0 a std::thread builds up to P batches ahead into a bounded queue, so the
// training loop does not wait on gathering and augmentation; P = 0 builds each batch on the
// caller's thread inside next(). An exception thrown while building a batch (dataset or
// transform) is rethrown, unchanged, by the next() that would have returned that batch; the
// epoch then ends. Destroying the loader (or starting another epoch) mid-epoch stops the worker
// after the batch it is building and drops what is queued.
//
// Usage:
//   for (const Batch& b : loader) { ... }            // one epoch; each begin() starts the next
//   while (auto b = loader.next()) { ... }           // the same; nullopt ends the epoch
#pragma once
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "data/dataset.h"
#include "data/sampler.h"

namespace retort::data {

struct LoaderOptions {
  std::int64_t batch_size = 1;
  bool shuffle = false;
  std::uint64_t seed = 0;
  bool drop_last = false;
  std::int64_t prefetch = 2;  // batches built ahead on the worker thread; 0 = none, no thread
  BatchTransform transform;   // optional, applied to every batch
  // Optional: the batches themselves (data/sampler.h); batch_size, shuffle and drop_last are then
  // unused. Each batch must be non-empty with indices in range (checked when it is built).
  std::shared_ptr<const BatchSampler> batch_sampler;
};

inline constexpr std::uint64_t kShuffleStream = 0;
inline constexpr std::uint64_t kTransformStream = 1;

// The seed of random stream `stream` in epoch `epoch` (SplitMix64 mixing, so nearby seeds and
// epochs give unrelated streams).
std::uint64_t epoch_seed(std::uint64_t seed, std::int64_t epoch, std::uint64_t stream);

class DataLoader {
 public:
  // Throws naming the value when batch_size < 1 or prefetch < 0.
  DataLoader(std::shared_ptr<const Dataset> dataset, LoaderOptions options);
  ~DataLoader();
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  std::int64_t num_batches() const;  // per epoch
  const Dataset& dataset() const { return *dataset_; }
  const LoaderOptions& options() const { return options_; }
  // The epoch in progress, or the one the next start will run.
  std::int64_t epoch() const { return active_ ? current_ : next_epoch_; }
  // Abandons the epoch in progress; the next start runs epoch e (e.g. when resuming training).
  void set_epoch(std::int64_t e);
  // The sample order of epoch e: its batches' indices concatenated (before drop_last).
  std::vector<std::int64_t> order(std::int64_t e) const;

  // Starts a new epoch: the one after the last started, or the one given to set_epoch. An epoch
  // in progress is abandoned (its remaining batches are dropped).
  void start_epoch();
  // The next batch of the epoch in progress (starting one when none is), or nullopt once all its
  // batches were returned; the call after nullopt starts the next epoch.
  std::optional<Batch> next();

  class Iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = Batch;
    using difference_type = std::ptrdiff_t;
    using pointer = const Batch*;
    using reference = const Batch&;
    Iterator(DataLoader* loader, std::optional<Batch> first) : loader_(loader), current_(std::move(first)) {}
    const Batch& operator*() const { return *current_; }
    const Batch* operator->() const { return &*current_; }
    Iterator& operator++() {
      current_ = loader_->next();
      return *this;
    }
    void operator++(int) { ++*this; }
    bool operator==(std::default_sentinel_t) const { return !current_; }

   private:
    DataLoader* loader_;
    std::optional<Batch> current_;
  };
  // Range-for over one epoch; every begin() starts a new epoch.
  Iterator begin();
  std::default_sentinel_t end() const { return {}; }

 private:
  struct Item {
    std::optional<Batch> batch;
    std::exception_ptr error;
  };
  struct EpochState;  // the epoch's order and transform generator; one thread uses it at a time

  void stop_epoch();  // joins the worker and drops queued batches
  void worker_loop();
  Item produce();     // builds the next batch of the epoch (on whichever thread runs it)

  std::shared_ptr<const Dataset> dataset_;
  LoaderOptions options_;
  std::int64_t next_epoch_ = 0;
  std::int64_t current_ = 0;
  bool active_ = false;
  std::int64_t consumed_ = 0;  // batches of the current epoch handed to the caller
  std::unique_ptr<EpochState> state_;

  std::thread worker_;
  std::mutex mu_;
  std::condition_variable ready_;  // an item was queued
  std::condition_variable space_;  // an item was taken, or stop_ was set
  std::deque<Item> queue_;
  bool stop_ = false;
};

}  // namespace retort::data
