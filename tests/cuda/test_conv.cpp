// [cuda] conv2d on cuDNN against the float64 cpu reference: stride, padding, groups (depthwise
// too), dilation, 1×1 and 7×7 kernels, batch 1, odd channel counts, a channels-last input; values
// and the gradients of input, weight and bias through autograd, float32 (TF32 off) and float64.
// Plus the cached algorithm giving the same forward again, empty batches, and mixed-device errors.
#include <catch2/catch.hpp>

#include "autograd/ops/nn_ops.h"
#include "autograd/ops/shape.h"
#include "cuda/compare.h"
#include "tensor/conv.h"

using namespace retort;
using retort::testing::compare_with_cpu;
using retort::testing::kCuda;
using retort::testing::random_tensor;
using retort::testing::Tol;

namespace {

struct ConvCase {
  const char* name;
  Shape x, w;
  bool bias;
  Conv2dOptions opt;
  bool channels_last = false;  // x stored [N, H, W, C] and permuted to NCHW
};

}  // namespace

TEST_CASE("cuDNN conv2d matches the cpu, values and gradients", "[cuda]") {
  RETORT_REQUIRE_GPU();
  REQUIRE_FALSE(cuda::allow_tf32());
  const std::vector<ConvCase> cases = {
      {"3x3 pad 1", {2, 3, 9, 9}, {4, 3, 3, 3}, true, {{1, 1}, {1, 1}, {1, 1}, 1}},
      {"batch 1, odd channels, stride 2", {1, 5, 7, 8}, {3, 5, 3, 3}, true, {{2, 2}, {1, 1}, {1, 1}, 1}},
      {"groups 3", {2, 6, 8, 8}, {9, 2, 3, 3}, true, {{1, 1}, {1, 1}, {1, 1}, 3}},
      {"depthwise", {2, 4, 7, 7}, {4, 1, 3, 3}, false, {{1, 1}, {1, 1}, {1, 1}, 4}},
      {"dilation 2", {2, 3, 11, 10}, {5, 3, 3, 3}, true, {{1, 1}, {2, 2}, {2, 2}, 1}},
      {"1x1", {3, 8, 5, 5}, {6, 8, 1, 1}, false, {}},
      {"7x7 stride 2 pad 3", {2, 3, 16, 16}, {8, 3, 7, 7}, true, {{2, 2}, {3, 3}, {1, 1}, 1}},
      {"asymmetric 3x5", {2, 3, 9, 11}, {4, 3, 3, 5}, true, {{2, 1}, {0, 2}, {1, 2}, 1}},
      {"channels-last input", {2, 5, 6, 7}, {4, 5, 3, 3}, true, {{1, 1}, {1, 1}, {1, 1}, 1}, true},
  };
  for (DType dt : {kFloat32, kFloat64}) {
    for (const ConvCase& c : cases) {
      INFO(c.name << " " << dtype_name(dt));
      const Conv2dOptions opt = c.opt;
      const bool bias = c.bias, nhwc = c.channels_last;
      auto fn = [opt, bias, nhwc](const std::vector<Tensor>& v) {
        Tensor x = nhwc ? permute(v[0], {0, 3, 1, 2}) : v[0];
        return conv2d(x, v[1], bias ? v[2] : Tensor(), opt);
      };
      const Shape xs = nhwc ? Shape{c.x[0], c.x[2], c.x[3], c.x[1]} : c.x;
      std::vector<Tensor> in = {random_tensor(xs, kFloat64, 1), random_tensor(c.w, kFloat64, 2, 0.3)};
      if (bias) in.push_back(random_tensor({c.w[0]}, kFloat64, 3));
      // Forward and input gradients sum up to 147 products, the weight and bias gradients up to
      // 220. The margins also admit the Winograd and FFT algorithms cuDNN may pick (errors of
      // ~1e-4 of the largest value); a wiring mistake is off by O(1).
      compare_with_cpu(fn, in, dt, Tol{5e-4, 5e-4}, Tol{2e-3, 1e-3});
    }
  }
}

TEST_CASE("cuDNN conv2d: the cached algorithm repeats the forward exactly", "[cuda]") {
  RETORT_REQUIRE_GPU();
  Tensor x = random_tensor({4, 16, 12, 12}, kFloat32, 4).to(kCuda);
  Tensor w = random_tensor({32, 16, 3, 3}, kFloat32, 5, 0.2).to(kCuda);
  ops::Conv2dParams p;
  p.padding = {1, 1};
  Tensor y1 = ops::conv2d_forward(x, w, Tensor(), p);
  Tensor y2 = ops::conv2d_forward(x, w, Tensor(), p);
  REQUIRE_ALLCLOSE(y1.to(kCPU), y2.to(kCPU), 0, 0);
}

TEST_CASE("cuDNN conv2d with an empty batch", "[cuda]") {
  RETORT_REQUIRE_GPU();
  Tensor x = empty({0, 3, 5, 5}, kFloat32, kCuda), w = random_tensor({4, 3, 3, 3}, kFloat32, 6).to(kCuda);
  ops::Conv2dParams p;
  Tensor y = ops::conv2d_forward(x, w, Tensor(), p);
  REQUIRE(y.sizes() == Shape({0, 4, 3, 3}));
  auto g = ops::conv2d_backward(y, x, w, {true, true, true}, p);
  REQUIRE(g.input.sizes() == x.sizes());
  REQUIRE_ALLCLOSE(g.weight.to(kCPU), zeros({4, 3, 3, 3}), 0, 0);
  REQUIRE_ALLCLOSE(g.bias.to(kCPU), zeros({4}), 0, 0);
}

TEST_CASE("conv2d rejects mixed cpu and cuda operands naming both", "[cuda]") {
  RETORT_REQUIRE_GPU();
  using Catch::Matchers::Contains;
  Tensor x = random_tensor({1, 2, 5, 5}, kFloat32, 7), w = random_tensor({3, 2, 3, 3}, kFloat32, 8);
  ops::Conv2dParams p;
  REQUIRE_THROWS_WITH(ops::conv2d_forward(x, w.to(kCuda), Tensor(), p),
                      Contains("conv2d") && Contains("[1,2,5,5]") && Contains("[3,2,3,3]") &&
                          Contains("cpu") && Contains("cuda:0"));
  REQUIRE_THROWS_WITH(ops::conv2d_forward(x.to(kCuda), w.to(kCuda), zeros({3}), p),
                      Contains("conv2d") && Contains("bias") && Contains("cpu"));
  Tensor y = ops::conv2d_forward(x.to(kCuda), w.to(kCuda), Tensor(), p);
  REQUIRE_THROWS_WITH(ops::conv2d_backward(y.to(kCPU), x.to(kCuda), w.to(kCuda), {}, p),
                      Contains("conv2d_backward") && Contains("cpu") && Contains("cuda:0"));
}
