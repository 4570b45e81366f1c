// SGD against PyTorch 1.13 (fixtures from tests/tools/make_optim_fixtures.py), plus the base
// class's bookkeeping: skipped parameters, zero_grad, lr, state and argument errors.
#include "optim/sgd.h"

#include "autograd/node.h"
#include "optim_replay.h"

using namespace retort;
using namespace retort::testing;
using optim::SGD;
using optim::SGDOptions;

namespace {

optim_replay::MakeOptimizer sgd(SGDOptions o) {
  return [o](std::vector<Tensor> ps) { return std::make_unique<SGD>(std::move(ps), o); };
}

optim_replay::MakeOptimizer sgd_groups() {
  // The fixture's two groups: p0 at the defaults, p1 with its own lr and no weight decay.
  return [](std::vector<Tensor> ps) {
    std::vector<optim::ParamGroup> groups{{.params = {ps[0]}}, {.params = {ps[1]}, .lr = 0.01, .weight_decay = 0.0}};
    return std::make_unique<SGD>(std::move(groups), SGDOptions{.lr = 0.1, .momentum = 0.5, .weight_decay = 1e-2});
  };
}

}  // namespace

TEST_CASE("SGD matches PyTorch: nesterov, dampening, plain+maximize, param groups", "[optim][sgd]") {
  const SGDOptions nesterov{.lr = 0.1, .momentum = 0.9, .weight_decay = 1e-2, .nesterov = true};
  const SGDOptions dampening{.lr = 0.1, .momentum = 0.9, .dampening = 0.3};
  const SGDOptions plain{.lr = 0.05, .weight_decay = 1e-2, .maximize = true};
  for (auto [dtype, atol] : {std::pair{kFloat64, 1e-12}, std::pair{kFloat32, 1e-5}}) {
    optim_replay::replay("sgd_nesterov", dtype, sgd(nesterov), atol);
    optim_replay::replay("sgd_dampening", dtype, sgd(dampening), atol);
    optim_replay::replay("sgd_plain", dtype, sgd(plain), atol);
    optim_replay::replay("sgd_groups", dtype, sgd_groups(), atol);
  }
}

TEST_CASE("SGD: a large parameter's threaded update equals the serial one", "[optim][sgd]") {
  optim_replay::check_split_update(sgd({.lr = 0.1, .momentum = 0.9, .weight_decay = 1e-2, .nesterov = true}));
  optim_replay::check_split_update(sgd({.lr = 0.05, .weight_decay = 1e-2, .maximize = true}));
}

TEST_CASE("SGD state: per-parameter step counts and one momentum buffer", "[optim][sgd]") {
  auto opt = optim_replay::replay("sgd_nesterov", kFloat64,
                                  sgd({.lr = 0.1, .momentum = 0.9, .weight_decay = 1e-2, .nesterov = true}), 1e-12);
  REQUIRE(opt->step_count() == 10);
  // Each parameter missed one step (no grad at step 4 / 7).
  REQUIRE(opt->state(0, 0).step == 9);
  REQUIRE(opt->state(0, 1).step == 9);
  REQUIRE(opt->state(0, 0).buffers.size() == 1);
  REQUIRE(opt->state(0, 0).buffers[0].sizes() == Shape{3, 4});
  const auto& g = opt->param_groups()[0];
  REQUIRE(&opt->state(g.params[1]) == &opt->state(0, 1));
  REQUIRE_THROWS_WITH(opt->state(zeros({5}, kFloat64)), Catch::Contains("SGD") && Catch::Contains("not one of"));
  REQUIRE_THROWS_WITH(opt->state(1, 0), Catch::Contains("SGD"));

  auto no_momentum = optim_replay::replay("sgd_plain", kFloat64, sgd({.lr = 0.05, .weight_decay = 1e-2, .maximize = true}), 1e-12);
  REQUIRE(no_momentum->state(0, 0).buffers.empty());
}

