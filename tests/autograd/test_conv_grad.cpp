// conv2d as a differentiable op: float64 gradchecks over its options, the float32 fast path's
// gradients against float64 ones, and which gradients the node produces.
#include "autograd/ops/nn_ops.h"
#include "autograd/grad_mode.h"
#include "autograd/node.h"
#include "autograd/ops/elementwise.h"
#include "autograd/ops/reduce.h"
#include "support/helpers.h"

using namespace retort;

namespace {
Tensor in(const Shape& s, std::uint64_t seed, bool grad = true, DType dt = kFloat64) {
  Tensor t = testing::random_tensor(s, dt, seed);
  t.set_requires_grad(grad);
  return t;
}
using V = const std::vector<Tensor>&;

Conv2dOptions opts(std::array<std::int64_t, 2> s, std::array<std::int64_t, 2> p,
                   std::array<std::int64_t, 2> d = {1, 1}, std::int64_t g = 1) {
  Conv2dOptions o;
  o.stride = s;
  o.padding = p;
  o.dilation = d;
  o.groups = g;
  return o;
}
}  // namespace

TEST_CASE("conv2d passes gradcheck for every option", "[autograd][gradcheck][conv]") {
  struct Case {
    const char* what;
    Shape x, w;
    bool bias;
    Conv2dOptions o;
  };
  const Case cases[] = {
      {"padding 1, bias", {2, 3, 5, 6}, {4, 3, 3, 3}, true, opts({1, 1}, {1, 1})},
      {"stride 2, no padding, no bias", {1, 2, 7, 8}, {3, 2, 3, 3}, false, opts({2, 2}, {0, 0})},
      {"groups 2, dilation 2", {1, 4, 7, 7}, {6, 2, 3, 3}, true, opts({1, 1}, {2, 2}, {2, 2}, 2)},
      {"asymmetric kernel, stride and padding",
       {2, 3, 6, 7},
       {2, 3, 2, 3},
       true,
       opts({2, 1}, {0, 1}, {1, 2})},
      {"1x1, groups 3", {1, 3, 4, 5}, {6, 1, 1, 1}, false, opts({1, 1}, {0, 0}, {1, 1}, 3)},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    std::vector<Tensor> v{in(c.x, 1), in(c.w, 2), c.bias ? in({c.w[0]}, 3) : Tensor()};
    const Conv2dOptions o = c.o;
    REQUIRE_GRADCHECK([o](V t) { return conv2d(t[0], t[1], t[2], o); }, v);
  }
}

TEST_CASE("conv2d gradcheck with only some inputs requiring grad", "[autograd][gradcheck][conv]") {
  const auto o = opts({1, 1}, {1, 1});
  // The input gradient alone (frozen weights), and the parameters alone (data input).
  std::vector<Tensor> a{in({1, 2, 5, 5}, 4), in({3, 2, 3, 3}, 5, false), in({3}, 6, false)};
  REQUIRE_GRADCHECK([o](V t) { return conv2d(t[0], t[1], t[2], o); }, a);
  std::vector<Tensor> b{in({1, 2, 5, 5}, 4, false), in({3, 2, 3, 3}, 5), in({3}, 6)};
  REQUIRE_GRADCHECK([o](V t) { return conv2d(t[0], t[1], t[2], o); }, b);
  std::vector<Tensor> c{in({1, 2, 5, 5}, 4), in({3, 2, 3, 3}, 5, false), in({3}, 6)};
  REQUIRE_GRADCHECK([o](V t) { return conv2d(t[0], t[1], t[2], o); }, c);
}

TEST_CASE("conv2d float32 gradients (fast path) match float64 ones", "[autograd][conv]") {
  const auto o = opts({1, 1}, {1, 1});
  for (const Shape& ws : {Shape{5, 3, 3, 3}, Shape{32, 32, 3, 3}}) {
    const Shape xs{2, ws[1], 9, 10};
    Tensor x64 = in(xs, 7), w64 = in(ws, 8), b64 = in({ws[0]}, 9);
    Tensor x32 = in(xs, 7, true, kFloat32), w32 = in(ws, 8, true, kFloat32),
           b32 = in({ws[0]}, 9, true, kFloat32);
    Tensor y64 = conv2d(x64, w64, b64, o), y32 = conv2d(x32, w32, b32, o);
    Tensor gy = testing::random_tensor(y64.sizes(), kFloat64, 10);
    y64.backward(gy);
    y32.backward(gy.to(kFloat32));
    REQUIRE_ALLCLOSE(y32, y64, 1e-3, 1e-4);
    REQUIRE_ALLCLOSE(x32.grad(), x64.grad(), 1e-3, 1e-4);
    REQUIRE_ALLCLOSE(w32.grad(), w64.grad(), 2e-3, 1e-4);
    REQUIRE_ALLCLOSE(b32.grad(), b64.grad(), 2e-3, 1e-4);
  }
}

TEST_CASE("conv2d records a node only when needed", "[autograd][conv]") {
  Tensor x = in({1, 2, 4, 4}, 11, false), w = in({3, 2, 3, 3}, 12);
  Tensor y = conv2d(x, w);
  REQUIRE(y.grad_fn());
  REQUIRE(y.grad_fn()->name() == "conv2d");
  {
    NoGradGuard ng;
    REQUIRE(!conv2d(x, w).requires_grad());
  }
  y.backward(ones(y.sizes(), kFloat64));
  REQUIRE(!x.grad().defined());
  REQUIRE(w.grad().sizes() == w.sizes());
}

TEST_CASE("conv2d_relu passes gradcheck and equals relu(conv2d) in value and gradient",
          "[autograd][gradcheck][conv]") {
  const auto o = opts({1, 1}, {1, 1});
  std::vector<Tensor> v{in({2, 3, 5, 6}, 31), in({4, 3, 3, 3}, 32), in({4}, 33)};
  REQUIRE_GRADCHECK([o](V t) { return conv2d_relu(t[0], t[1], t[2], o); }, v);
  // float32: the fused fast path (relu as a post-op) against the two separate nodes, on a layer
  // big enough for oneDNN's Winograd kernel, with some outputs exactly at the relu's kink
  // excluded by construction (random inputs).
  std::vector<Tensor> a{in({2, 32, 10, 10}, 34, true, kFloat32), in({32, 32, 3, 3}, 35, true, kFloat32),
                        in({32}, 36, true, kFloat32)};
  std::vector<Tensor> b;
  for (const Tensor& t : a) b.push_back(t.clone().set_requires_grad());
  Tensor r = testing::random_tensor({2, 32, 10, 10}, kFloat32, 37);
  Tensor fused = conv2d_relu(a[0], a[1], a[2], o);
  Tensor plain = relu(conv2d(b[0], b[1], b[2], o));
  REQUIRE_ALLCLOSE(fused, plain, 0.0, 0.0);
  REQUIRE(fused.grad_fn()->name() == "conv2d_relu");
  sum(mul(fused, r)).backward();
  sum(mul(plain, r)).backward();
  for (std::size_t i = 0; i < a.size(); ++i) {
    INFO("input " << i);
    REQUIRE_ALLCLOSE(a[i].grad(), b[i].grad(), 0.0, 0.0);
  }
}
