// Raw reductions: hand-computed values, a brute-force reference over every subset of dims of a
// permuted (non-contiguous) input, the long-line and wide-inner parallel paths, and errors.
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>

#include "support/helpers.h"
#include "tensor/reduce.h"

using namespace retort;
using retort::ops::Dims;
using retort::testing::random_tensor;

namespace {

Tensor f64(const std::vector<double>& v, const Shape& s) { return from_vector(v, s, kFloat64); }

// Groups the elements of x (row-major) by their output position when `dims` are reduced.
std::vector<std::vector<double>> groups(const Tensor& x, const std::vector<bool>& red) {
  auto v = x.to_vector<double>();
  const Shape& s = x.sizes();
  std::map<std::int64_t, std::vector<double>> g;
  std::vector<std::int64_t> idx(s.size(), 0);
  for (double e : v) {
    std::int64_t key = 0;
    for (std::size_t d = 0; d < s.size(); ++d)
      if (!red[d]) key = key * s[d] + idx[d];
    g[key].push_back(e);
    for (std::size_t d = s.size(); d-- > 0;) {
      if (++idx[d] < s[d]) break;
      idx[d] = 0;
    }
  }
  std::vector<std::vector<double>> out;
  for (auto& [k, e] : g) out.push_back(e);
  return out;
}

}  // namespace

TEST_CASE("sum and mean of a small matrix", "[reduce]") {
  Tensor x = f64({1, 2, 3, 4, 5, 6}, {2, 3});
  REQUIRE(ops::sum(x).dim() == 0);
  REQUIRE(ops::sum(x).item<double>() == 21.0);
  REQUIRE_ALLCLOSE(ops::sum(x, {0}), f64({5, 7, 9}, {3}), 0, 0);
  REQUIRE_ALLCLOSE(ops::sum(x, {1}), f64({6, 15}, {2}), 0, 0);
  REQUIRE_ALLCLOSE(ops::sum(x, {-1}, true), f64({6, 15}, {2, 1}), 0, 0);
  REQUIRE_ALLCLOSE(ops::sum(x, {0, 1}, true), f64({21}, {1, 1}), 0, 0);
  REQUIRE_ALLCLOSE(ops::mean(x, {0}, true), f64({2.5, 3.5, 4.5}, {1, 3}), 1e-15, 0);
  REQUIRE(ops::mean(x).item<double>() == Approx(3.5));
  // A 0-d tensor reduces to itself.
  REQUIRE(ops::sum(scalar_tensor(4.0, kFloat64), {0}).item<double>() == 4.0);
}

TEST_CASE("var, logsumexp and norm values", "[reduce]") {
  Tensor x = f64({1, 2, 3, 4}, {4});
  REQUIRE(ops::var(x).item<double>() == Approx(5.0 / 3.0));
  REQUIRE(ops::var(x, {}, 0).item<double>() == Approx(1.25));
  REQUIRE(std::isnan(ops::var(f64({2}, {1})).item<double>()));  // n − 1 = 0

  REQUIRE(ops::logsumexp(f64({0, std::log(3.0)}, {2}), {0}).item<double>() == Approx(std::log(4.0)));
  // Max-shifted: no overflow at 1000.
  REQUIRE(ops::logsumexp(f64({1000, 1000}, {2}), {0}).item<double>() == Approx(1000 + std::log(2.0)));
  REQUIRE(ops::logsumexp(from_vector(std::vector<float>{-1000.f, -1000.f}, {2}), {0}).item<float>() ==
          Approx(-1000 + std::log(2.0)));
  const double inf = std::numeric_limits<double>::infinity();
  REQUIRE(ops::logsumexp(f64({-inf, -inf}, {2}), {0}).item<double>() == -inf);
  REQUIRE(ops::logsumexp(f64({1, inf}, {2}), {0}).item<double>() == inf);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  REQUIRE(std::isnan(ops::logsumexp(f64({1, nan, 2}, {3}), {0}).item<double>()));
  REQUIRE(std::isnan(ops::logsumexp(f64({inf, nan}, {2}), {0}).item<double>()));
  // Over dim 0 of [3,2] the columns take the per-element (online) path.
  REQUIRE(ops::logsumexp(f64({-inf, 1, -inf, inf, -inf, 2}, {3, 2}), {0}).to_vector<double>() ==
          std::vector<double>{-inf, inf});
  REQUIRE(std::isnan(ops::logsumexp(f64({0, nan, 1, 1}, {2, 2}), {0}).to_vector<double>()[1]));

  Tensor v = f64({3, -4}, {2});
  REQUIRE(ops::norm(v).item<double>() == Approx(5.0));
  REQUIRE(ops::norm(v, 1).item<double>() == Approx(7.0));
  REQUIRE(ops::norm(v, 3).item<double>() == Approx(std::cbrt(91.0)));
  REQUIRE_ALLCLOSE(ops::norm(f64({3, 4, 6, 8}, {2, 2}), 2, {1}, true), f64({5, 10}, {2, 1}), 1e-12, 0);
}

