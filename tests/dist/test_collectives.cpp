// The process group's collectives on 2 ranks (ctest: mpirun -np 2): every dtype, uneven and empty
// sizes, Sum and Avg, broadcast from either root, all_gather of ranks with different row counts
// (also none), errors that name the collective, the rank and the shapes; the sharded map and
// summed counts; DistributedSampler shards (disjoint, complete, equal batch counts, the
// single-process batches).
#include <algorithm>
#include <cstdlib>
#include <set>

#include "data/loader.h"
#include "dist/process_group.h"
#include "dist/sampler.h"
#include "dist/shard.h"
#include "support/helpers.h"
#include "tensor/index.h"
#include "tensor/views.h"

using namespace retort;
using dist::ProcessGroup;

namespace {
ProcessGroup& pg() { return ProcessGroup::world(); }
}  // namespace

TEST_CASE("the group is the launcher's", "[dist]") {
  REQUIRE(pg().size() == 2);
  const dist::LaunchEnv env = dist::launch_env();
  REQUIRE(env.launcher == "openmpi");
  REQUIRE(env.rank == pg().rank());
  REQUIRE(env.world_size == 2);
  REQUIRE(pg().timeout() == 20);  // RETORT_DIST_TIMEOUT from ctest
  REQUIRE(dist::default_timeout() == 20);
  ::setenv("RETORT_DIST_TIMEOUT", "soon", 1);
  REQUIRE_THROWS_WITH(dist::default_timeout(), Catch::Contains("RETORT_DIST_TIMEOUT='soon'"));
  ::setenv("RETORT_DIST_TIMEOUT", "20", 1);
  REQUIRE_THROWS_WITH(pg().set_timeout(0), Catch::Contains("not a positive number"));
}

TEST_CASE("all_reduce sums and averages every dtype, any size", "[dist]") {
  const int r = pg().rank();
  for (std::int64_t n : {0, 1, 7, 1000, 100003}) {
    std::vector<double> v(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) v[static_cast<std::size_t>(i)] = (r + 1) * 0.5 + i;
    Tensor f64 = from_vector(v, {n}, kFloat64), f32 = from_vector(v, {n}, kFloat32);
    std::vector<std::int64_t> iv(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) iv[static_cast<std::size_t>(i)] = (r + 1) * 1000 + i;
    Tensor i64 = from_vector(iv, {n});
    pg().all_reduce(f64);
    pg().all_reduce(f32, dist::ReduceOp::Avg);
    pg().all_reduce(i64);
    const auto a = f64.to_vector<double>(), b = f32.to_vector<double>();
    const auto c = i64.to_vector<std::int64_t>();
    for (std::int64_t i = 0; i < n; ++i) {
      const auto k = static_cast<std::size_t>(i);
      REQUIRE(a[k] == 1.5 + 2.0 * i);          // 0.5 + i + 1.0 + i
      REQUIRE(b[k] == Approx(0.75 + i).epsilon(1e-7));
      REQUIRE(c[k] == 3000 + 2 * i);
    }
  }
  Tensor m = from_vector(std::vector<double>{1, 2, 3, 4, 5, 6}, {2, 3}, kFloat64);
  pg().all_reduce(m, dist::ReduceOp::Avg);
  REQUIRE(m.to_vector<double>() == std::vector<double>{1, 2, 3, 4, 5, 6});
  Tensor s = scalar_tensor(pg().rank() + 1.0, kFloat64);
  pg().all_reduce(s);
  REQUIRE(s.item<double>() == 3.0);
}

TEST_CASE("all_reduce refuses what it cannot do, naming the collective, rank and shape", "[dist]") {
  Tensor i = zeros({2, 2}, kInt64);
  REQUIRE_THROWS_WITH(pg().all_reduce(i, dist::ReduceOp::Avg),
                      Catch::Contains("all_reduce (avg) on rank " + std::to_string(pg().rank()) + "/2") &&
                          Catch::Contains("[2,2] int64") && Catch::Contains("floating"));
  Tensor t = zeros({3, 4}, kFloat64);
  Tensor nc = ops::transpose(t, 0, 1);
  REQUIRE_THROWS_WITH(pg().all_reduce(nc), Catch::Contains("[4,3]") && Catch::Contains("not contiguous"));
  REQUIRE_THROWS_WITH(pg().broadcast(t, 2), Catch::Contains("root 2"));
}

