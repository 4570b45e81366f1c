// conv_transpose2d: float64 gradchecks over its options, values and gradients against PyTorch 1.13
// (tests/fixtures/conv/conv_transpose.txt), float32 against float64, and its shape errors.
#include "autograd/ops/nn_ops.h"
#include "support/helpers.h"
#include "tensor/conv_fixture.h"

using namespace retort;
using Catch::Contains;

namespace {
Tensor in(const Shape& s, std::uint64_t seed, bool grad = true, DType dt = kFloat64) {
  Tensor t = testing::random_tensor(s, dt, seed);
  t.set_requires_grad(grad);
  return t;
}
using V = const std::vector<Tensor>&;

ConvTranspose2dOptions opts(std::array<std::int64_t, 2> s, std::array<std::int64_t, 2> p,
                            std::array<std::int64_t, 2> op = {0, 0},
                            std::array<std::int64_t, 2> d = {1, 1}, std::int64_t g = 1) {
  ConvTranspose2dOptions o;
  o.stride = s;
  o.padding = p;
  o.output_padding = op;
  o.dilation = d;
  o.groups = g;
  return o;
}
}  // namespace

TEST_CASE("conv_transpose2d passes gradcheck for every option",
          "[autograd][gradcheck][conv_transpose]") {
  struct Case {
    const char* what;
    Shape x, w;
    bool bias;
    ConvTranspose2dOptions o;
  };
  const Case cases[] = {
      {"stride 1, bias", {2, 3, 4, 5}, {3, 2, 3, 3}, true, opts({1, 1}, {0, 0})},
      {"stride 2, padding 1, kernel 4 (ConvReg)", {1, 2, 3, 3}, {2, 3, 4, 4}, true,
       opts({2, 2}, {1, 1})},
      {"stride 3, output_padding 2, no bias", {1, 2, 3, 2}, {2, 2, 2, 3}, false,
       opts({3, 3}, {1, 0}, {2, 1})},
      {"dilation 2, padding 2", {1, 2, 4, 4}, {2, 2, 3, 3}, true,
       opts({1, 1}, {2, 2}, {0, 0}, {2, 2})},
      {"padding beyond d·(K − 1) (cropping), output_padding", {1, 2, 4, 3}, {2, 2, 2, 1}, true,
       opts({3, 2}, {2, 1}, {1, 1})},
      {"groups 2, asymmetric stride and kernel", {2, 4, 3, 4}, {4, 3, 2, 3}, true,
       opts({2, 1}, {0, 1}, {1, 0}, {1, 1}, 2)},
      {"groups 2, no bias, stride 2, dilation 2", {1, 4, 3, 3}, {4, 1, 3, 2}, false,
       opts({2, 2}, {1, 1}, {1, 1}, {2, 2}, 2)},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    const std::int64_t c_out = c.w[1] * c.o.groups;
    std::vector<Tensor> v{in(c.x, 1), in(c.w, 2), c.bias ? in({c_out}, 3) : Tensor()};
    const ConvTranspose2dOptions o = c.o;
    REQUIRE_GRADCHECK([o](V t) { return conv_transpose2d(t[0], t[1], t[2], o); }, v);
  }
}