TEST_CASE("max/min return the first index on ties and propagate NaN", "[reduce]") {
  Tensor x = f64({1, 3, 3, 2, 2, 1}, {2, 3});
  auto mx = ops::max(x, 1);
  REQUIRE_ALLCLOSE(mx.values, f64({3, 2}, {2}), 0, 0);
  REQUIRE(mx.indices.dtype() == kInt64);
  REQUIRE(mx.indices.to_vector<std::int64_t>() == std::vector<std::int64_t>{1, 0});
  auto mn = ops::min(x, -1, true);
  REQUIRE(mn.values.sizes() == Shape{2, 1});
  REQUIRE(mn.indices.to_vector<std::int64_t>() == std::vector<std::int64_t>{0, 2});
  auto m0 = ops::max(x, 0);
  REQUIRE(m0.indices.to_vector<std::int64_t>() == std::vector<std::int64_t>{1, 0, 0});
  REQUIRE(ops::argmax(x, 1).to_vector<std::int64_t>() == std::vector<std::int64_t>{1, 0});
  REQUIRE(ops::max_all(x).item<double>() == 3.0);
  REQUIRE(ops::min_all(x).item<double>() == 1.0);
  REQUIRE(ops::max_all(x).dim() == 0);

  const double nan = std::numeric_limits<double>::quiet_NaN();
  auto withnan = ops::max(f64({1, nan, 5, nan}, {4}), 0);
  REQUIRE(std::isnan(withnan.values.item<double>()));
  REQUIRE(withnan.indices.item<std::int64_t>() == 1);

  Tensor ints = from_vector(std::vector<std::int64_t>{4, -2, 9, 9}, {2, 2});
  REQUIRE(ops::max(ints, 1).values.to_vector<std::int64_t>() == std::vector<std::int64_t>{4, 9});
  REQUIRE(ops::sum(ints).item<std::int64_t>() == 20);
  REQUIRE(ops::sum(ints).dtype() == kInt64);
}

