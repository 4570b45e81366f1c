// float64 gradchecks for every differentiable elementwise op, incl. broadcasting in both operands,
// and relu's in-place backward against a retained gradient.
#include "autograd/ops/elementwise.h"
#include "autograd/ops/reduce.h"
#include "support/helpers.h"
#include "tensor/elementwise.h"

using namespace retort;

namespace {
Tensor in(const Shape& s, std::uint64_t seed, double shift = 0.0) {
  Tensor t = testing::random_tensor(s, kFloat64, seed);
  if (shift != 0.0) t = from_vector([&] {
      auto v = t.to_vector<double>();
      for (auto& e : v) e = std::abs(e) + shift;
      return v;
    }(), s, kFloat64);
  t.set_requires_grad();
  return t;
}
using V = const std::vector<Tensor>&;
}  // namespace

TEST_CASE("unary ops pass gradcheck", "[autograd][gradcheck]") {
  std::vector<Tensor> x{in({3, 4}, 1)};
  std::vector<Tensor> pos{in({3, 4}, 2, 0.2)};
  REQUIRE_GRADCHECK([](V v) { return neg(v[0]); }, x);
  REQUIRE_GRADCHECK([](V v) { return abs(v[0]); }, x);
  REQUIRE_GRADCHECK([](V v) { return exp(v[0]); }, x);
  REQUIRE_GRADCHECK([](V v) { return log(v[0]); }, pos);
  REQUIRE_GRADCHECK([](V v) { return sqrt(v[0]); }, pos);
  REQUIRE_GRADCHECK([](V v) { return pow(v[0], 3.0); }, x);
  REQUIRE_GRADCHECK([](V v) { return pow(v[0], -1.5); }, pos);
  REQUIRE_GRADCHECK([](V v) { return clamp(v[0], -0.5, 0.7); }, x);
  REQUIRE_GRADCHECK([](V v) { return relu(v[0]); }, x);
  REQUIRE_GRADCHECK([](V v) { return sigmoid(v[0]); }, x);
  REQUIRE_GRADCHECK([](V v) { return tanh(v[0]); }, x);
}

TEST_CASE("binary ops pass gradcheck with broadcasting", "[autograd][gradcheck]") {
  std::vector<Tensor> ab{in({2, 3, 4}, 3), in({3, 1}, 4, 0.5)};
  REQUIRE_GRADCHECK([](V v) { return add(v[0], v[1]); }, ab);
  REQUIRE_GRADCHECK([](V v) { return sub(v[0], v[1]); }, ab);
  REQUIRE_GRADCHECK([](V v) { return mul(v[0], v[1]); }, ab);
  REQUIRE_GRADCHECK([](V v) { return div(v[0], v[1]); }, ab);
  REQUIRE_GRADCHECK([](V v) { return maximum(v[0], v[1]); }, ab);
  REQUIRE_GRADCHECK([](V v) { return minimum(v[0], v[1]); }, ab);
  REQUIRE_GRADCHECK([](V v) { return (2.0 - v[0]) * 3.0 / v[1] + 1.0 / v[1] - v[0] / 4.0; }, ab);
  REQUIRE_GRADCHECK([](V v) { return -v[0] + (v[1] + 1.0) * (v[1] - 2.0); }, ab);
}

TEST_CASE("add_relu passes gradcheck, uses a shared input, and names both shapes on a mismatch",
          "[autograd][gradcheck]") {
  std::vector<Tensor> ab{in({2, 3, 4}, 31), in({2, 3, 4}, 32)};
  REQUIRE_GRADCHECK([](V v) { return add_relu(v[0], v[1]); }, ab);
  REQUIRE_GRADCHECK([](V v) { return add_relu(v[0] * 2.0, v[0] - v[1]); }, ab);
  Tensor a = ab[0], b = ab[1];
  Tensor y = add_relu(a, b);
  REQUIRE(y.to_vector<double>() == relu(add(a, b)).to_vector<double>());
  CHECK_THROWS_WITH(add_relu(a, in({3, 4}, 33)),
                    Catch::Contains("add_relu") && Catch::Contains("[2,3,4]") &&
                        Catch::Contains("[3,4]"));
}

TEST_CASE("where routes gradients to the chosen operand only", "[autograd][gradcheck]") {
  std::vector<Tensor> ab{in({4, 3}, 5), in({3}, 6)};
  Tensor mask = from_vector(std::vector<double>{1, 0, 1}, {3}, kFloat64);
  REQUIRE_GRADCHECK([mask](V v) { return where(mask, v[0], v[1]); }, ab);
  Tensor a = ab[0], b = ab[1];
  Tensor y = where(mask, a, b);
  y.backward(ones({4, 3}, kFloat64));
  REQUIRE(b.grad().to_vector<double>() == std::vector<double>{0, 4, 0});
}

TEST_CASE("gradcheck catches a wrong gradient", "[autograd][gradcheck]") {
  // A deliberately wrong backward (d/dx of x² reported as x) must fail the check.
  std::vector<Tensor> x{in({5}, 9)};
  auto wrong = [](V v) {
    Tensor y = mul(v[0], detach(v[0]));  // gradient x instead of 2x
    return y;
  };
  auto r = gradcheck(wrong, x);
  REQUIRE_FALSE(r.ok);
  REQUIRE_THAT(r.message, Catch::Contains("analytic"));
}

TEST_CASE("a retained relu output gradient is not overwritten by the relu backward", "[autograd]") {
  Tensor x = testing::random_tensor({3, 7}, kFloat32, 27).set_requires_grad();
  Tensor c = testing::random_tensor({3, 7}, kFloat32, 28);
  Tensor h = relu(x);
  h.retain_grad();
  sum(mul(relu(h), c)).backward();
  // h.grad is c where h > 0 (the outer relu's mask), copied before the inner relu's backward
  // (relu_backward_reusing) could write over the engine's gradient; both masks are x > 0.
  const Tensor mask = ops::gt_scalar(x, 0);
  REQUIRE_ALLCLOSE(h.grad(), ops::mul(c, mask), 0, 0);
  REQUIRE_ALLCLOSE(x.grad(), ops::mul(c, mask), 0, 0);
}
