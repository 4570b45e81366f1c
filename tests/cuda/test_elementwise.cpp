// [cuda] Elementwise kernels against the cpu reference: every unary and binary op on awkward
// layouts (views, broadcasts, 0-d, empty, odd sizes, more than 8 dims that merge) in every dtype
// the op takes; in-place forms on strided destinations; where; all_finite; gradients through
// autograd in float32 and float64; and the error for operands on different devices.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "autograd/ops/elementwise.h"
#include "autograd/ops/shape.h"
#include "cuda/compare.h"
#include "cuda/kernel_check.h"
#include "tensor/elementwise.h"

using namespace retort;
using retort::testing::awkward_layouts;
using retort::testing::compare_with_cpu;
using retort::testing::kCuda;
using retort::testing::random_tensor;
using retort::testing::require_match;
using retort::testing::sample;
using retort::testing::Tol;
using Catch::Matchers::Contains;

namespace {

using Unary = std::function<Tensor(const Tensor&)>;

struct NamedUnary {
  const char* name;
  Unary f;
  bool floating_only;
};

std::vector<NamedUnary> unary_ops() {
  return {
      {"neg", [](const Tensor& x) { return ops::neg(x); }, false},
      {"abs", [](const Tensor& x) { return ops::abs(x); }, false},
      {"sign", [](const Tensor& x) { return ops::sign(x); }, false},
      {"clamp", [](const Tensor& x) { return ops::clamp(x, -0.5, 2.0); }, false},
      {"relu", [](const Tensor& x) { return ops::relu(x); }, false},
      {"exp", [](const Tensor& x) { return ops::exp(x); }, true},
      {"log", [](const Tensor& x) { return ops::log(ops::add_scalar(ops::abs(x), 0.1)); }, true},
      {"sqrt", [](const Tensor& x) { return ops::sqrt(ops::abs(x)); }, true},
      {"pow 2", [](const Tensor& x) { return ops::pow(x, 2.0); }, true},
      {"pow 3", [](const Tensor& x) { return ops::pow(x, 3.0); }, true},
      {"pow 0.5", [](const Tensor& x) { return ops::pow(ops::abs(x), 0.5); }, true},
      {"sigmoid", [](const Tensor& x) { return ops::sigmoid(x); }, true},
      {"tanh", [](const Tensor& x) { return ops::tanh(x); }, true},
  };
}

using Binary = std::function<Tensor(const Tensor&, const Tensor&)>;

std::vector<std::pair<const char*, Binary>> binary_ops() {
  return {
      {"add", ops::add},         {"sub", ops::sub},         {"mul", ops::mul},
      {"maximum", ops::maximum}, {"minimum", ops::minimum}, {"eq", ops::eq},
      {"ne", ops::ne},           {"lt", ops::lt},           {"le", ops::le},
      {"gt", ops::gt},           {"ge", ops::ge},
      {"div", [](const Tensor& a, const Tensor& b) { return ops::div(a, ops::add_scalar(ops::abs(b), 1.0)); }},
      {"rsub 2.5", [](const Tensor& a, const Tensor&) { return ops::rsub_scalar(a, 2.5); }},
      {"rdiv 3", [](const Tensor& a, const Tensor& b) { return ops::rdiv_scalar(ops::add_scalar(ops::abs(b), 1.0), 3.0); }},
      {"mul_scalar", [](const Tensor& a, const Tensor&) { return ops::mul_scalar(a, -1.5); }},
      {"gt_scalar", [](const Tensor& a, const Tensor&) { return ops::gt_scalar(a, 0.0); }},
      {"relu_backward", ops::relu_backward},
  };
}

// Pairs of shapes (a, b) with a's view: broadcasting in both directions, 0-d, empty, odd sizes.
struct PairCase {
  const char* name;
  Shape a, b;
  bool transpose_a;
};
const std::vector<PairCase> kPairs = {
    {"same 1025", {1025}, {1025}, false},       {"rows against column", {3, 1, 5}, {4, 1}, false},
    {"0-d with 1023", {}, {1023}, false},       {"empty", {0, 3}, {3}, false},
    {"transposed a", {7, 9}, {7, 1}, true},     {"size-1 dims", {1, 6, 1}, {1, 1, 4}, false},
};

}  // namespace