TEST_CASE("every subset of dims of a permuted input matches a brute-force reference", "[reduce]") {
  // [5,2,4,3] permuted to [3,4,5,2]: no dim is contiguous, so the packing paths all run.
  Tensor base = random_tensor({5, 2, 4, 3}, kFloat64, 7);
  Tensor x = as_strided(base, {3, 4, 5, 2}, {1, 3, 24, 12}, 0);
  REQUIRE_FALSE(x.is_contiguous());
  for (int mask = 0; mask < 16; ++mask) {
    Dims dims;
    std::vector<bool> red(4, mask == 0);
    for (int d = 0; d < 4; ++d)
      if (mask >> d & 1) {
        dims.push_back(d - 4 * (d % 2));  // mix negative and positive dims
        red[d] = true;
      }
    auto gs = groups(x, red);
    std::vector<double> s, m, v, l, mx;
    for (auto& g : gs) {
      double a = 0, b = 0, big = -1e300;
      for (double e : g) a += e, big = std::max(big, e);
      for (double e : g) b += (e - a / g.size()) * (e - a / g.size());
      double se = 0;
      for (double e : g) se += std::exp(e - big);
      s.push_back(a), m.push_back(a / g.size()), v.push_back(b / (g.size() - 1));
      l.push_back(big + std::log(se)), mx.push_back(big);
    }
    INFO("mask " << mask);
    Shape os = ops::sum(x, dims).sizes();
    REQUIRE_ALLCLOSE(ops::sum(x, dims), f64(s, os), 1e-12, 1e-12);
    REQUIRE_ALLCLOSE(ops::mean(x, dims), f64(m, os), 1e-12, 1e-12);
    REQUIRE_ALLCLOSE(ops::var(x, dims), f64(v, os), 1e-12, 1e-10);
    REQUIRE_ALLCLOSE(ops::logsumexp(x, dims), f64(l, os), 1e-12, 1e-12);
    Shape ks = ops::sum(x, dims, true).sizes();
    REQUIRE(ks.size() == 4);
    REQUIRE_ALLCLOSE(ops::logsumexp(x, dims, true), f64(l, ks), 1e-12, 1e-12);
    if (dims.size() == 1) REQUIRE_ALLCLOSE(ops::max(x, dims[0]).values, f64(mx, os), 0, 0);
  }
}

TEST_CASE("large reductions take the parallel paths and stay accurate", "[reduce]") {
  SECTION("bias-gradient shape [128,512] over dim 0, float32") {
    Tensor x = random_tensor({128, 512}, kFloat32, 3);
    Tensor ref = ops::sum(x.to(kFloat64), {0});
    REQUIRE_ALLCLOSE(ops::sum(x, {0}), ref, 1e-4, 1e-5);
    REQUIRE_ALLCLOSE(ops::sum(x, {1}), ops::sum(x.to(kFloat64), {1}), 1e-4, 1e-5);
  }
  SECTION("one long line: chunks are combined in order") {
    const std::int64_t n = 300007;
    Tensor x = random_tensor({n}, kFloat64, 5);
    auto v = x.to_vector<double>();
    double s = 0, big = -1e300;
    std::int64_t arg = 0;
    for (std::int64_t i = 0; i < n; ++i) {
      s += v[i];
      if (v[i] > big) big = v[i], arg = i;
    }
    double mean = s / n, ss = 0, se = 0;
    for (double e : v) ss += (e - mean) * (e - mean), se += std::exp(e - big);
    REQUIRE(ops::sum(x).item<double>() == Approx(s).epsilon(1e-12));
    REQUIRE(ops::var(x).item<double>() == Approx(ss / (n - 1)).epsilon(1e-12));
    REQUIRE(ops::logsumexp(x, {0}).item<double>() == Approx(big + std::log(se)).epsilon(1e-12));
    REQUIRE(ops::argmax(x, 0).item<std::int64_t>() == arg);
    // A tie planted in a later chunk must not win over the first occurrence.
    Tensor t = zeros({n}, kFloat64);
    t.data<double>()[70000] = 2.0;
    t.data<double>()[250000] = 2.0;
    REQUIRE(ops::argmax(t, 0).item<std::int64_t>() == 70000);
  }
  SECTION("scattered dims of a conv-sized input ([N,C,H,W] over N, H, W)") {
    Tensor x = random_tensor({32, 8, 32, 32}, kFloat64, 13);
    auto gs = groups(x, {true, false, true, true});
    std::vector<double> s, v;
    for (auto& g : gs) {
      double a = std::accumulate(g.begin(), g.end(), 0.0), b = 0;
      for (double e : g) b += (e - a / g.size()) * (e - a / g.size());
      s.push_back(a), v.push_back(b / g.size());
    }
    REQUIRE_ALLCLOSE(ops::sum(x, {0, 2, 3}, true), f64(s, {1, 8, 1, 1}), 1e-10, 1e-12);
    REQUIRE_ALLCLOSE(ops::var(x, {0, 2, 3}, 0), f64(v, {8}), 1e-12, 1e-10);
    REQUIRE_ALLCLOSE(ops::sum_to(x.to(kFloat32), {8, 1, 1}), f64(s, {8, 1, 1}), 1e-3, 1e-5);
  }
  SECTION("float32 sums accumulate in double") {
    Tensor x = full({1 << 20}, 0.1, kFloat32);
    REQUIRE(ops::sum(x).item<double>() == Approx((1 << 20) * static_cast<double>(0.1f)).epsilon(1e-7));
  }
  SECTION("wide inner extent not a multiple of the block") {
    Tensor x = random_tensor({40, 70, 101}, kFloat64, 9);
    auto mx = ops::max(x, 1, true);
    auto gs = groups(x, {false, true, false});
    std::vector<double> ref;
    for (auto& g : gs) ref.push_back(*std::max_element(g.begin(), g.end()));
    REQUIRE_ALLCLOSE(mx.values, f64(ref, {40, 1, 101}), 0, 0);
    REQUIRE_ALLCLOSE(ops::sum(x, {1}), f64([&] {
      std::vector<double> r;
      for (auto& g : gs) r.push_back(std::accumulate(g.begin(), g.end(), 0.0));
      return r;
    }(), {40, 101}), 1e-12, 1e-12);
  }
}

