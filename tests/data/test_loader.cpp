// Datasets and the DataLoader: TensorDataset gathers, the default stacking get_batch, epoch
// orders (coverage, determinism per seed and epoch, drop_last), prefetch giving the very batches
// of the synchronous path (with random transforms), exceptions from the worker, and destroying or
// restarting a loader mid-epoch, and batch samplers (LoaderOptions::batch_sampler).
#include "data/loader.h"

#include <atomic>
#include <chrono>
#include <set>
#include <stdexcept>
#include <thread>

#include "data/transforms.h"
#include "support/helpers.h"

using namespace retort;
using namespace retort::data;

namespace {

// inputs [n, 2]: row i = (i, 10·i); targets [n] = i mod 3.
std::shared_ptr<TensorDataset> rows(std::int64_t n) {
  std::vector<float> x;
  std::vector<std::int64_t> y;
  for (std::int64_t i = 0; i < n; ++i) {
    x.push_back(static_cast<float>(i));
    x.push_back(static_cast<float>(10 * i));
    y.push_back(i % 3);
  }
  return std::make_shared<TensorDataset>(from_vector(x, {n, 2}), from_vector(y, {n}));
}

// A Dataset with only get(): input [1, 3, 4] = i + position/100, target i², optionally throwing at
// one index, optionally slow, counting calls (from whichever thread makes them).
struct Probe : Dataset {
  std::int64_t n;
  std::int64_t throw_at = -1;
  int sleep_ms = 0;
  mutable std::atomic<int> calls{0};
  explicit Probe(std::int64_t n_) : n(n_) {}
  std::int64_t size() const override { return n; }
  Example get(std::int64_t i) const override {
    ++calls;
    if (sleep_ms) std::this_thread::sleep_for(std::chrono::milliseconds(sleep_ms));
    if (i == throw_at) throw std::runtime_error("probe: cannot decode example " + std::to_string(i));
    Tensor x = empty({1, 3, 4});
    float* p = x.data<float>();
    for (int k = 0; k < 12; ++k) p[k] = static_cast<float>(i) + static_cast<float>(k) / 100.0f;
    return Example{x, scalar_tensor(static_cast<double>(i * i), kInt64)};
  }
};

std::vector<std::vector<std::int64_t>> epoch_indices(DataLoader& loader) {
  std::vector<std::vector<std::int64_t>> out;
  for (const Batch& b : loader) out.push_back(b.indices.to_vector<std::int64_t>());
  return out;
}

std::vector<std::int64_t> flat(const std::vector<std::vector<std::int64_t>>& v) {
  std::vector<std::int64_t> out;
  for (const auto& b : v) out.insert(out.end(), b.begin(), b.end());
  return out;
}

}  // namespace

TEST_CASE("TensorDataset gets and gathers rows", "[data]") {
  auto ds = rows(5);
  REQUIRE(ds->size() == 5);
  Example e = ds->get(3);
  REQUIRE(e.input.to_vector<float>() == std::vector<float>{3, 30});
  REQUIRE(e.target.dim() == 0);
  REQUIRE(e.target.item<std::int64_t>() == 0);
  Batch b = ds->get_batch({4, 1, 4});
  REQUIRE(b.inputs.sizes() == Shape{3, 2});
  REQUIRE(b.inputs.to_vector<float>() == std::vector<float>{4, 40, 1, 10, 4, 40});
  REQUIRE(b.targets.to_vector<std::int64_t>() == std::vector<std::int64_t>{1, 1, 1});
  REQUIRE(b.indices.to_vector<std::int64_t>() == std::vector<std::int64_t>{4, 1, 4});
  REQUIRE(b.size() == 3);
  REQUIRE_THROWS_WITH(ds->get(5), Catch::Contains("TensorDataset::get: index 5 out of range"));
  REQUIRE_THROWS_WITH(ds->get_batch({0, 9}), Catch::Contains("index 9"));
  REQUIRE_THROWS_WITH(TensorDataset(zeros({4, 2}), zeros({3})),
                      Catch::Contains("TensorDataset") && Catch::Contains("[4,2]") && Catch::Contains("[3]"));

  // The default get_batch stacks get(i).
  Probe p(4);
  Batch s = p.get_batch({2, 0});
  REQUIRE(s.inputs.sizes() == Shape{2, 1, 3, 4});
  REQUIRE(s.inputs.to_vector<float>()[0] == 2.0f);
  REQUIRE(s.inputs.to_vector<float>()[12 + 11] == 0.11f);
  REQUIRE(s.targets.to_vector<std::int64_t>() == std::vector<std::int64_t>{4, 0});
  REQUIRE(s.indices.to_vector<std::int64_t>() == std::vector<std::int64_t>{2, 0});
}

