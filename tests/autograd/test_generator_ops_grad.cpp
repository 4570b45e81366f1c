// leaky_relu and upsample_nearest2d (the generator ops): values against plain loops written from
// PyTorch's definitions, float64 gradchecks, exact gradients, float32 on the fast paths, and the
// nn modules over them (LeakyReLU, Tanh, Upsample) with PyTorch's printed form.
#include <cmath>

#include "autograd/ops/elementwise.h"
#include "autograd/ops/reduce.h"
#include "autograd/ops/upsample.h"
#include "nn/generator_layers.h"
#include "support/helpers.h"

using namespace retort;
using Catch::Contains;
using V = const std::vector<Tensor>&;

TEST_CASE("leaky_relu: values, PyTorch's gradient mask and gradcheck", "[autograd][gradcheck][leaky_relu]") {
  Tensor x = from_vector(std::vector<double>{-2.0, -0.5, 0.0, 0.25, 3.0}, {5}, kFloat64);
  x.set_requires_grad(true);
  Tensor y = leaky_relu(x, 0.2);
  REQUIRE(y.to_vector<double>() == std::vector<double>{-0.4, -0.1, 0.0, 0.25, 3.0});
  sum(y).backward();
  // PyTorch's backward is g where x > 0, else g·slope: slope at exactly 0.
  REQUIRE(x.grad().to_vector<double>() == std::vector<double>{0.2, 0.2, 0.2, 1.0, 1.0});
  for (double slope : {0.01, 0.2, 1.5}) {
    INFO("slope " << slope);
    REQUIRE_GRADCHECK([slope](V t) { return leaky_relu(t[0], slope); },
                      std::vector<Tensor>{testing::grad_leaf({2, 3, 4}, 7)});
  }
  Tensor f = testing::random_tensor({64, 33}, kFloat32, 3);
  std::vector<float> v = f.to_vector<float>(), r = leaky_relu(f, 0.2).to_vector<float>();
  for (std::size_t i = 0; i < v.size(); ++i) REQUIRE(r[i] == (v[i] > 0 ? v[i] : v[i] * 0.2f));
}

TEST_CASE("upsample_nearest2d copies each pixel into an sh x sw block", "[autograd][upsample]") {
  const std::int64_t N = 2, C = 3, H = 3, W = 4;
  Tensor x = testing::random_tensor({N, C, H, W}, kFloat64, 11);
  for (auto s : {std::array<std::int64_t, 2>{2, 2}, {1, 3}, {3, 2}}) {
    Tensor y = upsample_nearest2d(x, s);
    REQUIRE(y.sizes() == Shape{N, C, H * s[0], W * s[1]});
    std::vector<double> xv = x.to_vector<double>(), yv = y.to_vector<double>();
    for (std::int64_t n = 0; n < N; ++n)
      for (std::int64_t c = 0; c < C; ++c)
        for (std::int64_t h = 0; h < H * s[0]; ++h)
          for (std::int64_t w = 0; w < W * s[1]; ++w)
            REQUIRE(yv[((n * C + c) * H * s[0] + h) * W * s[1] + w] ==
                    xv[((n * C + c) * H + h / s[0]) * W + w / s[1]]);
  }
}

TEST_CASE("upsample_nearest2d: gradcheck and the block-sum gradient", "[autograd][gradcheck][upsample]") {
  for (auto s : {std::array<std::int64_t, 2>{2, 2}, {1, 3}, {3, 2}}) {
    REQUIRE_GRADCHECK([s](V t) { return upsample_nearest2d(t[0], s); },
                      std::vector<Tensor>{testing::grad_leaf({1, 2, 3, 2}, 5)});
  }
  // d/dx Σ y·g = the sum of g over each block: with g = 1 every input gets sh·sw.
  Tensor x = testing::grad_leaf({1, 1, 2, 2}, 9);
  Tensor g = testing::random_tensor({1, 1, 4, 6}, kFloat64, 10);
  sum(upsample_nearest2d(x, {2, 3}) * g).backward();
  std::vector<double> gv = g.to_vector<double>(), xg = x.grad().to_vector<double>();
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j) {
      double want = 0;
      for (int a = 0; a < 2; ++a)
        for (int b = 0; b < 3; ++b) want += gv[(i * 2 + a) * 6 + j * 3 + b];
      REQUIRE(std::abs(xg[i * 2 + j] - want) < 1e-12);
    }
}

TEST_CASE("upsample_nearest2d refuses bad shapes and factors", "[autograd][upsample]") {
  REQUIRE_THROWS_WITH(upsample_nearest2d(zeros({2, 3, 4}), 2), Contains("upsample_nearest2d") && Contains("[N, C, H, W]"));
  REQUIRE_THROWS_WITH(upsample_nearest2d(zeros({1, 1, 2, 2}), {0, 2}), Contains("scale factors must be >= 1"));
  REQUIRE_THROWS_WITH(nn::Upsample(0), Contains("Upsample"));
}

TEST_CASE("LeakyReLU, Tanh and Upsample modules", "[nn][generator_layers]") {
  Tensor x = testing::random_tensor({2, 3, 4, 4}, kFloat32, 1);
  nn::LeakyReLU lr(0.2);
  REQUIRE_ALLCLOSE(lr(x), leaky_relu(x, 0.2), 0, 0);
  REQUIRE(lr.extra_repr() == "negative_slope=0.2");
  nn::Tanh th;
  REQUIRE_ALLCLOSE(th(x), tanh(x), 0, 0);
  nn::Upsample up(2);
  REQUIRE(up(x).sizes() == Shape{2, 3, 8, 8});
  REQUIRE(up.extra_repr() == "scale_factor=2.0, mode=nearest");
  REQUIRE(nn::Upsample({1, 2}).extra_repr() == "scale_factor=(1.0, 2.0), mode=nearest");
  REQUIRE(lr.parameters().empty());
}
