// count_macs: the conv, transposed-conv and linear formulas, groups, strides, and the model's mode restored.
#include <catch2/catch.hpp>

#include "nn/basic.h"
#include "nn/linear.h"
#include "nn/macs.h"
#include "nn/models.h"
#include "nn/zoo.h"

using namespace retort;
using namespace retort::nn;

TEST_CASE("count_macs of the seed TeacherNet equals the hand count") {
  TeacherNet t;
  // conv 3→128 and 128→64 at 32², conv 64→64 and 64→32 at 16², linear 2048→512 and 512→10.
  const std::int64_t want = 1024 * 128 * 27 + 1024 * 64 * 1152 + 256 * 64 * 576 + 256 * 32 * 576 +
                            2048 * 512 + 512 * 10;
  REQUIRE(count_macs(t, {3, 32, 32}) == want);
  REQUIRE(want == 94245888);
  REQUIRE(t.is_training());
}

TEST_CASE("count_macs counts grouped and strided convolutions per output") {
  auto net = make_sequential(std::make_shared<Conv2d>(4, 8, 3, 1, 1, 1, 2),      // groups 2, 5×5 out
                             std::make_shared<Conv2d>(8, 8, 3, 2, 1, 1, 8));     // depthwise, 3×3 out
  // 8·25 outputs × (4/2)·9, then 8·9 outputs × 1·9.
  REQUIRE(count_macs(*net, {4, 5, 5}) == 8 * 25 * 18 + 8 * 9 * 9);
  net->eval();
  count_macs(*net, {4, 5, 5});
  REQUIRE(!net->is_training());
}

TEST_CASE("count_macs counts a transposed convolution per input pixel") {
  // 6·4·4 input pixels, each against (8/2)·4·4 weights of its group (groups 2, k4 s2 p1: 8×8 out).
  auto net = make_sequential(std::make_shared<ConvTranspose2d>(6, 8, 4, 2, 1, 0, 2));
  REQUIRE(count_macs(*net, {6, 4, 4}) == 6 * 16 * 4 * 16);
}

TEST_CASE("count_macs of zoo networks: the published CIFAR figures") {
  // resnet56 ≈ 125.75M and resnet32x4 ≈ 1.08G MACs per image, as the KD papers' tables list them.
  REQUIRE(count_macs(*create_model("resnet56"), {3, 32, 32}) == 125753600);
  REQUIRE(count_macs(*create_model("resnet32x4"), {3, 32, 32}) == 1083040768);
  REQUIRE_THROWS_WITH(count_macs(*create_model("resnet8"), {3, 32}),
                      Catch::Contains("count_macs: input shape must be [C, H, W]"));
}
