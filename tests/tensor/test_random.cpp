// Random numbers: reproducibility from a seed, the exact transform of the engine's output (pinned
// by the value the C++ standard fixes for std::mt19937_64), and the statistics of each draw.
#include <algorithm>
#include <cmath>

#include "support/helpers.h"
#include "tensor/random.h"

using namespace retort;

namespace {
double mean_of(const std::vector<double>& v) {
  double s = 0;
  for (double e : v) s += e;
  return s / static_cast<double>(v.size());
}
double std_of(const std::vector<double>& v) {
  const double m = mean_of(v);
  double s = 0;
  for (double e : v) s += (e - m) * (e - m);
  return std::sqrt(s / static_cast<double>(v.size() - 1));
}
bool all_equal(const std::vector<double>& v, double x) {
  return std::all_of(v.begin(), v.end(), [x](double e) { return e == x; });
}
}  // namespace

TEST_CASE("uniform is the top 53 bits of the engine", "[random]") {
  // [rand.predef]: the 10000th output of a default-constructed mt19937_64 (seed 5489) is
  // 9981545732273789042; uniform() must be exactly that >> 11, times 2^-53.
  Generator g(5489);
  for (int i = 0; i < 9999; ++i) g.uniform();
  REQUIRE(g.uniform() == static_cast<double>(9981545732273789042ULL >> 11) * 0x1.0p-53);
}

TEST_CASE("the same seed gives the same numbers", "[random]") {
  auto draw = [] {
    std::vector<double> v = rand({5}, kFloat64).to_vector<double>();
    for (double e : randn({5}, kFloat32).to_vector<double>()) v.push_back(e);
    for (double e : bernoulli({5}, 0.5, kFloat64).to_vector<double>()) v.push_back(e);
    for (auto e : randint(-3, 7, {5}).to_vector<std::int64_t>()) v.push_back(static_cast<double>(e));
    for (auto e : randperm(10).to_vector<std::int64_t>()) v.push_back(static_cast<double>(e));
    return v;
  };
  manual_seed(42);
  auto a = draw();
  manual_seed(42);
  auto b = draw();
  manual_seed(43);
  auto c = draw();
  REQUIRE(a == b);
  REQUIRE(a != c);

  // A private generator follows its own seed and leaves the global stream alone.
  manual_seed(42);
  Generator g(42);
  auto from_g = rand({5}, kFloat64, &g).to_vector<double>();
  REQUIRE(from_g == std::vector<double>(a.begin(), a.begin() + 5));
  REQUIRE(rand({5}, kFloat64).to_vector<double>() == from_g);  // global still at its start
}

TEST_CASE("normal and uniform statistics", "[random]") {
  manual_seed(1);
  auto n = randn({100000}, kFloat64).to_vector<double>();
  REQUIRE(std::abs(mean_of(n)) < 0.015);
  REQUIRE(std::abs(std_of(n) - 1.0) < 0.015);
  // Tail mass: P(|z| > 2) ≈ 0.0455.
  double tail = 0;
  for (double e : n) tail += std::abs(e) > 2.0;
  REQUIRE(std::abs(tail / n.size() - 0.0455) < 0.004);

  Tensor t = empty({200, 500}, kFloat32);
  normal_(t, 3.0, 0.5);
  auto tv = t.to_vector<double>();
  REQUIRE(std::abs(mean_of(tv) - 3.0) < 0.01);
  REQUIRE(std::abs(std_of(tv) - 0.5) < 0.01);

  Tensor u = empty({100000}, kFloat64);
  uniform_(u, -2.0, 4.0);
  auto uv = u.to_vector<double>();
  REQUIRE(*std::min_element(uv.begin(), uv.end()) >= -2.0);
  REQUIRE(*std::max_element(uv.begin(), uv.end()) < 4.0);
  REQUIRE(std::abs(mean_of(uv) - 1.0) < 0.03);
  REQUIRE(std::abs(std_of(uv) - 6.0 / std::sqrt(12.0)) < 0.02);

  auto r = rand({100000}, kFloat32).to_vector<double>();
  REQUIRE(*std::max_element(r.begin(), r.end()) < 1.0);
  REQUIRE(*std::min_element(r.begin(), r.end()) >= 0.0);
}

TEST_CASE("fills follow a strided view in row-major order", "[random]") {
  Tensor base = zeros({3, 4}, kFloat64);
  Tensor colT = as_strided(base, {4, 3}, {1, 4}, 0);  // transposed view
  Generator g1(9), g2(9);
  uniform_(colT, 0.0, 1.0, &g1);
  auto ref = rand({4, 3}, kFloat64, &g2).to_vector<double>();
  REQUIRE(colT.to_vector<double>() == ref);
}

TEST_CASE("bernoulli, randint and randperm", "[random]") {
  manual_seed(5);
  auto b = bernoulli({100000}, 0.3).to_vector<double>();
  double ones_ = 0;
  for (double e : b) {
    REQUIRE((e == 0.0 || e == 1.0));
    ones_ += e;
  }
  REQUIRE(std::abs(ones_ / b.size() - 0.3) < 0.01);
  REQUIRE(all_equal(bernoulli({100}, 0.0).to_vector<double>(), 0.0));
  REQUIRE(all_equal(bernoulli({100}, 1.0).to_vector<double>(), 1.0));

  auto ri = randint(-3, 4, {20000}).to_vector<std::int64_t>();
  std::vector<int> hits(7, 0);
  for (auto e : ri) {
    REQUIRE(e >= -3);
    REQUIRE(e < 4);
    ++hits[e + 3];
  }
  for (int h : hits) REQUIRE(std::abs(h - 20000 / 7) < 300);

  for (std::int64_t n : {0, 1, 2, 17, 1000}) {
    auto p = randperm(n).to_vector<std::int64_t>();
    REQUIRE(static_cast<std::int64_t>(p.size()) == n);
    std::sort(p.begin(), p.end());
    for (std::int64_t i = 0; i < n; ++i) REQUIRE(p[i] == i);
  }
  // Each value lands in position 0 about equally often.
  std::vector<int> first(5, 0);
  for (int i = 0; i < 5000; ++i) ++first[randperm(5).to_vector<std::int64_t>()[0]];
  for (int f : first) REQUIRE(std::abs(f - 1000) < 120);
}

TEST_CASE("random argument errors name the op", "[random]") {
  REQUIRE_THROWS_WITH(bernoulli({2}, 1.5), Catch::Contains("bernoulli"));
  REQUIRE_THROWS_WITH(randint(3, 3, {2}), Catch::Contains("randint"));
  REQUIRE_THROWS_WITH(randperm(-1), Catch::Contains("randperm"));
  REQUIRE_THROWS_WITH(rand({2}, kInt64), Catch::Contains("uniform_") && Catch::Contains("int64"));
  REQUIRE_THROWS_WITH(normal_(zeros({2}), 0.0, -1.0), Catch::Contains("normal_"));
}
