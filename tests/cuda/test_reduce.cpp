// [cuda] Reductions against the cpu reference: sum, mean, var, logsumexp and norm over every kind
// of dims list (all, one, scattered, size-1, empty extents, 0-d) on packed and permuted inputs,
// rows short enough for one thread, long enough for a block, and long and few enough to be split
// over blocks; max/min/argmax with ties (first index wins, also across split blocks) and NaNs;
// special values; argument errors; gradients through autograd.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

#include "autograd/ops/reduce.h"
#include "autograd/ops/shape.h"
#include "cuda/compare.h"
#include "cuda/kernel_check.h"
#include "tensor/reduce.h"

using namespace retort;
using retort::testing::compare_with_cpu;
using retort::testing::kCuda;
using retort::testing::random_tensor;
using retort::testing::require_match;
using retort::testing::sample;
using retort::testing::Tol;
using Catch::Matchers::Contains;

namespace {

struct DimsCase {
  Shape shape;
  ops::Dims dims;
  bool permute = false;  // reduce a permuted (non-contiguous) view of the input
};

const std::vector<DimsCase> kCases = {
    {{1025}, {}},          {{1025}, {0}},          {{3, 1023}, {1}},      {{3, 1023}, {0}},
    {{4, 5, 6}, {0, 2}},   {{4, 5, 6}, {-1}},      {{4, 5, 6}, {1}, true}, {{2, 3, 4, 5}, {0, 2}, true},
    {{7, 1, 9}, {1}},      {{3, 100000}, {1}},     {{2, 300000}, {}},     {{}, {}},
    {{}, {-1}},            {{0, 5}, {1}},          {{0, 5}, {0}},         {{17, 33}, {0, 1}, true},
};

Tensor view_of(const Tensor& t, bool permute) {
  if (!permute) return t;
  std::vector<std::int64_t> order;
  for (std::int64_t d = t.dim() - 1; d >= 0; --d) order.push_back(d);
  return ops::permute(t, order);
}

Shape stored_shape(const DimsCase& c) {
  Shape s = c.shape;
  if (c.permute) std::reverse(s.begin(), s.end());
  return s;
}

}  // namespace

TEST_CASE("cuda sum, mean, var, logsumexp and norm match the cpu over any dims", "[cuda]") {
  RETORT_REQUIRE_GPU();
  for (DType dt : {kFloat32, kFloat64, kInt64}) {
    for (const DimsCase& c : kCases) {
      Tensor base = sample(stored_shape(c), dt, 3);
      Tensor x = view_of(base, c.permute), xg = view_of(base.to(kCuda), c.permute);
      for (bool keep : {false, true}) {
        INFO(shape_str(c.shape) << " dims " << shape_str(c.dims) << (c.permute ? " permuted" : "")
                                << (keep ? " keepdim " : " ") << dtype_name(dt));
        require_match(ops::sum(xg, c.dims, keep), ops::sum(x, c.dims, keep));
        if (dt == kInt64) continue;
        require_match(ops::mean(xg, c.dims, keep), ops::mean(x, c.dims, keep));
        for (int corr : {0, 1, 2}) require_match(ops::var(xg, c.dims, corr, keep), ops::var(x, c.dims, corr, keep));
        require_match(ops::logsumexp(xg, c.dims, keep), ops::logsumexp(x, c.dims, keep));
        for (double p : {1.0, 2.0, 3.0}) require_match(ops::norm(xg, p, c.dims, keep), ops::norm(x, p, c.dims, keep));
      }
    }
  }
}

TEST_CASE("cuda logsumexp and norm handle infinities and NaN like the cpu", "[cuda]") {
  RETORT_REQUIRE_GPU();
  const double inf = std::numeric_limits<double>::infinity(), nan = std::nan("");
  // Rows: all −inf, one +inf, +inf and −inf, a NaN, a NaN after +inf; 40 columns for the block path.
  for (std::int64_t cols : {5, 40}) {
    Tensor x = random_tensor({5, cols}, kFloat64, 7);
    auto set = [&](std::int64_t r, std::int64_t c, double v) { ops::select(ops::select(x, 0, r), 0, c).fill_(v); };
    for (std::int64_t c = 0; c < cols; ++c) set(0, c, -inf);
    set(1, 3, inf);
    set(2, 1, inf), set(2, 2, -inf);
    set(3, cols - 1, nan);
    set(4, 0, inf), set(4, 4, nan);
    for (DType dt : {kFloat32, kFloat64}) {
      INFO(cols << " columns " << dtype_name(dt));
      Tensor xd = x.to(dt), xg = xd.to(kCuda);
      require_match(ops::logsumexp(xg, {1}), ops::logsumexp(xd, {1}));
      require_match(ops::norm(xg, 2.0, {1}), ops::norm(xd, 2.0, {1}));
      require_match(ops::sum(xg, {1}), ops::sum(xd, {1}));
    }
  }
}

