// [cuda] Matrix products on cuBLAS against the float64 cpu reference: packed, transposed (read in
// place), strided (packed first) and broadcast operands, batch 1, degenerate M/N/K, linear with
// and without bias; values and gradients through autograd in float32 (TF32 off) and float64; TF32
// off by default; mixed-device errors.
#include <catch2/catch.hpp>

#include "autograd/ops/nn_ops.h"
#include "autograd/ops/shape.h"
#include "cuda/compare.h"
#include "tensor/linalg.h"
#include "tensor/views.h"

using namespace retort;
using retort::testing::compare_with_cpu;
using retort::testing::kCuda;
using retort::testing::random_tensor;
using retort::testing::Tol;

namespace {

struct MatmulCase {
  const char* name;
  Shape a, b;                   // stored shapes of the leaves
  bool ta = false, tb = false;  // use the transpose of the last two dims as the operand
  bool step_a = false;          // use every other column of a (no unit stride: packed first)
};

Tensor operand(const Tensor& t, bool transposed) { return transposed ? transpose(t, -1, -2) : t; }

}  // namespace

TEST_CASE("cuBLAS matmul and bmm match the cpu, values and gradients", "[cuda]") {
  RETORT_REQUIRE_GPU();
  REQUIRE_FALSE(cuda::allow_tf32());
  const std::vector<MatmulCase> cases = {
      {"packed 2-D", {5, 7}, {7, 3}},
      {"a transposed", {7, 5}, {7, 3}, true, false},
      {"b transposed", {5, 7}, {3, 7}, false, true},
      {"both transposed", {7, 5}, {3, 7}, true, true},
      {"strided a", {5, 14}, {7, 3}, false, false, true},
      {"outer product K = 1", {6, 1}, {1, 4}},
      {"row vector M = 1", {1, 8}, {8, 3}},
      {"column result N = 1", {4, 9}, {9, 1}},
      {"batch 1", {1, 4, 6}, {1, 6, 2}},
      {"batched, b transposed", {3, 5, 7}, {3, 4, 7}, false, true},
      {"batch broadcast", {2, 1, 4, 6}, {3, 6, 5}},
      {"batch of rows times a matrix", {2, 3, 4, 6}, {6, 5}},
      {"larger, K = 300", {64, 300}, {300, 129}},
  };
  for (DType dt : {kFloat32, kFloat64}) {
    for (const MatmulCase& c : cases) {
      INFO(c.name << " " << dtype_name(dt));
      const bool step = c.step_a;
      const bool ta = c.ta, tb = c.tb;
      auto fn = [ta, tb, step](const std::vector<Tensor>& v) {
        Tensor a = step ? slice(v[0], -1, 0, v[0].size(-1), 2) : operand(v[0], ta);
        return matmul(a, operand(v[1], tb));
      };
      const double k = static_cast<double>(c.b[c.b.size() - (tb ? 1 : 2)]);
      compare_with_cpu(fn, {random_tensor(c.a, kFloat64, 1), random_tensor(c.b, kFloat64, 2)}, dt,
                       Tol{2e-5 * (1 + k), 1e-4}, Tol{2e-5 * (1 + k), 1e-4});
    }
  }
}

TEST_CASE("cuBLAS bmm through the raw op keeps transposed views uncopied and correct", "[cuda]") {
  RETORT_REQUIRE_GPU();
  Tensor a = random_tensor({4, 6, 5}, kFloat64, 3), b = random_tensor({4, 7, 6}, kFloat64, 4);
  Tensor at = ops::transpose(a, 1, 2), bt = ops::transpose(b, 1, 2);  // [4,5,6] · [4,6,7]
  Tensor ref = ops::bmm(at, bt);
  Tensor got = ops::bmm(ops::transpose(a.to(kCuda), 1, 2), ops::transpose(b.to(kCuda), 1, 2));
  REQUIRE(got.sizes() == Shape({4, 5, 7}));
  REQUIRE_ALLCLOSE(got.to(kCPU), ref, 1e-12, 1e-12);
}