TEST_CASE("cuda unary ops match the cpu on awkward layouts in every dtype", "[cuda]") {
  RETORT_REQUIRE_GPU();
  for (DType dt : {kFloat32, kFloat64, kInt64}) {
    for (const auto& lc : awkward_layouts()) {
      Tensor base = sample(lc.base, dt, 5);
      Tensor xc = lc.view(base), xg = lc.view(base.to(kCuda));
      for (const auto& op : unary_ops()) {
        INFO(op.name << " on " << lc.name << " " << dtype_name(dt));
        if (op.floating_only && dt == kInt64) {
          REQUIRE_THROWS_WITH(op.f(xg), Contains("expected a floating dtype"));
          continue;
        }
        require_match(op.f(xg), op.f(xc));
      }
    }
  }
}

TEST_CASE("cuda binary ops broadcast like the cpu in every dtype", "[cuda]") {
  RETORT_REQUIRE_GPU();
  for (DType dt : {kFloat32, kFloat64, kInt64}) {
    for (const PairCase& pc : kPairs) {
      Shape as = pc.a;
      if (pc.transpose_a) std::swap(as[0], as[1]);
      Tensor a = sample(as, dt, 11), b = sample(pc.b, dt, 12);
      Tensor ag = a.to(kCuda), bg = b.to(kCuda);
      if (pc.transpose_a) a = ops::transpose(a, 0, 1), ag = ops::transpose(ag, 0, 1);
      for (const auto& [name, f] : binary_ops()) {
        INFO(name << " on " << pc.name << " " << dtype_name(dt));
        require_match(f(ag, bg), f(a, b));  // int64 quotients truncate toward zero on both
      }
      Tensor mask = ops::gt_scalar(sample(pc.b, kFloat64, 13), 0.3);
      require_match(ops::where(mask.to(kCuda), ag, bg), ops::where(mask, a, b));
    }
  }
}

TEST_CASE("cuda where converts the mask to the operands' dtype first, as the cpu does", "[cuda]") {
  RETORT_REQUIRE_GPU();
  // 0.5 converts to 0, so b is picked there (a float test would pick a).
  Tensor mask = from_vector(std::vector<double>{0.5, 0.0, -2.0}, {3}, kFloat64);
  Tensor a = from_vector(std::vector<std::int64_t>{1, 2, 3}, {3});
  Tensor b = from_vector(std::vector<std::int64_t>{-1, -2, -3}, {3});
  Tensor y = ops::where(mask.to(kCuda), a.to(kCuda), b.to(kCuda));
  require_match(y, ops::where(mask, a, b));
  REQUIRE(y.to(kCPU).to_vector<std::int64_t>() == std::vector<std::int64_t>{-1, -2, 3});
}

TEST_CASE("cuda in-place ops write through strided views and broadcast the source", "[cuda]") {
  RETORT_REQUIRE_GPU();
  for (DType dt : {kFloat32, kFloat64, kInt64}) {
    INFO(dtype_name(dt));
    Tensor base = sample({9, 1023}, dt, 21), row = sample({1023}, dt, 22);
    Tensor bc = base.clone(), bg = base.to(kCuda), rg = row.to(kCuda);
    // A strided destination (every other row, transposed) and a broadcast source.
    auto dst = [](const Tensor& t) { return ops::transpose(ops::slice(t, 0, 0, 9, 2), 0, 1); };
    auto src = [](const Tensor& r) { return ops::unsqueeze(r, 1); };
    ops::add_(dst(bc), src(row));
    ops::add_(dst(bg), src(rg));
    ops::mul_(dst(bc), src(row));
    ops::mul_(dst(bg), src(rg));
    ops::add_scaled_(dst(bc), src(row), -0.25);
    ops::add_scaled_(dst(bg), src(rg), -0.25);
    ops::mul_scalar_(dst(bc), 3.0);
    ops::mul_scalar_(dst(bg), 3.0);
    require_match(bg, bc);  // the rows not in the view are untouched on both
  }
}

