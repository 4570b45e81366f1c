// [cuda] Pooling against the float64 cpu reference: max (cuDNN, padding never wins), average with
// and without count_include_pad (cuDNN), adaptive average with windows of unequal size (own
// kernel) and with even windows (cuDNN); batch 1, odd channel counts, non-square kernels and
// strides, a strided input; values and gradients through autograd in float32 and float64. Plus
// mixed-device errors.
#include <array>
#include <catch2/catch.hpp>

#include "autograd/ops/nn_ops.h"
#include "autograd/ops/shape.h"
#include "cuda/compare.h"
#include "tensor/pool.h"

using namespace retort;
using retort::testing::compare_with_cpu;
using retort::testing::kCuda;
using retort::testing::random_tensor;
using retort::testing::Tol;

namespace {

using A2 = std::array<std::int64_t, 2>;

struct PoolCase {
  const char* name;
  Shape x;
  A2 kernel, stride, padding;
};

const std::vector<PoolCase>& pool_cases() {
  static const std::vector<PoolCase> cases = {
      {"3x3 stride 2 pad 1", {2, 3, 9, 9}, {3, 3}, {2, 2}, {1, 1}},
      {"2x2 stride 2", {2, 4, 8, 6}, {2, 2}, {2, 2}, {0, 0}},
      {"batch 1, odd channels, stride 1 pad 1", {1, 5, 7, 6}, {3, 3}, {1, 1}, {1, 1}},
      {"3x2 stride 2x1 pad 1x0", {2, 3, 10, 7}, {3, 2}, {2, 1}, {1, 0}},
      {"whole image", {3, 2, 5, 5}, {5, 5}, {1, 1}, {0, 0}},
  };
  return cases;
}

// Every other column of a wider tensor: no unit stride, so the cuda path packs it first.
Tensor strided(const Tensor& wide) { return slice(wide, 3, 0, wide.size(3), 2); }

}  // namespace

TEST_CASE("cuDNN max_pool2d matches the cpu, values and gradients", "[cuda]") {
  RETORT_REQUIRE_GPU();
  for (DType dt : {kFloat32, kFloat64}) {
    for (const PoolCase& c : pool_cases()) {
      INFO(c.name << " " << dtype_name(dt));
      auto fn = [c](const std::vector<Tensor>& v) { return max_pool2d(v[0], c.kernel, c.stride, c.padding); };
      compare_with_cpu(fn, {random_tensor(c.x, kFloat64, 1)}, dt, Tol{1e-6, 1e-6}, Tol{1e-6, 1e-6});
    }
    INFO("strided input " << dtype_name(dt));
    compare_with_cpu(
        [](const std::vector<Tensor>& v) {
          return max_pool2d(strided(v[0]), {3, 3}, {2, 2}, {1, 1});
        },
        {random_tensor({2, 3, 9, 18}, kFloat64, 2)}, dt, Tol{1e-6, 1e-6}, Tol{1e-6, 1e-6});
  }
}

TEST_CASE("cuDNN max_pool2d ignores padding even when the whole window is negative", "[cuda]") {
  RETORT_REQUIRE_GPU();
  Tensor x = full({1, 1, 2, 2}, -3.0, kFloat32).to(kCuda);
  Tensor y = max_pool2d(x, {2, 2}, {1, 1}, {1, 1});
  REQUIRE_ALLCLOSE(y.to(kCPU), full({1, 1, 3, 3}, -3.0), 0, 0);
}

TEST_CASE("cuDNN avg_pool2d matches the cpu with and without count_include_pad", "[cuda]") {
  RETORT_REQUIRE_GPU();
  for (DType dt : {kFloat32, kFloat64}) {
    for (bool include_pad : {true, false}) {
      for (const PoolCase& c : pool_cases()) {
        INFO(c.name << " " << dtype_name(dt) << " count_include_pad " << include_pad);
        auto fn = [c, include_pad](const std::vector<Tensor>& v) {
          return avg_pool2d(v[0], c.kernel, c.stride, c.padding, include_pad);
        };
        compare_with_cpu(fn, {random_tensor(c.x, kFloat64, 3)}, dt, Tol{1e-6, 1e-5}, Tol{1e-6, 1e-5});
      }
    }
  }
}

TEST_CASE("adaptive_avg_pool2d on cuda matches the cpu for even and uneven windows", "[cuda]") {
  RETORT_REQUIRE_GPU();
  struct Case {
    const char* name;
    Shape x;
    A2 out;
  };
  const std::vector<Case> cases = {
      {"uneven 10x7 -> 3x4", {2, 3, 10, 7}, {3, 4}},
      {"even 8x8 -> 4x2 (cuDNN)", {2, 3, 8, 8}, {4, 2}},
      {"global 1x1, batch 1", {1, 5, 6, 9}, {1, 1}},
      {"upsampling 3x3 -> 5x4 (overlapping windows)", {2, 2, 3, 3}, {5, 4}},
      {"odd 7x5 -> 2x3", {3, 1, 7, 5}, {2, 3}},
  };
  for (DType dt : {kFloat32, kFloat64}) {
    for (const Case& c : cases) {
      INFO(c.name << " " << dtype_name(dt));
      const A2 out = c.out;
      compare_with_cpu([out](const std::vector<Tensor>& v) { return adaptive_avg_pool2d(v[0], out); },
                       {random_tensor(c.x, kFloat64, 4)}, dt, Tol{1e-6, 1e-5}, Tol{1e-6, 1e-5});
    }
    INFO("strided input " << dtype_name(dt));
    compare_with_cpu(
        [](const std::vector<Tensor>& v) {
          return adaptive_avg_pool2d(strided(v[0]), {3, 2});
        },
        {random_tensor({2, 3, 7, 10}, kFloat64, 5)}, dt, Tol{1e-6, 1e-5}, Tol{1e-6, 1e-5});
  }
}

TEST_CASE("pooling rejects a gradient on another device than the forward", "[cuda]") {
  RETORT_REQUIRE_GPU();
  using Catch::Matchers::Contains;
  ops::Pool2dParams p;
  p.kernel = p.stride = {2, 2};
  Tensor x = random_tensor({1, 2, 4, 4}, kFloat32, 6);
  auto cpu = ops::max_pool2d_forward(x, p);
  REQUIRE_THROWS_WITH(ops::max_pool2d_backward(cpu.output.to(kCuda), *cpu.state),
                      Contains("max_pool2d_backward") && Contains("cuda:0") && Contains("cpu"));
  auto gpu = ops::max_pool2d_forward(x.to(kCuda), p);
  REQUIRE(gpu.state->output.defined());
  REQUIRE_THROWS_WITH(ops::max_pool2d_backward(cpu.output, *gpu.state),
                      Contains("max_pool2d_backward") && Contains("cuda:0") && Contains("cpu"));
}
