// [cuda] Batch normalisation on cuDNN against the float64 cpu reference: training (batch
// statistics; running mean and unbiased running variance after the step), eval (running
// statistics; the eval backward runs on an own kernel), [N, C] and [N, C, H, W] inputs, batch 1,
// odd channel counts, affine off; values and gradients of x, weight and bias through autograd in
// float32 and float64. Plus the raw op's statistics, strided or partial running statistics, and
// mixed-device errors.
#include <catch2/catch.hpp>

#include "autograd/ops/nn_ops.h"
#include "cuda/compare.h"
#include "tensor/batch_norm.h"
#include "tensor/elementwise.h"
#include "tensor/views.h"

using namespace retort;
using retort::testing::compare_with_cpu;
using retort::testing::kCuda;
using retort::testing::random_tensor;
using retort::testing::Tol;

namespace {

struct BnCase {
  const char* name;
  Shape x;
};

const std::vector<BnCase>& bn_cases() {
  static const std::vector<BnCase> cases = {
      {"NCHW", {4, 3, 5, 5}},
      {"batch 1, odd channels", {1, 5, 4, 3}},
      {"[N, C]", {8, 6}},
      {"[N, C], N = 2", {2, 7}},
  };
  return cases;
}

// Running statistics as a layer starts them (mean 0, var 1) plus some drift, so the blend shows.
Tensor running_mean0(std::int64_t C) { return random_tensor({C}, kFloat64, 40, 0.1); }
Tensor running_var0(std::int64_t C) {
  return ops::add_scalar(ops::abs(random_tensor({C}, kFloat64, 41, 0.3)), 0.5);
}

}  // namespace

TEST_CASE("cuDNN batch_norm training matches the cpu, values, gradients and running stats", "[cuda]") {
  RETORT_REQUIRE_GPU();
  for (DType dt : {kFloat32, kFloat64}) {
    for (const BnCase& c : bn_cases()) {
      for (bool affine : {true, false}) {
        INFO(c.name << " " << dtype_name(dt) << (affine ? " affine" : " no affine"));
        const std::int64_t C = c.x[1];
        Tensor rm_cpu = running_mean0(C).to(dt).to(kFloat64), rv_cpu = running_var0(C).to(dt).to(kFloat64);
        Tensor rm_gpu = rm_cpu.to(dt).to(kCuda), rv_gpu = rv_cpu.to(dt).to(kCuda);
        auto fn = [&, affine](const std::vector<Tensor>& v) {
          const bool gpu = v[0].device().is_cuda();
          return batch_norm(v[0], affine ? v[1] : Tensor(), affine ? v[2] : Tensor(), gpu ? rm_gpu : rm_cpu,
                            gpu ? rv_gpu : rv_cpu, true, 0.1, 1e-5);
        };
        std::vector<Tensor> in = {random_tensor(c.x, kFloat64, 1, 2.0)};
        if (affine) {
          in.push_back(random_tensor({C}, kFloat64, 2));
          in.push_back(random_tensor({C}, kFloat64, 3));
        }
        compare_with_cpu(fn, in, dt, Tol{1e-4, 1e-4}, Tol{5e-4, 1e-3});
        const double tol = dt == kFloat64 ? 1e-10 : 1e-5;
        REQUIRE_ALLCLOSE(rm_gpu.to(kCPU), rm_cpu, tol, tol);
        REQUIRE_ALLCLOSE(rv_gpu.to(kCPU), rv_cpu, tol, tol);
      }
    }
  }
}

TEST_CASE("cuDNN batch_norm eval matches the cpu, values and gradients", "[cuda]") {
  RETORT_REQUIRE_GPU();
  for (DType dt : {kFloat32, kFloat64}) {
    for (const BnCase& c : bn_cases()) {
      INFO(c.name << " " << dtype_name(dt));
      const std::int64_t C = c.x[1];
      Tensor rm_cpu = running_mean0(C).to(dt).to(kFloat64), rv_cpu = running_var0(C).to(dt).to(kFloat64);
      Tensor rm_gpu = rm_cpu.to(dt).to(kCuda), rv_gpu = rv_cpu.to(dt).to(kCuda);
      auto fn = [&](const std::vector<Tensor>& v) {
        const bool gpu = v[0].device().is_cuda();
        return batch_norm(v[0], v[1], v[2], gpu ? rm_gpu : rm_cpu, gpu ? rv_gpu : rv_cpu, false, 0.1, 1e-5);
      };
      compare_with_cpu(
          fn,
          {random_tensor(c.x, kFloat64, 4), random_tensor({C}, kFloat64, 5), random_tensor({C}, kFloat64, 6)},
          dt, Tol{1e-5, 1e-5}, Tol{1e-4, 1e-4});
      REQUIRE_ALLCLOSE(rm_gpu.to(kCPU), rm_cpu, 0, 0);  // eval leaves them alone
      REQUIRE_ALLCLOSE(rv_gpu.to(kCPU), rv_cpu, 0, 0);
    }
  }
}

