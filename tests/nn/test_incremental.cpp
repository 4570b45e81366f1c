// grow_linear (nn/incremental.h): old rows and old outputs unchanged, new rows within Linear's
// init bound, parameter identity kept, gradients only where the loss reads, a grown seed net.
#include "nn/incremental.h"

#include <catch2/catch.hpp>

#include <cmath>

#include "autograd/ops/reduce.h"
#include "autograd/ops/shape.h"
#include "nn/models.h"
#include "support/helpers.h"
#include "tensor/views.h"

using namespace retort;

TEST_CASE("grow_linear keeps the old classes' rows and outputs", "[nn]") {
  manual_seed(1);
  nn::Linear fc(4, 2);
  Tensor x = testing::random_tensor({3, 4}, kFloat32, 5);
  Tensor before = fc(x).clone();
  Tensor w0 = fc.weight.clone(), b0 = fc.bias.clone();
  auto impl = fc.weight.impl();
  Generator g(9);
  nn::grow_linear(fc, 3, &g);
  CHECK(fc.out_features == 5);
  REQUIRE(fc.weight.sizes() == Shape{5, 4});
  REQUIRE(fc.bias.sizes() == Shape{5});
  CHECK(fc.weight.impl() == impl);  // the same parameter, new data
  CHECK(fc.named_parameters()[0].second.impl() == impl);
  REQUIRE_ALLCLOSE(ops::narrow(fc.weight, 0, 0, 2).contiguous(), w0, 0, 0);
  REQUIRE_ALLCLOSE(ops::narrow(fc.bias, 0, 0, 2).contiguous(), b0, 0, 0);
  Tensor after = fc(x).clone();
  REQUIRE(after.sizes() == Shape{3, 5});
  REQUIRE_ALLCLOSE(ops::narrow(after, 1, 0, 2).contiguous(), before, 0, 0);
  const double bound = 1.0 / std::sqrt(4.0);
  for (double v : ops::narrow(fc.weight, 0, 2, 3).contiguous().to_vector<double>()) CHECK(std::abs(v) <= bound);
  // The new rows are the generator's draws: another grow from the same seed gives the same rows.
  nn::Linear fc2(4, 2);
  Generator g2(9);
  nn::grow_linear(fc2, 3, &g2);
  REQUIRE_ALLCLOSE(ops::narrow(fc2.weight, 0, 2, 3).contiguous(), ops::narrow(fc.weight, 0, 2, 3).contiguous(), 0, 0);
  CHECK(fc.weight.requires_grad());
  CHECK_THROWS_WITH(nn::grow_linear(fc, 0), Catch::Contains("grow_linear: k must be >= 1"));
}

TEST_CASE("a grown head's gradients reach only the rows the loss reads", "[nn]") {
  manual_seed(2);
  nn::Linear fc(3, 2);
  Tensor x = testing::random_tensor({4, 3}, kFloat32, 6);
  sum(fc(x)).backward();  // a gradient of the old shape, cleared by the growth
  nn::grow_linear(fc, 2);
  CHECK_FALSE(fc.weight.grad().defined());
  sum(narrow(fc(x), 1, 2, 2)).backward();  // the new classes only
  Tensor gw = fc.weight.grad(), gb = fc.bias.grad();
  REQUIRE(gw.sizes() == Shape{4, 3});
  CHECK(testing::max_abs_diff(ops::narrow(gw, 0, 0, 2).contiguous(), zeros({2, 3})) == 0);
  CHECK(testing::max_abs_diff(ops::narrow(gw, 0, 2, 2).contiguous(), zeros({2, 3})) > 0);
  CHECK(gb.to_vector<float>() == std::vector<float>{0, 0, 4, 4});
}

TEST_CASE("a seed net's head grows class by class", "[nn]") {
  manual_seed(3);
  nn::StudentNet net(3, 2);
  net.eval();
  Tensor x = testing::random_tensor({2, 3, 32, 32}, kFloat32, 7);
  Tensor before = net(x).clone();
  auto fc = net.classifier->at<nn::Linear>(3);
  nn::grow_linear(*fc, 2);
  nn::grow_linear(*fc, 2);
  Tensor after = net(x).clone();
  REQUIRE(after.sizes() == Shape{2, 6});
  REQUIRE_ALLCLOSE(ops::narrow(after, 1, 0, 2).contiguous(), before, 0, 0);
  CHECK(net.state_dict().back().first == "classifier.3.bias");
  CHECK(net.state_dict().back().second.sizes() == Shape{6});
  CHECK(net.num_parameters() == nn::StudentNet(3, 6).num_parameters());
}
