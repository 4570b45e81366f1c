// DataLoader (see loader.h). One producer builds the batches of an epoch strictly in order — the
// worker thread, or the caller when prefetch is 0 — and it alone draws from the epoch's transform
// generator, so the batches cannot depend on thread timing. The queue holds at most `prefetch`
// items; the producer blocks on `space_` when it is full and the consumer on `ready_` when it is
// empty. Errors travel through the queue as items, so they surface in batch order.
#include "data/loader.h"

#include <algorithm>

#include "tensor/error.h"

namespace retort::data {

namespace {

// SplitMix64's output function: a bijection on 64 bits that spreads every input bit.
std::uint64_t mix(std::uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

std::uint64_t epoch_seed(std::uint64_t seed, std::int64_t epoch, std::uint64_t stream) {
  return mix(mix(mix(seed) ^ static_cast<std::uint64_t>(epoch)) ^ stream);
}

struct DataLoader::EpochState {
  std::vector<std::int64_t> order;
  std::vector<std::int64_t> bounds;  // with a batch sampler: batch i is order[bounds[i], bounds[i+1])
  Generator gen;
  std::int64_t produced = 0;  // batches built so far
};

DataLoader::DataLoader(std::shared_ptr<const Dataset> dataset, LoaderOptions options)
    : dataset_(std::move(dataset)), options_(std::move(options)) {
  RETORT_CHECK(dataset_ != nullptr, "DataLoader: dataset is null");
  RETORT_CHECK(options_.batch_size >= 1, "DataLoader: batch_size must be >= 1, got ", options_.batch_size);
  RETORT_CHECK(options_.prefetch >= 0, "DataLoader: prefetch must be >= 0, got ", options_.prefetch);
}

DataLoader::~DataLoader() { stop_epoch(); }

std::int64_t DataLoader::num_batches() const {
  if (options_.batch_sampler) return options_.batch_sampler->num_batches();
  const std::int64_t n = dataset_->size(), b = options_.batch_size;
  return options_.drop_last ? n / b : (n + b - 1) / b;
}

std::vector<std::int64_t> DataLoader::order(std::int64_t e) const {
  if (options_.batch_sampler) {
    std::vector<std::int64_t> out;
    for (const auto& b : options_.batch_sampler->batches(e)) out.insert(out.end(), b.begin(), b.end());
    return out;
  }
  const std::int64_t n = dataset_->size();
  if (!options_.shuffle) {
    std::vector<std::int64_t> out(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) out[static_cast<std::size_t>(i)] = i;
    return out;
  }
  Generator g(epoch_seed(options_.seed, e, kShuffleStream));
  return randperm(n, &g).to_vector<std::int64_t>();
}

void DataLoader::set_epoch(std::int64_t e) {
  stop_epoch();
  next_epoch_ = e;
}

void DataLoader::start_epoch() {
  stop_epoch();
  current_ = next_epoch_++;
  state_ = std::make_unique<EpochState>(
      EpochState{{}, {}, Generator(epoch_seed(options_.seed, current_, kTransformStream)), 0});
  if (options_.batch_sampler) {
    const auto batches = options_.batch_sampler->batches(current_);
    RETORT_CHECK(static_cast<std::int64_t>(batches.size()) == num_batches(), "DataLoader: the batch sampler gave ",
                 batches.size(), " batches for epoch ", current_, ", its num_batches() is ", num_batches());
    state_->bounds.push_back(0);
    for (const auto& b : batches) {
      RETORT_CHECK(!b.empty(), "DataLoader: the batch sampler gave an empty batch in epoch ", current_);
      state_->order.insert(state_->order.end(), b.begin(), b.end());
      state_->bounds.push_back(static_cast<std::int64_t>(state_->order.size()));
    }
  } else {
    state_->order = order(current_);
  }
  consumed_ = 0;
  active_ = true;
  if (options_.prefetch > 0 && num_batches() > 0) worker_ = std::thread([this] { worker_loop(); });
}

void DataLoader::stop_epoch() {
  if (worker_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    space_.notify_all();
    worker_.join();
  }
  queue_.clear();
  stop_ = false;
  state_.reset();
  active_ = false;
}

DataLoader::Item DataLoader::produce() {
  EpochState& s = *state_;
  std::int64_t begin = s.produced * options_.batch_size;
  std::int64_t end = std::min<std::int64_t>(begin + options_.batch_size, static_cast<std::int64_t>(s.order.size()));
  if (!s.bounds.empty()) {
    begin = s.bounds[static_cast<std::size_t>(s.produced)];
    end = s.bounds[static_cast<std::size_t>(s.produced) + 1];
  }
  ++s.produced;
  Item item;
  try {
    const std::vector<std::int64_t> idx(s.order.begin() + begin, s.order.begin() + end);
    Batch b = dataset_->get_batch(idx);
    RETORT_CHECK(b.inputs.defined() && b.targets.defined() && b.inputs.dim() >= 1 &&
                     b.inputs.size(0) == end - begin && b.targets.size(0) == end - begin,
                 "DataLoader: get_batch of ", end - begin, " indices returned inputs ",
                 b.inputs.defined() ? shape_str(b.inputs.sizes()) : "undefined", " and targets ",
                 b.targets.defined() ? shape_str(b.targets.sizes()) : "undefined");
    // The loader's order is the truth; a dataset need not fill indices itself.
    b.indices = from_vector(idx, {end - begin});
    if (options_.transform) options_.transform(b, s.gen);
    item.batch = std::move(b);
  } catch (...) {
    item.error = std::current_exception();
  }
  return item;
}

void DataLoader::worker_loop() {
  const std::int64_t total = num_batches();
  for (std::int64_t i = 0; i < total; ++i) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      space_.wait(lock, [&] { return stop_ || static_cast<std::int64_t>(queue_.size()) < options_.prefetch; });
      if (stop_) return;
    }
    // Built outside the lock so the consumer can take ready batches meanwhile.
    Item item = produce();
    const bool failed = item.error != nullptr;
    {
      std::lock_guard<std::mutex> lock(mu_);
      queue_.push_back(std::move(item));
    }
    ready_.notify_one();
    if (failed) return;
  }
}

std::optional<Batch> DataLoader::next() {
  if (!active_) start_epoch();
  if (consumed_ == num_batches()) {
    stop_epoch();
    return std::nullopt;
  }
  Item item;
  if (options_.prefetch == 0) {
    item = produce();
  } else {
    {
      std::unique_lock<std::mutex> lock(mu_);
      ready_.wait(lock, [&] { return !queue_.empty(); });
      item = std::move(queue_.front());
      queue_.pop_front();
    }
    space_.notify_one();
  }
  ++consumed_;
  if (item.error) {
    stop_epoch();
    std::rethrow_exception(item.error);
  }
  return std::move(item.batch);
}

DataLoader::Iterator DataLoader::begin() {
  start_epoch();
  return Iterator(this, next());
}

}  // namespace retort::data