TEST_CASE("broadcast copies the root's tensor, from either root", "[dist]") {
  for (int root : {0, 1}) {
    Tensor f = full({3, 5}, pg().rank() == root ? 7.25 : -1.0, kFloat64);
    Tensor g = full({4}, pg().rank() == root ? 2.5 : 0.0, kFloat32);
    Tensor i = full({2}, pg().rank() == root ? 42 : 0, kInt64);
    Tensor e = empty({0, 3}, kFloat32);
    pg().broadcast(f, root);
    pg().broadcast(g, root);
    pg().broadcast(i, root);
    pg().broadcast(e, root);
    REQUIRE(f.to_vector<double>() == std::vector<double>(15, 7.25));
    REQUIRE(g.to_vector<double>() == std::vector<double>(4, 2.5));
    REQUIRE(i.to_vector<std::int64_t>() == std::vector<std::int64_t>{42, 42});
  }
}

TEST_CASE("all_gather concatenates uneven rows in rank order", "[dist]") {
  const int r = pg().rank();
  // rank 0: 1 row, rank 1: 3 rows of [2] values 10·rank + row.
  const std::int64_t rows = r == 0 ? 1 : 3;
  std::vector<double> v;
  for (std::int64_t i = 0; i < rows; ++i) v.insert(v.end(), {10.0 * r + i, -(10.0 * r + i)});
  for (DType dt : {kFloat32, kFloat64, kInt64}) {
    Tensor x = from_vector(v, {rows, 2}, dt);
    Tensor y = pg().all_gather(x);
    REQUIRE(y.sizes() == Shape{4, 2});
    REQUIRE(y.dtype() == dt);
    REQUIRE(y.to_vector<double>() == std::vector<double>{0, 0, 10, -10, 11, -11, 12, -12});
  }
  // A rank without rows, and a 0-d tensor.
  Tensor x = r == 0 ? empty({0}) : from_vector(std::vector<double>{1, 2, 3, 4, 5, 6}, {2, 3}, kFloat64);
  Tensor y = pg().all_gather(x);
  REQUIRE(y.sizes() == Shape{2, 3});
  REQUIRE(y.dtype() == kFloat64);
  Tensor z = pg().all_gather(scalar_tensor(r + 0.5, kFloat64));
  REQUIRE(z.to_vector<double>() == std::vector<double>{0.5, 1.5});
  Tensor none = pg().all_gather(empty({0, 5}, kFloat32));
  REQUIRE(none.sizes() == Shape{0, 5});
}

TEST_CASE("all_gather names every rank's shape when they disagree", "[dist]") {
  Tensor x = zeros({2, pg().rank() == 0 ? 3 : 4}, kFloat32);
  REQUIRE_THROWS_WITH(pg().all_gather(x), Catch::Contains("rank 0 [2,3] float32") &&
                                              Catch::Contains("rank 1 [2,4] float32") &&
                                              Catch::Contains("differ beyond dim 0"));
  pg().barrier();
}

TEST_CASE("sharded_map equals the single-process map; counts are summed", "[dist]") {
  auto fn = [](std::int64_t b, std::int64_t e) {
    std::vector<double> v;
    for (std::int64_t i = b; i < e; ++i) v.insert(v.end(), {static_cast<double>(i), i * 0.5 + (e - b)});
    return from_vector(v, {e - b, 2}, kFloat64);
  };
  for (std::int64_t n : {0, 1, 5, 128, 1001}) {
    Tensor got = dist::sharded_map(pg(), n, 128, fn);
    std::vector<Tensor> parts;
    for (std::int64_t b = 0; b < n; b += 128) parts.push_back(fn(b, std::min(n, b + 128)));
    if (n == 0) {
      REQUIRE(got.numel() == 0);
      continue;
    }
    REQUIRE(got.to_vector<double>() == ops::cat(parts, 0).to_vector<double>());
  }
  REQUIRE(dist::shard_range(1001, 128, 2, 0).end == 512);  // 8 batches: 4 + 4 whole batches
  REQUIRE(dist::shard_range(1001, 128, 2, 1).begin == 512);
  REQUIRE(dist::shard_range(1001, 128, 2, 1).end == 1001);
  const auto c = dist::sum_counts(pg(), {pg().rank() + 1, 10, 0});
  REQUIRE(c == std::vector<std::int64_t>{3, 20, 0});
}

