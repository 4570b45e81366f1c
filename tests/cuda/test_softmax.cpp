// [cuda] softmax and log_softmax on cuDNN against the float64 cpu reference: every dim of a 3-D
// tensor, a wide last dim, batch 1, a transposed input, inputs large enough to overflow a naive
// exp; values and gradients through autograd in float32 and float64. Plus mixed-device errors.
#include <catch2/catch.hpp>
#include <cmath>

#include "autograd/ops/elementwise.h"
#include "autograd/ops/nn_ops.h"
#include "autograd/ops/shape.h"
#include "cuda/compare.h"
#include "tensor/softmax.h"

using namespace retort;
using retort::testing::compare_with_cpu;
using retort::testing::kCuda;
using retort::testing::random_tensor;
using retort::testing::Tol;

TEST_CASE("cuDNN softmax and log_softmax match the cpu, values and gradients", "[cuda]") {
  RETORT_REQUIRE_GPU();
  struct Case {
    const char* name;
    Shape x;
    std::int64_t dim;
    bool transposed = false;  // x stored with its last two dims swapped, then transposed back
    double scale = 1.0;
  };
  const std::vector<Case> cases = {
      {"3-D over dim 0", {4, 7, 5}, 0},
      {"3-D over dim 1", {4, 7, 5}, 1},
      {"3-D over the last dim", {4, 7, 5}, -1},
      {"wide rows", {3, 1000}, 1},
      {"batch 1", {1, 3}, 1},
      {"1-D", {9}, 0},
      {"transposed input", {6, 5}, 1, true},
      {"large logits", {5, 11}, 1, false, 60.0},
  };
  for (DType dt : {kFloat32, kFloat64}) {
    for (bool log : {false, true}) {
      for (const Case& c : cases) {
        INFO(c.name << (log ? " log_softmax " : " softmax ") << dtype_name(dt));
        const std::int64_t dim = c.dim;
        const bool tr = c.transposed;
        auto fn = [dim, tr, log](const std::vector<Tensor>& v) {
          Tensor x = tr ? transpose(v[0], 0, 1) : v[0];
          return log ? log_softmax(x, dim) : softmax(x, dim);
        };
        Shape stored = c.x;
        if (tr) std::swap(stored[0], stored[1]);
        // log_softmax of large logits reaches −hundreds: relative tolerance matters there.
        compare_with_cpu(fn, {random_tensor(stored, kFloat64, 1, c.scale)}, dt, Tol{2e-6, 1e-5},
                         Tol{2e-6, 1e-5});
      }
    }
  }
}

TEST_CASE("cuDNN log_softmax stays finite where softmax underflows", "[cuda]") {
  RETORT_REQUIRE_GPU();
  Tensor x = from_vector(std::vector<double>{0.0, -200.0, 200.0}, {1, 3}, kFloat32).to(kCuda);
  auto v = ops::log_softmax(x, 1).to(kCPU).to_vector<double>();
  for (double e : v) REQUIRE(std::isfinite(e));
  REQUIRE(v[2] == Approx(0.0).margin(1e-6));
  REQUIRE(v[1] == Approx(-400.0).epsilon(1e-6));
}

TEST_CASE("softmax backward rejects a gradient on another device naming both", "[cuda]") {
  RETORT_REQUIRE_GPU();
  using Catch::Matchers::Contains;
  Tensor y = ops::softmax(random_tensor({2, 5}, kFloat32, 2).to(kCuda), 1);
  REQUIRE_THROWS_WITH(
      ops::softmax_backward(random_tensor({2, 5}, kFloat32, 3), y, 1),
      Contains("softmax_backward") && Contains("[2,5]") && Contains("cpu") && Contains("cuda:0"));
}
