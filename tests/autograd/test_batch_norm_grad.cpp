// float64 gradchecks for batch_norm in training mode (x, weight, bias) for [N,C] and [N,C,H,W],
// in eval mode, without affine parameters, and the float32 fast path against float64.
#include "autograd/ops/nn_ops.h"
#include "autograd/ops/shape.h"
#include "support/helpers.h"

using namespace retort;

namespace {
using V = const std::vector<Tensor>&;
}  // namespace

TEST_CASE("batch_norm training passes gradcheck for x, weight and bias", "[autograd][gradcheck][batch_norm]") {
  // Running stats are defined: each call also updates them, which must not disturb the gradient.
  Tensor rm = zeros({3}, kFloat64), rv = ones({3}, kFloat64);
  auto bn = [&](V v) { return batch_norm(v[0], v[1], v[2], rm, rv, true, 0.1, 1e-5); };
  REQUIRE_GRADCHECK(bn, (std::vector<Tensor>{testing::grad_leaf({5, 3}, 1), testing::grad_leaf({3}, 2), testing::grad_leaf({3}, 3)}));
  REQUIRE_GRADCHECK(bn, (std::vector<Tensor>{testing::grad_leaf({2, 3, 3, 2}, 4), testing::grad_leaf({3}, 5), testing::grad_leaf({3}, 6)}));
  // Batch 1 with spatial extent, and a channels-last input.
  REQUIRE_GRADCHECK(bn, (std::vector<Tensor>{testing::grad_leaf({1, 3, 2, 3}, 7), testing::grad_leaf({3}, 8), testing::grad_leaf({3}, 9)}));
  REQUIRE_GRADCHECK([&](V v) { return batch_norm(permute(v[0], {0, 3, 1, 2}), v[1], v[2], rm, rv, true); },
                    (std::vector<Tensor>{testing::grad_leaf({2, 2, 3, 3}, 10), testing::grad_leaf({3}, 11), testing::grad_leaf({3}, 12)}));
  // No affine parameters.
  REQUIRE_GRADCHECK([](V v) { return batch_norm(v[0], Tensor(), Tensor(), Tensor(), Tensor(), true); },
                    (std::vector<Tensor>{testing::grad_leaf({4, 2, 2, 2}, 13)}));
}

TEST_CASE("batch_norm eval passes gradcheck", "[autograd][gradcheck][batch_norm]") {
  Tensor rm = from_vector({0.3, -0.2, 1.0}, {3}, kFloat64), rv = from_vector({0.5, 1.5, 2.0}, {3}, kFloat64);
  auto bn = [&](V v) { return batch_norm(v[0], v[1], v[2], rm, rv, false, 0.1, 1e-5); };
  REQUIRE_GRADCHECK(bn, (std::vector<Tensor>{testing::grad_leaf({4, 3}, 15), testing::grad_leaf({3}, 16), testing::grad_leaf({3}, 17)}));
  REQUIRE_GRADCHECK(bn, (std::vector<Tensor>{testing::grad_leaf({2, 3, 2, 3}, 18), testing::grad_leaf({3}, 19), testing::grad_leaf({3}, 20)}));
  // Eval leaves the running stats alone.
  REQUIRE(rm.to_vector<double>() == std::vector<double>{0.3, -0.2, 1.0});
}

TEST_CASE("batch_norm gradients through the float32 fast path agree with float64", "[autograd][batch_norm]") {
  for (bool training : {true, false}) {
    Tensor x64 = testing::grad_leaf({4, 5, 3, 3}, 21), w64 = testing::grad_leaf({5}, 22), b64 = testing::grad_leaf({5}, 23);
    Tensor g = testing::random_tensor({4, 5, 3, 3}, kFloat64, 24);
    Tensor rm64 = zeros({5}, kFloat64), rv64 = ones({5}, kFloat64);
    batch_norm(x64, w64, b64, rm64, rv64, training).backward(g);
    Tensor x32 = x64.to(kFloat32).set_requires_grad(), w32 = w64.to(kFloat32).set_requires_grad();
    Tensor b32 = b64.to(kFloat32).set_requires_grad();
    Tensor rm32 = zeros({5}), rv32 = ones({5});
    batch_norm(x32, w32, b32, rm32, rv32, training).backward(g.to(kFloat32));
    REQUIRE_ALLCLOSE(x32.grad(), x64.grad(), 1e-4, 1e-3);
    REQUIRE_ALLCLOSE(w32.grad(), w64.grad(), 1e-4, 1e-4);
    REQUIRE_ALLCLOSE(b32.grad(), b64.grad(), 1e-4, 1e-4);
    REQUIRE_ALLCLOSE(rm32, rm64, 1e-6, 1e-5);
    REQUIRE_ALLCLOSE(rv32, rv64, 1e-6, 1e-5);
  }
  // Only the inputs that require grad get one.
  Tensor x = testing::grad_leaf({3, 2}, 25), w = testing::grad_leaf({2}, 26, false), b = testing::grad_leaf({2}, 27);
  batch_norm(x, w, b, Tensor(), Tensor(), true).backward(testing::random_tensor({3, 2}, kFloat64, 28));
  REQUIRE(x.grad().defined());
  REQUIRE(!w.grad().defined());
  REQUIRE(b.grad().defined());
}

TEST_CASE("batch_norm_relu passes gradcheck in training and eval", "[autograd][gradcheck][batch_norm]") {
  Tensor rm = zeros({3}, kFloat64), rv = ones({3}, kFloat64);
  for (bool training : {true, false}) {
    INFO((training ? "training" : "eval"));
    auto f = [&](V v) { return batch_norm_relu(v[0], v[1], v[2], rm, rv, training, 0.1, 1e-5); };
    REQUIRE_GRADCHECK(f, (std::vector<Tensor>{testing::grad_leaf({2, 3, 3, 2}, 31),
                                              testing::grad_leaf({3}, 32), testing::grad_leaf({3}, 33)}));
    REQUIRE_GRADCHECK(f, (std::vector<Tensor>{testing::grad_leaf({5, 3}, 34),
                                              testing::grad_leaf({3}, 35), testing::grad_leaf({3}, 36)}));
  }
}