TEST_CASE("cuda max, min and argmax take the first extreme and the first NaN", "[cuda]") {
  RETORT_REQUIRE_GPU();
  struct Case {
    Shape shape;
    std::int64_t dim;
  };
  // int64 values round(3·N(0,1)) repeat a lot: the first index of the extreme is what is tested,
  // within a thread, across a block and across the blocks of a split row.
  const std::vector<Case> cases = {{{4, 10}, 1}, {{6, 1023}, 1}, {{6, 1023}, 0}, {{3, 50000}, 1},
                                   {{2, 3, 5}, 1}, {{}, 0}, {{1, 1}, 0}};
  for (DType dt : {kInt64, kFloat32, kFloat64}) {
    for (const Case& c : cases) {
      INFO(shape_str(c.shape) << " dim " << c.dim << " " << dtype_name(dt));
      Tensor x = sample(c.shape, kInt64, 9).to(dt), xg = x.to(kCuda);
      for (bool keep : {false, true}) {
        ops::ValuesIndices want = ops::max(x, c.dim, keep), got = ops::max(xg, c.dim, keep);
        require_match(got.values, want.values);
        require_match(got.indices, want.indices);
        want = ops::min(x, c.dim, keep), got = ops::min(xg, c.dim, keep);
        require_match(got.values, want.values);
        require_match(got.indices, want.indices);
        require_match(ops::argmax(xg, c.dim, keep), ops::argmax(x, c.dim, keep));
      }
      require_match(ops::max_all(xg), ops::max_all(x));
      require_match(ops::min_all(xg), ops::min_all(x));
    }
  }
  for (std::int64_t cols : {9, 300, 20000}) {
    Tensor x = random_tensor({3, cols}, kFloat64, 10);
    ops::narrow(ops::select(x, 0, 1), 0, cols / 2, 1).fill_(std::nan(""));
    ops::narrow(ops::select(x, 0, 1), 0, cols - 1, 1).fill_(std::nan(""));
    ops::narrow(ops::select(x, 0, 2), 0, 0, 1).fill_(std::nan(""));
    for (DType dt : {kFloat32, kFloat64}) {
      INFO(cols << " columns with NaNs " << dtype_name(dt));
      Tensor xd = x.to(dt), xg = xd.to(kCuda);
      for (bool is_max : {true, false}) {
        ops::ValuesIndices want = is_max ? ops::max(xd, 1) : ops::min(xd, 1);
        ops::ValuesIndices got = is_max ? ops::max(xg, 1) : ops::min(xg, 1);
        require_match(got.values, want.values);
        require_match(got.indices, want.indices);
      }
      require_match(ops::max_all(xg), ops::max_all(xd));
    }
  }
}

TEST_CASE("cuda reductions report bad arguments like the cpu", "[cuda]") {
  RETORT_REQUIRE_GPU();
  Tensor x = sample({2, 3}, kFloat32, 1).to(kCuda);
  REQUIRE_THROWS_WITH(ops::sum(x, {0, -2}), Contains("sum") && Contains("more than once"));
  REQUIRE_THROWS_WITH(ops::mean(x, {2}), Contains("mean") && Contains("out of range"));
  REQUIRE_THROWS_WITH(ops::mean(zeros({2}, kInt64, kCuda)), Contains("mean") && Contains("floating"));
  REQUIRE_THROWS_WITH(ops::max(empty({0, 3}, kFloat32, kCuda), 0), Contains("max") && Contains("[0,3]"));
  REQUIRE(ops::max(empty({0, 3}, kFloat32, kCuda), 1).values.sizes() == Shape{0});
}

TEST_CASE("cuda reduction gradients match the cpu through autograd", "[cuda]") {
  RETORT_REQUIRE_GPU();
  const Tol f32{1e-5, 1e-5};
  using V = std::vector<Tensor>;
  for (DType dt : {kFloat32, kFloat64}) {
    INFO(dtype_name(dt));
    Tensor x = random_tensor({4, 5, 37}, kFloat64, 21);
    compare_with_cpu([](const V& v) { return sum(v[0], {0, 2}); }, {x}, dt, f32, f32);
    compare_with_cpu([](const V& v) { return mean(transpose(v[0], 0, 2), {1}, true); }, {x}, dt, f32, f32);
    compare_with_cpu([](const V& v) { return var(v[0], {2}); }, {x}, dt, f32, f32);
    compare_with_cpu([](const V& v) { return logsumexp(v[0], {1}); }, {x}, dt, f32, f32);
    compare_with_cpu([](const V& v) { return norm(v[0], 2.0, {2}); }, {x}, dt, f32, f32);
    compare_with_cpu([](const V& v) { return norm(v[0], 3.0, {0}); }, {x}, dt, f32, f32);
    compare_with_cpu([](const V& v) { return max(v[0], 2).values; }, {x}, dt, f32, f32);
    compare_with_cpu([](const V& v) { return min(v[0], 0, true).values; }, {x}, dt, f32, f32);
    compare_with_cpu([](const V& v) { return amax(v[0]); }, {x}, dt, f32, f32);
  }
}
