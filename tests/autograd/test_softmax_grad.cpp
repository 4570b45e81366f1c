// float64 gradchecks for softmax and log_softmax along every dim of 3-D inputs (and a
// non-contiguous input), plus a composition (cross-entropy-like) through log_softmax.
#include "autograd/ops/nn_ops.h"
#include "autograd/ops/shape.h"
#include "support/helpers.h"

using namespace retort;

namespace {
Tensor in(const Shape& s, std::uint64_t seed) {
  Tensor t = testing::random_tensor(s, kFloat64, seed, 2.0);
  t.set_requires_grad();
  return t;
}
using V = const std::vector<Tensor>&;
}  // namespace

TEST_CASE("softmax and log_softmax pass gradcheck on every dim", "[autograd][gradcheck][softmax]") {
  std::vector<Tensor> x{in({3, 4, 5}, 1)};
  for (std::int64_t d : {0, 1, 2, -1}) {
    INFO("dim " << d);
    REQUIRE_GRADCHECK([d](V v) { return softmax(v[0], d); }, x);
    REQUIRE_GRADCHECK([d](V v) { return log_softmax(v[0], d); }, x);
  }
  std::vector<Tensor> row{in({1, 6}, 2)};
  REQUIRE_GRADCHECK([](V v) { return log_softmax(v[0], 1); }, row);
}

TEST_CASE("softmax gradcheck on a transposed input", "[autograd][gradcheck][softmax]") {
  std::vector<Tensor> x{in({5, 3}, 3)};
  REQUIRE_GRADCHECK([](V v) { return softmax(transpose(v[0], 0, 1), 1); }, x);
  REQUIRE_GRADCHECK([](V v) { return log_softmax(transpose(v[0], 0, 1), 0); }, x);
}

TEST_CASE("softmax gradients through the float32 fast path agree with float64", "[autograd][softmax]") {
  Tensor x64 = in({4, 10}, 4);
  Tensor g = testing::random_tensor({4, 10}, kFloat64, 5);
  log_softmax(x64, 1).backward(g);
  Tensor x32 = x64.to(kFloat32).set_requires_grad();
  log_softmax(x32, 1).backward(g.to(kFloat32));
  REQUIRE_ALLCLOSE(x32.grad(), x64.grad(), 1e-5, 1e-4);
}