TEST_CASE("DistributedSampler: disjoint, complete shards in the single-process batches", "[dist]") {
  for (std::int64_t n : {1000, 1001, 129, 130, 7}) {
    for (std::int64_t batch : {128, 2, 7}) {
      for (int world : {1, 2, 3}) {
        if (batch < world) continue;
        data::LoaderOptions lo{.batch_size = batch, .shuffle = true, .seed = 5};
        auto ds = std::make_shared<data::TensorDataset>(zeros({n, 1}), zeros({n}, kInt64));
        data::DataLoader single(ds, lo);
        for (std::int64_t e : {0, 3}) {
          const auto order = single.order(e);
          std::vector<std::vector<std::vector<std::int64_t>>> per_rank;
          for (int r = 0; r < world; ++r) {
            dist::DistributedSampler s(n, batch, world, r, true, 5);
            per_rank.push_back(s.batches(e));
            REQUIRE(static_cast<std::int64_t>(per_rank.back().size()) == s.num_batches());
            std::int64_t total = 0;
            for (auto& b : per_rank.back()) total += static_cast<std::int64_t>(b.size());
            REQUIRE(total == s.num_samples());
          }
          const std::int64_t nb = static_cast<std::int64_t>(per_rank[0].size());
          const std::int64_t rest = n % batch;
          REQUIRE(nb == n / batch + (rest >= world ? 1 : 0));
          std::set<std::int64_t> seen;
          for (std::int64_t b = 0; b < nb; ++b) {
            std::vector<std::int64_t> together;  // the ranks' parts of step b, in rank order
            for (int r = 0; r < world; ++r) {
              const auto& part = per_rank[static_cast<std::size_t>(r)][static_cast<std::size_t>(b)];
              REQUIRE(!part.empty());
              together.insert(together.end(), part.begin(), part.end());
            }
            const std::vector<std::int64_t> expect(order.begin() + b * batch,
                                                   order.begin() + std::min(n, (b + 1) * batch));
            REQUIRE(together == expect);
            for (auto i : together) REQUIRE(seen.insert(i).second);  // disjoint
          }
          const bool dropped = rest > 0 && rest < world;
          REQUIRE(static_cast<std::int64_t>(seen.size()) == (dropped ? n - rest : n));  // complete
        }
      }
    }
  }
  REQUIRE_THROWS_WITH(dist::DistributedSampler(10, 1, 2, 0), Catch::Contains("global batch 1"));
  REQUIRE_THROWS_WITH(dist::DistributedSampler(10, 4, 2, 2), Catch::Contains("rank 2 of world size 2"));
}

TEST_CASE("a DataLoader over a DistributedSampler yields this rank's batches", "[dist]") {
  const std::int64_t n = 300;
  std::vector<double> ids(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) ids[static_cast<std::size_t>(i)] = static_cast<double>(i);
  auto ds = std::make_shared<data::TensorDataset>(from_vector(ids, {n, 1}, kFloat64), zeros({n}, kInt64));
  auto sampler = std::make_shared<dist::DistributedSampler>(n, 64, pg(), true, 9);
  data::DataLoader loader(ds, {.batch_size = 1, .seed = 9, .prefetch = 1, .batch_sampler = sampler});
  REQUIRE(loader.num_batches() == 5);
  std::vector<std::int64_t> mine;
  std::int64_t batches = 0;
  for (const data::Batch& b : loader) {
    ++batches;
    const auto idx = b.indices.to_vector<std::int64_t>();
    REQUIRE(b.inputs.to_vector<double>() == std::vector<double>(idx.begin(), idx.end()));
    mine.insert(mine.end(), idx.begin(), idx.end());
  }
  REQUIRE(batches == 5);
  Tensor all = pg().all_gather(from_vector(mine, {static_cast<std::int64_t>(mine.size())}));
  auto v = all.to_vector<std::int64_t>();
  std::sort(v.begin(), v.end());
  for (std::int64_t i = 0; i < n; ++i) REQUIRE(v[static_cast<std::size_t>(i)] == i);
}
