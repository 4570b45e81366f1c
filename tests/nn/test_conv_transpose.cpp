// nn::ConvTranspose2d: PyTorch's parameter names, layout and initialisation bounds, state dict,
// repr, and a forward equal to the functional conv_transpose2d.
#include "nn/linear.h"

#include <algorithm>
#include <cmath>

#include "autograd/ops/reduce.h"
#include "support/helpers.h"

using namespace retort;
using namespace retort::nn;

TEST_CASE("ConvTranspose2d has PyTorch's parameters, state dict and repr") {
  ConvTranspose2d up(4, 6, 3, 2, 1, 1, 2);
  REQUIRE(up.weight.sizes() == Shape{4, 3, 3, 3});  // [C_in, C_out/groups, KH, KW]
  REQUIRE(up.bias.sizes() == Shape{6});
  auto sd = up.state_dict();
  REQUIRE(sd.size() == 2);
  REQUIRE(sd[0].first == "weight");
  REQUIRE(sd[1].first == "bias");
  REQUIRE(sd[0].second.same(up.weight));
  REQUIRE(up.repr() ==
          "ConvTranspose2d(4, 6, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), "
          "output_padding=(1, 1), groups=2)");
  ConvTranspose2d plain(4, 6, std::array<std::int64_t, 2>{3, 2}, {}, false);
  REQUIRE(plain.named_parameters().size() == 1);
  REQUIRE(plain.repr() == "ConvTranspose2d(4, 6, kernel_size=(3, 2), stride=(1, 1), bias=False)");
  ConvTranspose2d dil(2, 2, 3, 1, 0, 0, 1, true, 2);
  REQUIRE(dil.repr() == "ConvTranspose2d(2, 2, kernel_size=(3, 3), stride=(1, 1), dilation=(2, 2))");

  REQUIRE_THROWS_WITH(ConvTranspose2d(3, 4, 3, 1, 0, 0, 2), Catch::Contains("groups"));
  REQUIRE_THROWS_WITH(ConvTranspose2d(3, 4, 3, 2, 0, 2),
                      Catch::Contains("output_padding 2 must be smaller than stride 2"));
  REQUIRE_THROWS_WITH(up(zeros({1, 3, 5, 5})),
                      Catch::Contains("ConvTranspose2d: input [1,3,5,5] and weight [4,3,3,3]"));
}

TEST_CASE("ConvTranspose2d initialises with fan_in from the weight's dim 1, as PyTorch") {
  // fan_in = C_out/groups·KH·KW = 2 here (C_in = 64 would give 64): bound 1/√2 for both.
  ConvTranspose2d up(64, 2, 1);
  const double bound = 1.0 / std::sqrt(2.0);
  for (const Tensor& t : {up.weight, up.bias}) {
    auto v = t.to(kFloat64).to_vector<double>();
    double m = 0;
    for (double e : v) m = std::max(m, std::abs(e));
    REQUIRE(m <= bound);
    if (t.numel() > 32) REQUIRE(m > 0.6 * bound);  // 128 draws: the largest is near the bound
  }
  ConvTranspose2d f64(2, 3, 2, 1, 0, 0, 1, true, 1, TensorOptions{kFloat64, kCPU});
  REQUIRE(f64.weight.dtype() == kFloat64);
  REQUIRE(f64.bias.dtype() == kFloat64);
}

TEST_CASE("ConvTranspose2d forward is the functional op and doubles H, W at k4 s2 p1") {
  ConvTranspose2d up(3, 5, std::array<std::int64_t, 2>{4, 4},
                     ConvTranspose2dOptions{{2, 2}, {1, 1}, {0, 0}, {1, 1}, 1}, true,
                     TensorOptions{kFloat64, kCPU});
  Tensor x = testing::random_tensor({2, 3, 4, 5}, kFloat64, 7);
  Tensor y = up(x);
  REQUIRE(y.sizes() == Shape{2, 5, 8, 10});
  REQUIRE_ALLCLOSE(y, conv_transpose2d(x, up.weight, up.bias, up.options), 0, 0);
  auto fn = [&](const std::vector<Tensor>& in) { return up(in[0]); };
  Tensor xg = testing::random_tensor({1, 3, 3, 3}, kFloat64, 8);
  xg.set_requires_grad(true);
  REQUIRE_GRADCHECK(fn, std::vector<Tensor>{xg});
  // The parameters receive gradients through the module.
  sum(up(x)).backward();
  REQUIRE(up.weight.grad().defined());
  REQUIRE(up.bias.grad().defined());
}
