// float64 gradchecks for matmul (2-D, batched with broadcasting on either side, transposed
// operands), bmm and linear (with and without bias, 3-D input); gradients only for the inputs that
// require them; the float32 fast-path backward against the float64 gradients.
#include "autograd/ops/nn_ops.h"
#include "autograd/ops/reduce.h"
#include "autograd/ops/shape.h"
#include "support/helpers.h"

using namespace retort;

namespace {
using V = const std::vector<Tensor>&;
}  // namespace

TEST_CASE("matmul passes gradcheck", "[autograd][gradcheck][linalg]") {
  auto mm = [](V v) { return matmul(v[0], v[1]); };
  REQUIRE_GRADCHECK(mm, (std::vector<Tensor>{testing::grad_leaf({3, 4}, 1), testing::grad_leaf({4, 5}, 2)}));
  REQUIRE_GRADCHECK(mm, (std::vector<Tensor>{testing::grad_leaf({1, 3}, 3), testing::grad_leaf({3, 1}, 4)}));
  // Batched with broadcasting on both sides, a batch of rows times one matrix, and the mirror.
  REQUIRE_GRADCHECK(mm, (std::vector<Tensor>{testing::grad_leaf({2, 1, 3, 4}, 5), testing::grad_leaf({3, 4, 2}, 6)}));
  REQUIRE_GRADCHECK(mm, (std::vector<Tensor>{testing::grad_leaf({2, 3, 4}, 7), testing::grad_leaf({4, 5}, 8)}));
  REQUIRE_GRADCHECK(mm, (std::vector<Tensor>{testing::grad_leaf({3, 4}, 9), testing::grad_leaf({2, 4, 5}, 10)}));
  // Transposed operands.
  REQUIRE_GRADCHECK([](V v) { return matmul(transpose(v[0], 0, 1), transpose(v[1], 0, 1)); },
                    (std::vector<Tensor>{testing::grad_leaf({4, 3}, 11), testing::grad_leaf({5, 4}, 12)}));
}

TEST_CASE("bmm passes gradcheck", "[autograd][gradcheck][linalg]") {
  REQUIRE_GRADCHECK([](V v) { return bmm(v[0], v[1]); }, (std::vector<Tensor>{testing::grad_leaf({2, 3, 4}, 13), testing::grad_leaf({2, 4, 2}, 14)}));
  REQUIRE_GRADCHECK([](V v) { return bmm(v[0], transpose(v[1], 1, 2)); },
                    (std::vector<Tensor>{testing::grad_leaf({3, 1, 4}, 15), testing::grad_leaf({3, 5, 4}, 16)}));
}

TEST_CASE("linear passes gradcheck with and without bias", "[autograd][gradcheck][linalg]") {
  REQUIRE_GRADCHECK([](V v) { return linear(v[0], v[1], v[2]); },
                    (std::vector<Tensor>{testing::grad_leaf({4, 5}, 17), testing::grad_leaf({3, 5}, 18), testing::grad_leaf({3}, 19)}));
  REQUIRE_GRADCHECK([](V v) { return linear(v[0], v[1]); }, (std::vector<Tensor>{testing::grad_leaf({4, 5}, 20), testing::grad_leaf({3, 5}, 21)}));
  REQUIRE_GRADCHECK([](V v) { return linear(v[0], v[1], v[2]); },
                    (std::vector<Tensor>{testing::grad_leaf({2, 3, 5}, 22), testing::grad_leaf({4, 5}, 23), testing::grad_leaf({4}, 24)}));
  REQUIRE_GRADCHECK([](V v) { return linear(v[0], v[1], v[2]); },
                    (std::vector<Tensor>{testing::grad_leaf({5}, 25), testing::grad_leaf({2, 5}, 26), testing::grad_leaf({2}, 27)}));
}

TEST_CASE("only inputs that require grad get one", "[autograd][linalg]") {
  Tensor x = testing::grad_leaf({4, 5}, 28, false), w = testing::grad_leaf({3, 5}, 29), b = testing::grad_leaf({3}, 30, false);
  sum(linear(x, w, b)).backward();
  REQUIRE(!x.grad().defined());
  REQUIRE(!b.grad().defined());
  // ∂Σ(x·wᵀ)/∂w[o,i] = Σ_m x[m,i].
  auto xv = x.to_vector<double>(), gw = w.grad().to_vector<double>();
  for (int o = 0; o < 3; ++o)
    for (int i = 0; i < 5; ++i) {
      double s = 0;
      for (int m = 0; m < 4; ++m) s += xv[m * 5 + i];
      REQUIRE(gw[o * 5 + i] == Approx(s));
    }
  Tensor a = testing::grad_leaf({2, 3}, 31), c = testing::grad_leaf({3, 2}, 32, false);
  sum(matmul(a, c)).backward();
  REQUIRE(a.grad().defined());
  REQUIRE(!c.grad().defined());
}

TEST_CASE("float32 fast-path gradients agree with float64", "[autograd][linalg]") {
  Tensor x64 = testing::grad_leaf({2, 6, 9}, 33), w64 = testing::grad_leaf({5, 9}, 34), b64 = testing::grad_leaf({5}, 35);
  Tensor g = testing::random_tensor({2, 6, 5}, kFloat64, 36);
  linear(x64, w64, b64).backward(g);
  Tensor x32 = x64.to(kFloat32).set_requires_grad(), w32 = w64.to(kFloat32).set_requires_grad();
  Tensor b32 = b64.to(kFloat32).set_requires_grad();
  linear(x32, w32, b32).backward(g.to(kFloat32));
  REQUIRE_ALLCLOSE(x32.grad(), x64.grad(), 1e-4, 1e-4);
  REQUIRE_ALLCLOSE(w32.grad(), w64.grad(), 1e-4, 1e-4);
  REQUIRE_ALLCLOSE(b32.grad(), b64.grad(), 1e-4, 1e-4);
  Tensor a64 = testing::grad_leaf({3, 4, 7}, 37), c64 = testing::grad_leaf({1, 7, 2}, 38);
  Tensor gm = testing::random_tensor({3, 4, 2}, kFloat64, 39);
  matmul(a64, c64).backward(gm);
  Tensor a32 = a64.to(kFloat32).set_requires_grad(), c32 = c64.to(kFloat32).set_requires_grad();
  matmul(a32, c32).backward(gm.to(kFloat32));
  REQUIRE_ALLCLOSE(a32.grad(), a64.grad(), 1e-4, 1e-4);
  REQUIRE_ALLCLOSE(c32.grad(), c64.grad(), 1e-4, 1e-4);
}
