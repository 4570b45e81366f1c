// nn::ChannelSlice: the inner network sees exactly the sliced channels (output equal to the
// network on the slice, unchanged when the other channels change, no gradient into them), its
// parameters under "net.", and the shape error.
#include "nn/channel_slice.h"

#include <catch2/catch.hpp>

#include "autograd/grad_mode.h"
#include "autograd/ops/reduce.h"
#include "nn/models.h"
#include "support/helpers.h"
#include "tensor/random.h"
#include "tensor/views.h"

using namespace retort;

TEST_CASE("ChannelSlice shows the network only its channels", "[nn]") {
  manual_seed(3);
  auto student = std::make_shared<nn::StudentNet>(1);
  nn::ChannelSlice view(student, 3, 1);
  view.eval();
  Tensor x = testing::random_tensor({2, 4, 32, 32}, kFloat32, 9);
  NoGradGuard ng;
  Tensor y = view(x);
  REQUIRE_ALLCLOSE(y, (*student)(ops::narrow(x, 1, 3, 1).contiguous()), 0, 0);
  // Other channels (the RGB half of a pair) changed: the same output.
  Tensor x2 = x.clone();
  ops::narrow(x2, 1, 0, 3).fill_(123.0);
  REQUIRE_ALLCLOSE(view(x2), y, 0, 0);
  CHECK(view.named_parameters().front().first == "net.features.0.weight");
  CHECK(view.num_parameters() == student->num_parameters());
  CHECK_THROWS_WITH(view(zeros({2, 3, 32, 32})), Catch::Contains("ChannelSlice: input [2,3,32,32] has too few channels"));
  CHECK_THROWS_WITH(nn::ChannelSlice(student, 0, 0), Catch::Contains("count >= 1"));
}

TEST_CASE("ChannelSlice passes gradients only to its channels", "[nn]") {
  manual_seed(4);
  auto student = std::make_shared<nn::StudentNet>(2);
  nn::ChannelSlice view(student, 1, 2);
  Tensor x = testing::random_tensor({2, 4, 32, 32}, kFloat32, 1);
  x.set_requires_grad(true);
  sum(view(x)).backward();
  Tensor g = x.grad();
  REQUIRE(g.defined());
  CHECK(testing::max_abs_diff(ops::narrow(g, 1, 0, 1).contiguous(), zeros({2, 1, 32, 32})) == 0);
  CHECK(testing::max_abs_diff(ops::narrow(g, 1, 3, 1).contiguous(), zeros({2, 1, 32, 32})) == 0);
  CHECK(testing::max_abs_diff(ops::narrow(g, 1, 1, 2).contiguous(), zeros({2, 2, 32, 32})) > 0);
}
