// [cuda] The fused Adam/AdamW and SGD kernels against the cpu optimizers: the same parameters and
// gradients on both devices for several steps (one parameter skipping a step, so per-parameter
// step counts differ), every option that changes the arithmetic, float32 and float64. The kernels
// repeat the cpu loop's operations one by one without fused multiply-adds, so parameters and
// optimizer state must agree exactly. Plus zero_grad on cuda gradients.
#include <catch2/catch.hpp>

#include <functional>
#include <memory>
#include <vector>

#include "cuda/kernel_check.h"
#include "optim/adam.h"
#include "optim/sgd.h"

using namespace retort;
using retort::testing::kCuda;
using retort::testing::random_tensor;
using retort::testing::require_match;

namespace {

using MakeOptimizer = std::function<std::unique_ptr<optim::Optimizer>(std::vector<Tensor>)>;

const std::vector<Shape> kShapes = {{3, 4}, {1025}, {}};

std::vector<Tensor> leaves(DType dt, Device d) {
  std::vector<Tensor> ps;
  for (std::size_t i = 0; i < kShapes.size(); ++i) {
    Tensor p = random_tensor(kShapes[i], dt, 10 + i).to(d);
    p.set_requires_grad();
    ps.push_back(p);
  }
  return ps;
}

// Runs `steps` steps of the same optimizer on the cpu and on cuda and compares everything.
void compare_runs(const MakeOptimizer& make, DType dt, int steps = 6) {
  std::vector<Tensor> pc = leaves(dt, kCPU), pg = leaves(dt, kCuda);
  auto oc = make(pc), og = make(pg);
  for (int s = 0; s < steps; ++s) {
    for (std::size_t i = 0; i < pc.size(); ++i) {
      if (i == 1 && s == 2) {  // parameter 1 has no gradient at step 2
        pc[i].set_grad(Tensor());
        pg[i].set_grad(Tensor());
        continue;
      }
      Tensor g = random_tensor(kShapes[i], dt, 100 * s + i, 0.5);
      pc[i].set_grad(g);
      pg[i].set_grad(g.to(kCuda));
    }
    oc->step();
    og->step();
  }
  for (std::size_t i = 0; i < pc.size(); ++i) {
    INFO("parameter " << i << " " << shape_str(kShapes[i]));
    require_match(pg[i], pc[i], 0, 0);
    const auto& sc = oc->state(0, i);
    const auto& sg = og->state(0, i);
    REQUIRE(sg.step == sc.step);
    REQUIRE(sg.buffers.size() == sc.buffers.size());
    for (std::size_t b = 0; b < sc.buffers.size(); ++b) {
      INFO("state buffer " << b);
      require_match(sg.buffers[b], sc.buffers[b], 0, 0);
    }
  }
}

template <class Opt, class Options>
MakeOptimizer maker(Options o) {
  return [o](std::vector<Tensor> ps) { return std::make_unique<Opt>(std::move(ps), o); };
}

}  // namespace

TEST_CASE("cuda Adam and AdamW steps equal the cpu's exactly", "[cuda]") {
  RETORT_REQUIRE_GPU();
  using optim::Adam;
  using optim::AdamW;
  for (DType dt : {kFloat32, kFloat64}) {
    INFO(dtype_name(dt));
    compare_runs(maker<Adam>(optim::AdamOptions{.lr = 1e-2}), dt);
    compare_runs(maker<Adam>(optim::AdamOptions{.lr = 1e-2, .weight_decay = 0.1}), dt);
    compare_runs(maker<Adam>(optim::AdamOptions{.lr = 3e-3, .beta1 = 0.8, .eps = 1e-6, .amsgrad = true, .maximize = true}), dt);
    compare_runs(maker<AdamW>(optim::AdamWOptions{.lr = 1e-2, .weight_decay = 0.05}), dt);
    compare_runs(maker<AdamW>(optim::AdamWOptions{.lr = 1e-2, .beta2 = 0.99, .amsgrad = true}), dt);
  }
}

TEST_CASE("cuda SGD steps equal the cpu's exactly", "[cuda]") {
  RETORT_REQUIRE_GPU();
  using optim::SGD;
  for (DType dt : {kFloat32, kFloat64}) {
    INFO(dtype_name(dt));
    compare_runs(maker<SGD>(optim::SGDOptions{.lr = 0.1}), dt);
    compare_runs(maker<SGD>(optim::SGDOptions{.lr = 0.1, .momentum = 0.9}), dt);
    compare_runs(maker<SGD>(optim::SGDOptions{.lr = 0.05, .momentum = 0.9, .dampening = 0.3, .weight_decay = 1e-2}), dt);
    compare_runs(maker<SGD>(optim::SGDOptions{.lr = 0.1, .momentum = 0.5, .weight_decay = 1e-2, .nesterov = true}), dt);
    compare_runs(maker<SGD>(optim::SGDOptions{.lr = 0.05, .weight_decay = 1e-2, .maximize = true}), dt);
  }
}

TEST_CASE("cuda zero_grad clears or drops gradients on the device", "[cuda]") {
  RETORT_REQUIRE_GPU();
  std::vector<Tensor> ps = leaves(kFloat32, kCuda);
  optim::SGD opt(ps, {.lr = 0.1});
  for (Tensor& p : ps) p.set_grad(random_tensor(p.sizes(), kFloat32, 3).to(kCuda));
  opt.zero_grad(false);
  for (const Tensor& p : ps) {
    REQUIRE(p.grad().device() == kCuda);
    require_match(p.grad(), zeros(p.sizes()), 0, 0);
  }
  opt.zero_grad(true);
  for (const Tensor& p : ps) REQUIRE_FALSE(p.grad().defined());
}

TEST_CASE("cuda optimizers reject a gradient on another device, naming both", "[cuda]") {
  RETORT_REQUIRE_GPU();
  std::vector<Tensor> ps = leaves(kFloat32, kCuda);
  optim::Adam opt(ps, {.lr = 0.1});
  ps[0].set_grad(random_tensor(ps[0].sizes(), kFloat32, 4));
  REQUIRE_THROWS_WITH(opt.step(), Catch::Contains("Adam") && Catch::Contains("[3,4]") &&
                                      Catch::Contains("cpu") && Catch::Contains("cuda:0"));
}
