// LR schedules against PyTorch 1.13's lr_scheduler (tests/fixtures/optim/lr_schedules.txt, from
// tests/tools/make_optim_fixtures.py): 31 lrs (epochs 0..30) for two groups with base lrs 0.1
// and 0.02. LinearWarmup with a `then` schedule is compared with SequentialLR([LinearLR, then]).
#include "optim/lr_scheduler.h"

#include <fstream>
#include <map>
#include <sstream>

#include "optim/sgd.h"
#include "support/helpers.h"

using namespace retort;
using namespace retort::optim;

namespace {

// name → one lr sequence per group.
std::map<std::string, std::vector<std::vector<double>>> load_schedules() {
  const std::string path = std::string(RETORT_TEST_FIXTURES) + "/optim/lr_schedules.txt";
  std::ifstream in(path);
  INFO(path);
  REQUIRE(in.good());
  std::map<std::string, std::vector<std::vector<double>>> out;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ls(line);
    std::string name;
    std::size_t group = 0;
    ls >> name >> group;
    auto& seqs = out[name];
    seqs.resize(std::max(seqs.size(), group + 1));
    for (double v; ls >> v;) seqs[group].push_back(v);
  }
  return out;
}

using MakeScheduler = std::function<std::unique_ptr<LRScheduler>(Optimizer&)>;

std::map<std::string, MakeScheduler> schedulers() {
  return {
      {"step", [](Optimizer& o) { return std::make_unique<StepLR>(o, 7, 0.5); }},
      {"multistep", [](Optimizer& o) { return std::make_unique<MultiStepLR>(o, std::vector<std::int64_t>{12, 5, 20}, 0.3); }},
      {"cosine", [](Optimizer& o) { return std::make_unique<CosineAnnealingLR>(o, 10, 1e-3); }},
      {"cosine_nomin", [](Optimizer& o) { return std::make_unique<CosineAnnealingLR>(o, 25); }},
      {"warmup", [](Optimizer& o) { return std::make_unique<LinearWarmup>(o, 0.1, 5); }},
      {"warmup_cosine",
       [](Optimizer& o) {
         return std::make_unique<LinearWarmup>(o, 0.1, 5, std::make_unique<CosineAnnealingLR>(o, 20, 1e-4));
       }},
      {"warmup_step",
       [](Optimizer& o) { return std::make_unique<LinearWarmup>(o, 0.25, 4, std::make_unique<StepLR>(o, 6, 0.5)); }},
  };
}

}  // namespace

TEST_CASE("LR schedules match PyTorch for 30 steps", "[optim][lr_scheduler]") {
  const auto expected = load_schedules();
  const auto makers = schedulers();
  REQUIRE(expected.size() == makers.size());
  for (const auto& [name, make] : makers) {
    INFO(name);
    REQUIRE(expected.count(name) == 1);
    const auto& seqs = expected.at(name);
    REQUIRE(seqs.size() == 2);
    Tensor p = zeros({1}, kFloat64), q = zeros({1}, kFloat64);
    SGD opt({{.params = {p}}, {.params = {q}, .lr = 0.02}}, {.lr = 0.1});
    auto sched = make(opt);
    for (std::int64_t e = 0; e <= 30; ++e) {
      if (e > 0) {
        opt.step();
        sched->step();
      }
      REQUIRE(sched->last_epoch() == e);
      const auto lrs = sched->last_lr();
      for (std::size_t g = 0; g < 2; ++g) {
        INFO("epoch " << e << " group " << g);
        const double want = seqs[g][static_cast<std::size_t>(e)];
        REQUIRE(*opt.param_groups()[g].lr == Approx(want).epsilon(1e-12).margin(1e-15));
        REQUIRE(lrs[g] == *opt.param_groups()[g].lr);
      }
    }
  }
}

TEST_CASE("Schedulers share the groups' initial lr and drive the optimiser's steps", "[optim][lr_scheduler]") {
  Tensor p = zeros({1}, kFloat64);
  SGD opt({p}, {.lr = 1.0});
  auto first = std::make_unique<StepLR>(opt, 1, 0.5);
  REQUIRE(opt.param_groups()[0].initial_lr == 1.0);
  first->step();
  REQUIRE(opt.lr() == 0.5);
  // A second scheduler made now still sees base lr 1.0 (PyTorch's initial_lr), not the current 0.5.
  CosineAnnealingLR cosine(opt, 4);
  REQUIRE(cosine.base_lrs() == std::vector<double>{1.0});
  REQUIRE(opt.lr() == 1.0);
  cosine.step();  // (1 + cos(π/4))/2
  REQUIRE(opt.lr() == Approx(0.8535533905932737).epsilon(1e-15));

  // The lr the scheduler writes is the one the next update uses: p ← p − lr·g.
  p.set_grad(ones({1}, kFloat64));
  opt.step();
  REQUIRE(p.item<double>() == Approx(-0.8535533905932737).epsilon(1e-15));
}

TEST_CASE("LinearWarmup without a follow-up stays at the base lr", "[optim][lr_scheduler]") {
  Tensor p = zeros({1}, kFloat32);
  SGD opt({p}, {.lr = 0.4});
  LinearWarmup warm(opt, 0.5, 2);
  REQUIRE(opt.lr() == Approx(0.2));
  warm.step();
  REQUIRE(opt.lr() == Approx(0.3));
  for (int i = 0; i < 5; ++i) warm.step();
  REQUIRE(opt.lr() == 0.4);
  REQUIRE(warm.lr_at(0.4, 1) == Approx(0.3));
}

TEST_CASE("LR scheduler argument errors name the schedule", "[optim][lr_scheduler]") {
  Tensor p = zeros({1}, kFloat32), q = zeros({1}, kFloat32);
  SGD opt({p}, {.lr = 0.1});
  SGD other({q}, {.lr = 0.1});
  REQUIRE_THROWS_WITH(StepLR(opt, 0), Catch::Contains("StepLR") && Catch::Contains("step_size"));
  REQUIRE_THROWS_WITH(CosineAnnealingLR(opt, 0), Catch::Contains("CosineAnnealingLR") && Catch::Contains("T_max"));
  REQUIRE_THROWS_WITH(LinearWarmup(opt, 0.0, 5), Catch::Contains("LinearWarmup") && Catch::Contains("start_factor"));
  REQUIRE_THROWS_WITH(LinearWarmup(opt, 0.5, -1), Catch::Contains("warmup_steps"));
  REQUIRE_THROWS_WITH(LinearWarmup(opt, 0.5, 3, std::make_unique<StepLR>(other, 2)),
                      Catch::Contains("LinearWarmup") && Catch::Contains("different optimiser"));
  StepLR sched(opt, 2);
  Tensor r = zeros({1}, kFloat32);
  opt.add_param_group({.params = {r}});
  REQUIRE_THROWS_WITH(sched.step(), Catch::Contains("parameter groups"));
}
