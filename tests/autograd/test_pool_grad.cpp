// Pooling as differentiable ops: float64 gradchecks of max (inputs without ties), avg (with and
// without counting padding) and adaptive avg pooling, and the float32 fast path's gradients.
#include "autograd/ops/nn_ops.h"
#include "support/helpers.h"
#include "tensor/random.h"

using namespace retort;

namespace {
Tensor in(const Shape& s, std::uint64_t seed, DType dt = kFloat64) {
  Tensor t = testing::random_tensor(s, dt, seed);
  t.set_requires_grad();
  return t;
}
// Distinct values spaced well beyond gradcheck's step (1e-6), shuffled: max pooling has no ties.
Tensor untied(const Shape& s, std::uint64_t seed) {
  const std::int64_t n = shape_numel(s);
  Generator gen(seed);
  auto perm = randperm(n, &gen).to_vector<std::int64_t>();
  Tensor noise = testing::random_tensor({n}, kFloat64, seed, 0.001);
  auto nv = noise.to_vector<double>();
  std::vector<double> v(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) v[i] = 0.1 * static_cast<double>(perm[i]) + nv[i];
  Tensor t = from_vector(v, s, kFloat64);
  t.set_requires_grad();
  return t;
}
using V = const std::vector<Tensor>&;
}  // namespace

TEST_CASE("max_pool2d passes gradcheck", "[autograd][gradcheck][pool]") {
  std::vector<Tensor> x{untied({2, 3, 7, 9}, 1)};
  REQUIRE_GRADCHECK([](V t) { return max_pool2d(t[0], {2, 2}); }, x);
  REQUIRE_GRADCHECK([](V t) { return max_pool2d(t[0], {3, 3}, {2, 2}, {1, 1}); }, x);
  REQUIRE_GRADCHECK([](V t) { return max_pool2d(t[0], {2, 3}, {1, 2}, {1, 1}); }, x);
}

TEST_CASE("avg_pool2d passes gradcheck", "[autograd][gradcheck][pool]") {
  std::vector<Tensor> x{in({2, 3, 7, 9}, 2)};
  REQUIRE_GRADCHECK([](V t) { return avg_pool2d(t[0], {2, 2}); }, x);
  REQUIRE_GRADCHECK([](V t) { return avg_pool2d(t[0], {3, 3}, {2, 2}, {1, 1}, true); }, x);
  REQUIRE_GRADCHECK([](V t) { return avg_pool2d(t[0], {3, 3}, {2, 2}, {1, 1}, false); }, x);
  REQUIRE_GRADCHECK([](V t) { return avg_pool2d(t[0], {2, 3}, {1, 2}, {1, 0}, false); }, x);
}

TEST_CASE("adaptive_avg_pool2d passes gradcheck", "[autograd][gradcheck][pool]") {
  std::vector<Tensor> x{in({2, 3, 7, 9}, 3)};
  REQUIRE_GRADCHECK([](V t) { return adaptive_avg_pool2d(t[0], {3, 4}); }, x);
  REQUIRE_GRADCHECK([](V t) { return adaptive_avg_pool2d(t[0], {1, 1}); }, x);
  REQUIRE_GRADCHECK([](V t) { return adaptive_avg_pool2d(t[0], {7, 3}); }, x);
  REQUIRE_GRADCHECK([](V t) { return adaptive_avg_pool2d(t[0], {9, 10}); }, x);
}

TEST_CASE("pooling float32 gradients (fast path) match float64 ones", "[autograd][pool]") {
  Tensor x64 = untied({2, 5, 8, 7}, 4);
  Tensor x32 = x64.to(kFloat32);
  x32.set_requires_grad();
  auto check = [&](auto pool) {
    x64.set_grad(Tensor());
    x32.set_grad(Tensor());
    Tensor y64 = pool(x64), y32 = pool(x32);
    Tensor gy = testing::random_tensor(y64.sizes(), kFloat64, 5);
    y64.backward(gy);
    y32.backward(gy.to(kFloat32));
    REQUIRE_ALLCLOSE(y32, y64, 1e-5, 1e-5);
    REQUIRE_ALLCLOSE(x32.grad(), x64.grad(), 1e-5, 1e-5);
  };
  check([](const Tensor& x) { return max_pool2d(x, {2, 2}); });
  check([](const Tensor& x) { return max_pool2d(x, {3, 3}, {2, 2}, {1, 1}); });
  check([](const Tensor& x) { return avg_pool2d(x, {3, 3}, {2, 2}, {1, 1}, false); });
  check([](const Tensor& x) { return adaptive_avg_pool2d(x, {4, 7}); });
}