TEST_CASE("SGD: a parameter without grad is left alone; lr and zero_grad", "[optim][sgd]") {
  Tensor a = from_vector(std::vector<double>{1, 2, 3}, {3}, kFloat64);
  Tensor b = from_vector(std::vector<double>{4, 5}, {2}, kFloat64);
  SGD opt({a, b}, {.lr = 0.5, .momentum = 0.9});
  REQUIRE(opt.lr() == 0.5);
  a.set_grad(from_vector(std::vector<double>{1, 1, 1}, {3}, kFloat64));
  opt.step();
  REQUIRE(a.to_vector<double>() == std::vector<double>{0.5, 1.5, 2.5});
  REQUIRE(b.to_vector<double>() == std::vector<double>{4, 5});
  REQUIRE(opt.state(b).buffers.empty());
  REQUIRE(opt.state(b).step == 0);

  opt.set_lr(0.25);
  REQUIRE(opt.param_groups()[0].lr == 0.25);
  opt.step();  // buffer 0.9·1 + 1 = 1.9
  REQUIRE_ALLCLOSE(a, from_vector(std::vector<double>{0.025, 1.025, 2.025}, {3}, kFloat64), 1e-15, 0.0);

  opt.zero_grad();
  REQUIRE(a.grad().defined());
  REQUIRE(a.grad().to_vector<double>() == std::vector<double>{0, 0, 0});
  opt.zero_grad(true);
  REQUIRE_FALSE(a.grad().defined());
  opt.step();  // nothing has a grad: nothing moves
  REQUIRE_ALLCLOSE(a, from_vector(std::vector<double>{0.025, 1.025, 2.025}, {3}, kFloat64), 1e-15, 0.0);
  REQUIRE(opt.step_count() == 3);
}

TEST_CASE("SGD updates the gradients backward accumulates", "[optim][sgd]") {
  // loss = ½‖w‖² recorded by hand (its backward is the raw gradient w), so the engine fills w.grad.
  Tensor w = from_vector(std::vector<double>{2, -4}, {2}, kFloat64);
  w.set_requires_grad();
  Tensor wc = w.clone();
  Tensor loss = autograd::record("half_sq", {w}, scalar_tensor(10.0, kFloat64),
                                 [wc](const Tensor& g) { return autograd::Grads{wc}; });
  loss.backward();
  SGD opt({w}, {.lr = 0.1});
  opt.step();
  REQUIRE_ALLCLOSE(w, from_vector(std::vector<double>{1.8, -3.6}, {2}, kFloat64), 1e-15, 0.0);
}

TEST_CASE("SGD argument errors name the optimiser", "[optim][sgd]") {
  Tensor p = zeros({2, 3}, kFloat64);
  REQUIRE_THROWS_WITH(SGD({p}, {.lr = -1.0}), Catch::Contains("SGD") && Catch::Contains("learning rate"));
  REQUIRE_THROWS_WITH(SGD({p}, {.lr = 0.1, .weight_decay = -1.0}), Catch::Contains("weight_decay"));
  REQUIRE_THROWS_WITH(SGD({p}, {.lr = 0.1, .momentum = -0.5}), Catch::Contains("momentum"));
  REQUIRE_THROWS_WITH(SGD({p}, {.lr = 0.1, .nesterov = true}), Catch::Contains("nesterov"));
  REQUIRE_THROWS_WITH(SGD({p}, {.lr = 0.1, .momentum = 0.9, .dampening = 0.1, .nesterov = true}),
                      Catch::Contains("dampening"));
  REQUIRE_THROWS_WITH(SGD(std::vector<Tensor>{}, {.lr = 0.1}), Catch::Contains("no parameters"));
  REQUIRE_THROWS_WITH(SGD({p, p}, {.lr = 0.1}), Catch::Contains("twice"));
  REQUIRE_THROWS_WITH(SGD({{.params = {p}}, {.params = {p}}}, {.lr = 0.1}), Catch::Contains("already appears in group 0"));
  REQUIRE_THROWS_WITH(SGD({zeros({3}, kInt64)}, {.lr = 0.1}), Catch::Contains("int64"));
  REQUIRE_THROWS_WITH(SGD({as_strided(p, {3, 2}, {1, 3}, 0)}, {.lr = 0.1}), Catch::Contains("[3,2]") && Catch::Contains("contiguous"));
  REQUIRE_THROWS_WITH(SGD({Tensor()}, {.lr = 0.1}), Catch::Contains("undefined"));

  Tensor x = zeros({2}, kFloat64);
  x.set_requires_grad();
  Tensor y = autograd::record("copy", {x}, zeros({2}, kFloat64), [](const Tensor& g) { return autograd::Grads{g}; });
  REQUIRE_THROWS_WITH(SGD({y}, {.lr = 0.1}), Catch::Contains("not a leaf"));

  SGD opt({p}, {.lr = 0.1});
  p.set_grad(zeros({3, 2}, kFloat64));
  REQUIRE_THROWS_WITH(opt.step(), Catch::Contains("SGD") && Catch::Contains("[2,3]") && Catch::Contains("[3,2]"));
  REQUIRE_THROWS_WITH(opt.set_lr(-1), Catch::Contains("learning rate"));
}