TEST_CASE("DataLoader covers every index once per epoch, with drop_last", "[data]") {
  auto ds = rows(10);
  DataLoader plain(ds, {.batch_size = 4});
  REQUIRE(plain.num_batches() == 3);
  auto e0 = epoch_indices(plain);
  REQUIRE(e0 == std::vector<std::vector<std::int64_t>>{{0, 1, 2, 3}, {4, 5, 6, 7}, {8, 9}});

  DataLoader shuffled(ds, {.batch_size = 4, .shuffle = true, .seed = 3});
  for (int epoch = 0; epoch < 3; ++epoch) {
    auto got = epoch_indices(shuffled);
    REQUIRE(got.size() == 3);
    REQUIRE(got.back().size() == 2);
    auto all = flat(got);
    REQUIRE(std::set<std::int64_t>(all.begin(), all.end()).size() == 10);
    REQUIRE(all.size() == 10);
  }

  DataLoader dropped(ds, {.batch_size = 4, .shuffle = true, .seed = 3, .drop_last = true});
  REQUIRE(dropped.num_batches() == 2);
  auto d0 = epoch_indices(dropped);
  REQUIRE(d0.size() == 2);
  const auto order0 = dropped.order(0);
  REQUIRE(flat(d0) == std::vector<std::int64_t>(order0.begin(), order0.begin() + 8));

  // Batches carry the rows of their indices.
  DataLoader check(ds, {.batch_size = 3, .shuffle = true, .seed = 9});
  for (const Batch& b : check) {
    const auto idx = b.indices.to_vector<std::int64_t>();
    const auto x = b.inputs.to_vector<float>();
    const auto y = b.targets.to_vector<std::int64_t>();
    for (std::size_t k = 0; k < idx.size(); ++k) {
      REQUIRE(x[2 * k] == static_cast<float>(idx[k]));
      REQUIRE(x[2 * k + 1] == static_cast<float>(10 * idx[k]));
      REQUIRE(y[k] == idx[k] % 3);
    }
  }

  DataLoader empty_loader(rows(0), {.batch_size = 2});
  REQUIRE(empty_loader.num_batches() == 0);
  REQUIRE(!empty_loader.next());
  DataLoader small(rows(3), {.batch_size = 4, .drop_last = true});
  REQUIRE(epoch_indices(small).empty());
}

TEST_CASE("DataLoader orders are a function of seed and epoch", "[data]") {
  auto ds = rows(50);
  LoaderOptions opt{.batch_size = 8, .shuffle = true, .seed = 42};
  DataLoader a(ds, opt), b(ds, opt);
  std::vector<std::vector<std::int64_t>> orders;
  for (int e = 0; e < 3; ++e) {
    REQUIRE(a.epoch() == e);
    auto got = flat(epoch_indices(a));
    REQUIRE(got == flat(epoch_indices(b)));
    REQUIRE(got == a.order(e));
    // The documented stream: randperm from the epoch's shuffle seed.
    Generator g(epoch_seed(42, e, kShuffleStream));
    REQUIRE(got == randperm(50, &g).to_vector<std::int64_t>());
    orders.push_back(got);
  }
  REQUIRE(orders[0] != orders[1]);
  REQUIRE(orders[1] != orders[2]);
  opt.seed = 43;
  DataLoader c(ds, opt);
  REQUIRE(flat(epoch_indices(c)) != orders[0]);

  // Resuming at epoch 2 gives epoch 2's order; next() walks the same epoch and ends with nullopt.
  a.set_epoch(2);
  std::vector<std::int64_t> via_next;
  while (auto batch = a.next()) {
    const auto idx = batch->indices.to_vector<std::int64_t>();
    via_next.insert(via_next.end(), idx.begin(), idx.end());
  }
  REQUIRE(via_next == orders[2]);
  REQUIRE(a.epoch() == 3);
  REQUIRE(epoch_seed(1, 0, 0) != epoch_seed(1, 1, 0));
  REQUIRE(epoch_seed(1, 0, 0) != epoch_seed(1, 0, 1));
}

TEST_CASE("DataLoader prefetch gives the batches of the synchronous path", "[data]") {
  // Random crop + flip on [1, 3, 4] images: the transform draws from the epoch's generator, so
  // equality also shows the draws happen in batch order whatever the thread timing.
  auto run = [](std::int64_t prefetch, int sleep_ms) {
    auto ds = std::make_shared<Probe>(23);
    ds->sleep_ms = sleep_ms;
    DataLoader loader(ds, {.batch_size = 5, .shuffle = true, .seed = 7, .prefetch = prefetch,
                           .transform = compose({RandomCrop{3, 1}, RandomHFlip{}})});
    std::vector<std::vector<float>> out;
    for (int e = 0; e < 2; ++e)
      for (const Batch& b : loader) {
        REQUIRE(b.inputs.sizes() == Shape{b.size(), 1, 3, 3});
        out.push_back(b.inputs.to_vector<float>());
        auto t = b.targets.to_vector<float>();
        auto i = b.indices.to_vector<float>();
        for (auto& v : i) v = v * v;
        REQUIRE(t == i);
        out.push_back(i);
      }
    return out;
  };
  const auto sync = run(0, 0);
  REQUIRE(sync.size() == 2 * 2 * 5);
  REQUIRE(run(1, 0) == sync);
  REQUIRE(run(2, 1) == sync);
  REQUIRE(run(8, 0) == sync);
}