TEST_CASE("conv_transpose2d matches PyTorch's values and gradients", "[autograd][conv_transpose]") {
  using namespace testing;
  struct Case {
    const char* name;
    Shape x, w;
    bool bias;
    ConvTranspose2dOptions o;
  };
  const Case cases[] = {
      {"ct_basic", {2, 3, 4, 5}, {3, 4, 3, 3}, true, opts({1, 1}, {0, 0})},
      {"ct_k4s2p1", {1, 4, 3, 4}, {4, 2, 4, 4}, true, opts({2, 2}, {1, 1})},
      {"ct_options", {1, 4, 3, 5}, {4, 3, 3, 2}, false, opts({3, 2}, {1, 0}, {2, 1}, {1, 1}, 2)},
      {"ct_dilation", {2, 2, 4, 4}, {2, 3, 3, 3}, true, opts({2, 2}, {2, 2}, {1, 1}, {2, 2})},
      {"ct_crop", {1, 2, 4, 3}, {2, 2, 2, 1}, true, opts({3, 2}, {2, 1}, {1, 1})},
  };
  const std::string file = "conv_transpose.txt";
  for (DType dt : {kFloat64, kFloat32}) {
    const double tol = dt == kFloat64 ? 1e-10 : 1e-4;
    for (const auto& c : cases) {
      INFO(c.name << (dt == kFloat64 ? " float64" : " float32"));
      const std::int64_t c_out = c.w[1] * c.o.groups;
      Tensor x = fixture_x(c.x, dt), w = fixture_w(c.w, dt);
      Tensor b = c.bias ? fixture_b(c_out, dt) : Tensor();
      x.set_requires_grad(true);
      w.set_requires_grad(true);
      if (c.bias) b.set_requires_grad(true);
      Tensor y = conv_transpose2d(x, w, b, c.o);
      REQUIRE_ALLCLOSE(y, fixture_values(c.name, "y", y.sizes(), file), tol, tol);
      y.backward(fixture_gy(y.sizes(), dt));
      REQUIRE_ALLCLOSE(x.grad(), fixture_values(c.name, "gx", c.x, file), tol, tol);
      REQUIRE_ALLCLOSE(w.grad(), fixture_values(c.name, "gw", c.w, file), 10 * tol, tol);
      if (c.bias) REQUIRE_ALLCLOSE(b.grad(), fixture_values(c.name, "gb", {c_out}, file), 10 * tol, tol);
    }
  }
}

TEST_CASE("conv_transpose2d output size follows PyTorch's formula", "[autograd][conv_transpose]") {
  // H' = (H − 1)·s − 2p + d·(K − 1) + output_padding + 1: ConvReg's k4 s2 p1 doubles the map.
  Tensor x = in({2, 8, 4, 4}, 1, false, kFloat32), w = in({8, 16, 4, 4}, 2, false, kFloat32);
  REQUIRE(conv_transpose2d(x, w, Tensor(), opts({2, 2}, {1, 1})).sizes() == Shape{2, 16, 8, 8});
  Tensor w3 = in({8, 5, 3, 3}, 3, false, kFloat32);
  REQUIRE(conv_transpose2d(x, w3, Tensor(), opts({3, 2}, {0, 4}, {2, 1}, {1, 3})).sizes() ==
          Shape{2, 5, 14, 6});
}

TEST_CASE("conv_transpose2d rejects bad shapes and options naming both shapes",
          "[autograd][conv_transpose]") {
  Tensor x = in({1, 4, 3, 3}, 1, false), w = in({4, 2, 3, 3}, 2, false);
  auto call = [](const Tensor& a, const Tensor& b, const Tensor& bias, ConvTranspose2dOptions o) {
    return conv_transpose2d(a, b, bias, o);
  };
  REQUIRE_THROWS_WITH(call(x, in({3, 2, 3, 3}, 2, false), Tensor(), {}),
                      Contains("conv_transpose2d: input [1,4,3,3] and weight [3,2,3,3]") &&
                          Contains("C_in"));
  REQUIRE_THROWS_WITH(call(x, w, Tensor(), opts({1, 1}, {0, 0}, {0, 0}, {1, 1}, 3)),
                      Contains("weight [4,2,3,3]") && Contains("groups=3"));
  REQUIRE_THROWS_WITH(call(x, w, in({3}, 3, false), opts({1, 1}, {0, 0}, {0, 0}, {1, 1}, 2)),
                      Contains("bias [3] must be [4]"));
  REQUIRE_THROWS_WITH(call(in({1, 4, 3}, 1, false), w, Tensor(), {}),
                      Contains("input [1,4,3] and weight [4,2,3,3]"));
  REQUIRE_THROWS_WITH(call(x, w, Tensor(), opts({2, 2}, {0, 0}, {2, 0})),
                      Contains("output_padding 2 must be smaller than stride 2 or dilation 1"));
  REQUIRE_THROWS_WITH(call(x, w, Tensor(), opts({1, 1}, {3, 0})),
                      Contains("input [1,4,3,3] and weight [4,2,3,3]: output height -1"));
  REQUIRE_THROWS_WITH(call(x, w, Tensor(), opts({0, 1}, {0, 0})),
                      Contains("stride and dilation must be positive"));
}