TEST_CASE("cuda all_finite finds one NaN or Inf anywhere, also in views", "[cuda]") {
  RETORT_REQUIRE_GPU();
  for (DType dt : {kFloat32, kFloat64}) {
    Tensor x = sample({5, 1025}, dt, 31);
    REQUIRE(ops::all_finite(x.to(kCuda)));
    for (double bad : {std::nan(""), std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity()}) {
      Tensor y = x.clone();
      ops::narrow(ops::select(y, 0, 3), 0, 1024, 1).fill_(bad);
      Tensor yg = y.to(kCuda);
      REQUIRE_FALSE(ops::all_finite(yg));
      REQUIRE_FALSE(ops::all_finite(ops::transpose(yg, 0, 1)));
      REQUIRE(ops::all_finite(ops::narrow(yg, 0, 0, 3)));  // the bad row left out
    }
  }
  REQUIRE(ops::all_finite(sample({7}, kInt64, 1).to(kCuda)));
  REQUIRE(ops::all_finite(empty({0, 4}, kFloat32, kCuda)));
}

TEST_CASE("cuda elementwise gradients match the cpu through autograd", "[cuda]") {
  RETORT_REQUIRE_GPU();
  const Tol f32{1e-5, 1e-5};
  using V = std::vector<Tensor>;
  for (DType dt : {kFloat32, kFloat64}) {
    INFO(dtype_name(dt));
    Tensor x = random_tensor({4, 1, 33}, kFloat64, 41), y = random_tensor({5, 1}, kFloat64, 42);
    compare_with_cpu([](const V& v) { return neg(v[0]) + abs(v[0]) * exp(v[0]); }, {x}, dt, f32, f32);
    compare_with_cpu([](const V& v) { return log(abs(v[0]) + 0.5) + sqrt(abs(v[0]) + 0.1); }, {x}, dt, f32, f32);
    compare_with_cpu([](const V& v) { return pow(v[0], 3.0) + clamp(v[0], -0.3, 0.4); }, {x}, dt, f32, f32);
    compare_with_cpu([](const V& v) { return relu(v[0]) + sigmoid(v[0]) + tanh(v[0]); }, {x}, dt, f32, f32);
    compare_with_cpu([](const V& v) { return v[0] * v[1] - v[1] / (abs(v[0]) + 1.0); }, {x, y}, dt, f32, f32);
    compare_with_cpu([](const V& v) { return maximum(v[0], v[1]) + minimum(v[1], v[0]); }, {x, y}, dt, f32, f32);
    compare_with_cpu([](const V& v) { return where(gt(v[0], v[1]), v[0], v[1] * 2.0); }, {x, y}, dt, f32, f32);
    compare_with_cpu([](const V& v) { return transpose(v[0], 0, 2) * 2.0 + 1.0; }, {x}, dt, f32, f32);
  }
}

TEST_CASE("cuda elementwise ops reject operands on different devices, naming both", "[cuda]") {
  RETORT_REQUIRE_GPU();
  Tensor a = sample({2, 3}, kFloat32, 1), b = sample({3}, kFloat32, 2).to(kCuda);
  auto names_both = [](const char* op) {
    return Contains(op) && Contains("[2,3]") && Contains("[3]") && Contains("cpu") && Contains("cuda:0");
  };
  REQUIRE_THROWS_WITH(ops::add(a, b), names_both("add"));
  REQUIRE_THROWS_WITH(ops::maximum(b, a), names_both("maximum"));
  REQUIRE_THROWS_WITH(ops::add_(a, b), names_both("add_"));
  REQUIRE_THROWS_WITH(ops::relu_backward(b, a), names_both("relu_backward"));
  REQUIRE_THROWS_WITH(ops::where(ops::gt_scalar(b, 0), a, a), names_both("where"));
}
