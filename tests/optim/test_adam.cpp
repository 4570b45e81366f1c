// Adam and AdamW against PyTorch 1.13 (fixtures from tests/tools/make_optim_fixtures.py): L2 vs
// decoupled weight decay, amsgrad, maximize, and the per-parameter step count of the bias
// correction when a parameter misses a step.
#include "optim/adam.h"

#include "optim_replay.h"

using namespace retort;
using namespace retort::testing;
using optim::Adam;
using optim::AdamOptions;
using optim::AdamW;
using optim::AdamWOptions;

namespace {

optim_replay::MakeOptimizer adam(AdamOptions o) {
  return [o](std::vector<Tensor> ps) { return std::make_unique<Adam>(std::move(ps), o); };
}

optim_replay::MakeOptimizer adamw(AdamWOptions o) {
  return [o](std::vector<Tensor> ps) { return std::make_unique<AdamW>(std::move(ps), o); };
}

}  // namespace

TEST_CASE("Adam and AdamW match PyTorch", "[optim][adam]") {
  for (auto [dtype, atol] : {std::pair{kFloat64, 1e-12}, std::pair{kFloat32, 1e-5}}) {
    optim_replay::replay("adam", dtype, adam({.lr = 0.05, .weight_decay = 1e-2}), atol);
    optim_replay::replay("adamw", dtype, adamw({.lr = 0.05}), atol);  // default weight_decay 1e-2
    optim_replay::replay("adam_amsgrad", dtype,
                         adam({.lr = 0.05, .beta1 = 0.8, .beta2 = 0.9, .eps = 1e-6, .amsgrad = true, .maximize = true}),
                         atol);
    optim_replay::replay("adamw_amsgrad", dtype,
                         adamw({.lr = 0.02, .beta1 = 0.8, .beta2 = 0.9, .weight_decay = 0.1, .amsgrad = true}), atol);
  }
}

TEST_CASE("Adam: a large parameter's threaded update equals the serial one", "[optim][adam]") {
  optim_replay::check_split_update(adam({.lr = 1e-2, .weight_decay = 1e-2, .amsgrad = true}));
  optim_replay::check_split_update(adamw({.lr = 1e-2, .weight_decay = 0.1, .maximize = true}));
}

TEST_CASE("Adam state: buffers allocated once, steps counted per parameter", "[optim][adam]") {
  auto opt = optim_replay::replay("adam_amsgrad", kFloat64,
                                  adam({.lr = 0.05, .beta1 = 0.8, .beta2 = 0.9, .eps = 1e-6, .amsgrad = true, .maximize = true}),
                                  1e-12);
  REQUIRE(opt->state(0, 0).step == 9);
  REQUIRE(opt->state(0, 1).step == 9);
  REQUIRE(opt->state(0, 1).buffers.size() == 3);
  // v̂ ≥ v everywhere.
  auto v = opt->state(0, 1).buffers[1].to_vector<double>();
  auto vmax = opt->state(0, 1).buffers[2].to_vector<double>();
  for (std::size_t i = 0; i < v.size(); ++i) REQUIRE(vmax[i] >= v[i]);

  auto plain = optim_replay::replay("adam", kFloat64, adam({.lr = 0.05, .weight_decay = 1e-2}), 1e-12);
  REQUIRE(plain->state(0, 0).buffers.size() == 2);
  const Tensor* m_before = &plain->state(0, 0).buffers[0];
  const void* m_data = m_before->raw_data();
  auto& p0 = plain->param_groups()[0].params[0];
  p0.set_grad(ones({3, 4}, kFloat64));
  plain->step();
  REQUIRE(plain->state(0, 0).buffers[0].raw_data() == m_data);  // updated in place, no realloc
}

TEST_CASE("Adam first step moves each coordinate by lr·sign(g)", "[optim][adam]") {
  // With m = (1−β1)g, v = (1−β2)g² the bias-corrected step is lr·g/(|g| + eps') ≈ lr·sign(g).
  Tensor p = from_vector(std::vector<float>{1.f, 1.f, 1.f}, {3});
  Adam opt({p}, {.lr = 0.1});
  p.set_grad(from_vector(std::vector<float>{3.f, -0.5f, 1e-3f}, {3}));
  opt.step();
  REQUIRE_ALLCLOSE(p, from_vector(std::vector<float>{0.9f, 1.1f, 0.9f}, {3}), 1e-5, 0.0);
  REQUIRE(opt.name() == "Adam");
}

TEST_CASE("AdamW decay is decoupled: zero gradient still shrinks the weights", "[optim][adam]") {
  Tensor p = from_vector(std::vector<double>{2, -4}, {2}, kFloat64);
  AdamW opt({p}, {.lr = 0.1, .weight_decay = 0.5});
  p.set_grad(zeros({2}, kFloat64));
  opt.step();  // m = v = 0: only p·(1 − lr·wd) = 0.95p
  REQUIRE_ALLCLOSE(p, from_vector(std::vector<double>{1.9, -3.8}, {2}, kFloat64), 1e-15, 0.0);
  REQUIRE(opt.decoupled_weight_decay());
  REQUIRE(opt.name() == "AdamW");

  Tensor q = from_vector(std::vector<double>{2, -4}, {2}, kFloat64);
  Adam l2({q}, {.lr = 0.1, .weight_decay = 0.5});
  q.set_grad(zeros({2}, kFloat64));
  l2.step();  // gradient becomes wd·q: first step is ≈ lr·sign(q)
  REQUIRE_ALLCLOSE(q, from_vector(std::vector<double>{1.9, -3.9}, {2}, kFloat64), 1e-6, 0.0);
}

TEST_CASE("Adam argument errors name the optimiser", "[optim][adam]") {
  Tensor p = zeros({4}, kFloat32);
  REQUIRE_THROWS_WITH(Adam({p}, {.beta1 = 1.0}), Catch::Contains("Adam") && Catch::Contains("beta1"));
  REQUIRE_THROWS_WITH(AdamW({p}, {.beta2 = -0.1}), Catch::Contains("AdamW") && Catch::Contains("beta2"));
  REQUIRE_THROWS_WITH(Adam({p}, {.eps = -1.0}), Catch::Contains("eps"));
  REQUIRE_THROWS_WITH(Adam({p}, {.lr = -1e-3}), Catch::Contains("learning rate"));
  REQUIRE_THROWS_WITH(AdamW({p}, {.weight_decay = -1.0}), Catch::Contains("AdamW") && Catch::Contains("weight_decay"));
  Adam opt({p}, {});
  p.set_grad(zeros({4}, kFloat64));
  REQUIRE_THROWS_WITH(opt.step(), Catch::Contains("Adam") && Catch::Contains("float32") && Catch::Contains("float64"));
}