TEST_CASE("cuDNN batch_norm_train returns the batch mean and biased variance", "[cuda]") {
  RETORT_REQUIRE_GPU();
  Tensor x = random_tensor({6, 4, 3, 5}, kFloat64, 7, 3.0);
  auto ref = ops::batch_norm_train(x, Tensor(), Tensor(), Tensor(), Tensor(), 0.1, 1e-5);
  auto got = ops::batch_norm_train(x.to(kCuda), Tensor(), Tensor(), Tensor(), Tensor(), 0.1, 1e-5);
  REQUIRE_ALLCLOSE(got.y.to(kCPU), ref.y, 1e-10, 1e-10);
  REQUIRE_ALLCLOSE(got.mean.to(kCPU), ref.mean, 1e-12, 1e-10);
  // var comes back through cuDNN's 1/√(σ² + eps): exact up to that round trip.
  REQUIRE_ALLCLOSE(got.var.to(kCPU), ref.var, 1e-10, 1e-9);
}

TEST_CASE("cuDNN batch_norm updates strided and partial running statistics", "[cuda]") {
  RETORT_REQUIRE_GPU();
  const std::int64_t C = 5;
  Tensor x = random_tensor({3, C, 4, 4}, kFloat64, 8);
  SECTION("running stats that are every other element of a buffer") {
    Tensor buf_cpu = random_tensor({2 * C}, kFloat64, 9), buf_gpu = buf_cpu.to(kCuda);
    Tensor rm_cpu = ops::slice(buf_cpu, 0, 0, 2 * C, 2), rm_gpu = ops::slice(buf_gpu, 0, 0, 2 * C, 2);
    Tensor rv_cpu = ops::add_scalar(ops::abs(ops::slice(buf_cpu, 0, 1, 2 * C, 2)), 1.0).clone();
    Tensor rv_gpu = rv_cpu.to(kCuda);
    ops::batch_norm_train(x, Tensor(), Tensor(), rm_cpu, rv_cpu, 0.3, 1e-5);
    ops::batch_norm_train(x.to(kCuda), Tensor(), Tensor(), rm_gpu, rv_gpu, 0.3, 1e-5);
    REQUIRE_ALLCLOSE(buf_gpu.to(kCPU), buf_cpu, 1e-12, 1e-10);  // odd elements untouched, even updated
    REQUIRE_ALLCLOSE(rv_gpu.to(kCPU), rv_cpu, 1e-12, 1e-10);
  }
  SECTION("only a running mean") {
    Tensor rm_cpu = zeros({C}, kFloat64), rm_gpu = rm_cpu.to(kCuda);
    ops::batch_norm_train(x, Tensor(), Tensor(), rm_cpu, Tensor(), 0.1, 1e-5);
    ops::batch_norm_train(x.to(kCuda), Tensor(), Tensor(), rm_gpu, Tensor(), 0.1, 1e-5);
    REQUIRE_ALLCLOSE(rm_gpu.to(kCPU), rm_cpu, 1e-12, 1e-10);
  }
}

TEST_CASE("batch_norm rejects parameters on another device naming both", "[cuda]") {
  RETORT_REQUIRE_GPU();
  using Catch::Matchers::Contains;
  Tensor x = random_tensor({4, 3}, kFloat32, 10).to(kCuda);
  REQUIRE_THROWS_WITH(ops::batch_norm_train(x, ones({3}), Tensor(), Tensor(), Tensor(), 0.1, 1e-5),
                      Contains("batch_norm") && Contains("weight") && Contains("cpu") && Contains("cuda:0"));
  auto r = ops::batch_norm_train(x, Tensor(), Tensor(), Tensor(), Tensor(), 0.1, 1e-5);
  REQUIRE_THROWS_WITH(ops::batch_norm_backward(r.y.to(kCPU), x, Tensor(), r.mean, r.var, 1e-5, true),
                      Contains("batch_norm_backward") && Contains("cpu") && Contains("cuda:0"));
}