TEST_CASE("linear on cuda: values and gradients of input, weight and bias", "[cuda]") {
  RETORT_REQUIRE_GPU();
  for (DType dt : {kFloat32, kFloat64}) {
    INFO(dtype_name(dt));
    compare_with_cpu([](const std::vector<Tensor>& v) { return linear(v[0], v[1], v[2]); },
                     {random_tensor({4, 3, 10}, kFloat64, 5), random_tensor({7, 10}, kFloat64, 6),
                      random_tensor({7}, kFloat64, 7)},
                     dt, Tol{1e-4, 1e-4}, Tol{2e-4, 1e-4});
    compare_with_cpu([](const std::vector<Tensor>& v) { return linear(v[0], v[1]); },
                     {random_tensor({1, 33}, kFloat64, 8), random_tensor({5, 33}, kFloat64, 9)}, dt,
                     Tol{1e-4, 1e-4}, Tol{1e-4, 1e-4});
  }
}

TEST_CASE("cuBLAS products with empty dims", "[cuda]") {
  RETORT_REQUIRE_GPU();
  Tensor y = ops::matmul(empty({3, 0}, kFloat32, kCuda), empty({0, 4}, kFloat32, kCuda));
  REQUIRE(y.sizes() == Shape({3, 4}));
  REQUIRE_ALLCLOSE(y.to(kCPU), zeros({3, 4}), 0, 0);
  REQUIRE(ops::matmul(empty({0, 5}, kFloat64, kCuda), empty({5, 2}, kFloat64, kCuda)).sizes() ==
          Shape({0, 2}));
  REQUIRE(ops::bmm(empty({0, 2, 3}, kFloat32, kCuda), empty({0, 3, 4}, kFloat32, kCuda)).sizes() ==
          Shape({0, 2, 4}));
}

TEST_CASE("TF32 is off by default and, when allowed, stays within TF32 rounding", "[cuda]") {
  RETORT_REQUIRE_GPU();
  REQUIRE_FALSE(cuda::allow_tf32());
  Tensor a = random_tensor({64, 256}, kFloat32, 10), b = random_tensor({256, 48}, kFloat32, 11);
  Tensor ref = ops::matmul(a.to(kFloat64), b.to(kFloat64));
  {
    testing::Tf32Scope tf32(true);
    // TF32 keeps 10 mantissa bits: each product is off by ~2^-11 relative, sums of 256 by ~0.1.
    REQUIRE_ALLCLOSE(ops::matmul(a.to(kCuda), b.to(kCuda)).to(kCPU), ref, 0.1, 1e-2);
  }
  REQUIRE_FALSE(cuda::allow_tf32());
  REQUIRE_ALLCLOSE(ops::matmul(a.to(kCuda), b.to(kCuda)).to(kCPU), ref, 1e-4, 1e-5);
}

TEST_CASE("matrix products reject mixed cpu and cuda operands naming both", "[cuda]") {
  RETORT_REQUIRE_GPU();
  Tensor a = random_tensor({2, 3}, kFloat32, 1), b = random_tensor({3, 4}, kFloat32, 2);
  using Catch::Matchers::Contains;
  REQUIRE_THROWS_WITH(ops::matmul(a, b.to(kCuda)), Contains("matmul") && Contains("[2,3]") &&
                                                       Contains("[3,4]") && Contains("cpu") &&
                                                       Contains("cuda:0"));
  REQUIRE_THROWS_WITH(ops::linear(a.to(kCuda), random_tensor({4, 3}, kFloat32, 3)),
                      Contains("linear") && Contains("cuda:0") && Contains("cpu"));
  REQUIRE_THROWS_WITH(ops::linear(a.to(kCuda), random_tensor({4, 3}, kFloat32, 3).to(kCuda), zeros({4})),
                      Contains("linear") && Contains("bias") && Contains("cpu"));
}
