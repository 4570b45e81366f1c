// For the [cuda] op tests: one differentiable function run on the cpu (float64 reference) and on
// cuda (float32 or float64), outputs and the gradients of every input compared.
//
// Inputs are given as float64 cpu values and rounded to the tested dtype first, so both sides see
// identical numbers (ties in max pooling stay ties) and the only differences are the GPU's
// rounding and summation order. float32 tolerances assume TF32 is off (the default).
#pragma once
#include <catch2/catch.hpp>
#include <functional>
#include <vector>

#include "support/cuda_guard.h"
#include "support/helpers.h"
#include "tensor/cuda/cuda_backend.h"

namespace retort::testing {

struct Tol {
  double atol, rtol;
};

// float64 on both sides: equal up to summation order.
inline constexpr Tol kF64Tol{1e-10, 1e-10};

using CudaCompareFn = std::function<Tensor(const std::vector<Tensor>&)>;

// fn applied to leaves made from `inputs` (float64 cpu values) on the cpu in float64 and on cuda
// in dt; the outputs must agree within `out`, and after backward with the same random upstream
// gradient, every input's gradient within `grad` (float64 uses kF64Tol for both).
inline void compare_with_cpu(const CudaCompareFn& fn, const std::vector<Tensor>& inputs, DType dt, Tol out,
                             Tol grad, std::uint64_t seed = 99) {
  if (dt == kFloat64) out = grad = kF64Tol;
  std::vector<Tensor> ref, dev;
  for (const Tensor& t : inputs) {
    Tensor rounded = t.to(dt);
    Tensor r = rounded.to(kFloat64).clone();
    r.set_requires_grad();
    Tensor d = rounded.to(kCuda);
    d.set_requires_grad();
    ref.push_back(r);
    dev.push_back(d);
  }
  Tensor yr = fn(ref), yd = fn(dev);
  REQUIRE(yd.device() == kCuda);
  REQUIRE(yd.dtype() == dt);
  REQUIRE_ALLCLOSE(yd.to(kCPU), yr, out.atol, out.rtol);
  Tensor gy = random_tensor(yr.sizes(), dt, seed);
  yr.backward(gy.to(kFloat64));
  yd.backward(gy.to(kCuda));
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    INFO("gradient of input " << i << " " << shape_str(inputs[i].sizes()));
    REQUIRE(dev[i].grad().defined());
    REQUIRE(dev[i].grad().device() == kCuda);
    REQUIRE_ALLCLOSE(dev[i].grad().to(kCPU), ref[i].grad(), grad.atol, grad.rtol);
  }
}

// Sets allow_tf32 for a scope and restores the previous setting (also when a REQUIRE throws).
class Tf32Scope {
 public:
  explicit Tf32Scope(bool on) : before_(cuda::allow_tf32()) { cuda::set_allow_tf32(on); }
  ~Tf32Scope() { cuda::set_allow_tf32(before_); }
  Tf32Scope(const Tf32Scope&) = delete;
  Tf32Scope& operator=(const Tf32Scope&) = delete;

 private:
  bool before_;
};

}  // namespace retort::testing