TEST_CASE("DataLoader rethrows worker exceptions in the consumer", "[data]") {
  for (std::int64_t prefetch : {0, 2}) {
    auto ds = std::make_shared<Probe>(12);
    ds->throw_at = 7;
    DataLoader loader(ds, {.batch_size = 3, .prefetch = prefetch});
    std::vector<std::int64_t> seen;
    auto consume = [&] {
      for (const Batch& b : loader)
        for (auto i : b.indices.to_vector<std::int64_t>()) seen.push_back(i);
    };
    REQUIRE_THROWS_AS(consume(), std::runtime_error);
    REQUIRE(seen == std::vector<std::int64_t>{0, 1, 2, 3, 4, 5});  // the batches before the failure
    REQUIRE_THROWS_WITH(consume(), "probe: cannot decode example 7");
    REQUIRE(loader.epoch() == 2);  // each failure ended its epoch
  }
  // A failing transform surfaces the same way, with its retort::Error message.
  DataLoader bad(rows(4), {.batch_size = 2, .transform = compose({Normalize{{0.5}, {0.5}}})});
  REQUIRE_THROWS_WITH(bad.next(), Catch::Contains("normalize: expected a batch [B, C, H, W], got [2,2]"));
  REQUIRE_THROWS_WITH(DataLoader(rows(4), {.batch_size = 0}), Catch::Contains("batch_size must be >= 1, got 0"));
  REQUIRE_THROWS_WITH(DataLoader(rows(4), {.prefetch = -1}), Catch::Contains("prefetch must be >= 0"));
}

TEST_CASE("DataLoader shuts down cleanly mid-epoch", "[data]") {
  auto ds = std::make_shared<Probe>(1000);
  ds->sleep_ms = 1;
  const auto t0 = std::chrono::steady_clock::now();
  {
    DataLoader loader(ds, {.batch_size = 4, .prefetch = 3});
    auto first = loader.next();
    REQUIRE(first);
    // Let the worker fill the queue and block on it.
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    // The worker waits for room before building: the batch taken plus 3 queued, no more.
    REQUIRE(ds->calls.load() <= 4 * (1 + 3));
  }
  const int after = ds->calls.load();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  REQUIRE(ds->calls.load() == after);  // nothing runs after destruction
  REQUIRE(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(2));
  REQUIRE(ds.use_count() == 1);

  // Breaking out of a range-for, then iterating again, starts the next epoch from its start.
  DataLoader loader(rows(20), {.batch_size = 4, .shuffle = true, .seed = 5});
  for (const Batch& b : loader) {
    REQUIRE(b.size() == 4);
    break;
  }
  REQUIRE(flat(epoch_indices(loader)) == loader.order(1));
  // Destroyed right after starting an epoch, before anything was taken.
  DataLoader idle(ds, {.batch_size = 2, .prefetch = 2});
  idle.start_epoch();
}

namespace {
// Batches of unequal sizes that depend on the epoch: {e, e+1, e+2}, {5}, {9, 0}.
struct FixedSampler : BatchSampler {
  std::int64_t batches_per_epoch = 3;
  bool empty_one = false;
  std::int64_t num_batches() const override { return batches_per_epoch; }
  std::vector<std::vector<std::int64_t>> batches(std::int64_t e) const override {
    if (empty_one) return {{1}, {}, {2}};
    return {{e, e + 1, e + 2}, {5}, {9, 0}};
  }
};
}  // namespace

TEST_CASE("DataLoader with a batch sampler yields exactly its batches", "[data]") {
  const std::int64_t n = 10;
  std::vector<double> v;
  for (std::int64_t i = 0; i < n; ++i) v.push_back(static_cast<double>(i));
  auto ds = std::make_shared<TensorDataset>(from_vector(v, {n, 1}, kFloat64), zeros({n}, kInt64));
  for (std::int64_t prefetch : {0, 2}) {
    DataLoader loader(ds, {.batch_size = 4, .shuffle = true, .prefetch = prefetch,
                           .batch_sampler = std::make_shared<FixedSampler>()});
    REQUIRE(loader.num_batches() == 3);
    for (std::int64_t e = 0; e < 2; ++e) {
      std::vector<std::vector<std::int64_t>> got;
      for (const Batch& b : loader) {
        got.push_back(b.indices.to_vector<std::int64_t>());
        REQUIRE(b.inputs.to_vector<double>() == std::vector<double>(got.back().begin(), got.back().end()));
      }
      REQUIRE(got == FixedSampler().batches(e));
      REQUIRE(loader.order(e) == std::vector<std::int64_t>{e, e + 1, e + 2, 5, 9, 0});
    }
  }
  auto bad = std::make_shared<FixedSampler>();
  bad->empty_one = true;
  DataLoader empty_batch(ds, {.prefetch = 0, .batch_sampler = bad});
  REQUIRE_THROWS_WITH(empty_batch.next(), Catch::Contains("empty batch in epoch 0"));
  auto wrong = std::make_shared<FixedSampler>();
  wrong->batches_per_epoch = 4;
  DataLoader miscounted(ds, {.prefetch = 0, .batch_sampler = wrong});
  REQUIRE_THROWS_WITH(miscounted.next(), Catch::Contains("gave 3 batches for epoch 0, its num_batches() is 4"));
}