TEST_CASE("empty extents", "[reduce]") {
  Tensor e = zeros({0, 3}, kFloat64);
  REQUIRE_ALLCLOSE(ops::sum(e, {0}), zeros({3}, kFloat64), 0, 0);
  REQUIRE(std::isnan(ops::mean(e, {0}).to_vector<double>()[0]));
  REQUIRE(ops::sum(e, {1}).sizes() == Shape{0});
  REQUIRE_THROWS_WITH(ops::max(e, 0), Catch::Contains("max") && Catch::Contains("[0,3]"));
}

TEST_CASE("sum_to reduces broadcast dims and keeps the target shape", "[reduce]") {
  Tensor g = random_tensor({2, 3, 4}, kFloat64, 11);
  auto v = g.to_vector<double>();
  Tensor r = ops::sum_to(g, {3, 1});
  REQUIRE(r.sizes() == Shape{3, 1});
  std::vector<double> want(3, 0.0);
  for (int a = 0; a < 2; ++a)
    for (int b = 0; b < 3; ++b)
      for (int c = 0; c < 4; ++c) want[b] += v[(a * 3 + b) * 4 + c];
  REQUIRE_ALLCLOSE(r, f64(want, {3, 1}), 1e-12, 0);
  REQUIRE(ops::sum_to(g, {4}).sizes() == Shape{4});
  REQUIRE(ops::sum_to(g, {1, 3, 4}).sizes() == Shape{1, 3, 4});
  REQUIRE(ops::sum_to(g, {}).item<double>() == Approx(ops::sum(g).item<double>()));
  REQUIRE(ops::sum_to(g, {2, 3, 4}).same(g));
  REQUIRE_ALLCLOSE(ops::sum_to(g, {1, 4}), f64(ops::sum(g, {0, 1}).to_vector<double>(), {1, 4}), 1e-12, 0);
  REQUIRE_THROWS_WITH(ops::sum_to(g, {5}), Catch::Contains("sum_to") && Catch::Contains("[2,3,4]") &&
                                               Catch::Contains("[5]"));
}

TEST_CASE("reduction argument errors name the op", "[reduce]") {
  Tensor x = zeros({2, 3}, kFloat64);
  REQUIRE_THROWS_WITH(ops::sum(x, {0, -2}), Catch::Contains("sum") && Catch::Contains("more than once"));
  REQUIRE_THROWS_WITH(ops::mean(x, {2}), Catch::Contains("mean") && Catch::Contains("out of range"));
  REQUIRE_THROWS_WITH(ops::mean(zeros({2}, kInt64)), Catch::Contains("mean"));
  REQUIRE_THROWS_WITH(ops::norm(x, 0.0), Catch::Contains("norm"));
  REQUIRE_THROWS_WITH(ops::var(x, {}, -1), Catch::Contains("var"));
}
