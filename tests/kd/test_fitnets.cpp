// Two-stage FitNets (kd/fitnets.h): stage 1 selects the parameters at or before the guided layer
// in forward order, trains only them and the regressor (the later layers — parameters and
// BatchNorm buffers — stay bit-identical), the hint loss falls, explicit parameter lists, errors,
// and stage 2 as an ordinary Distiller run from the stage-1 weights.
#include <catch2/catch.hpp>

#include "kd/distiller.h"
#include "kd/fitnets.h"
#include "kd/response.h"
#include "nn/basic.h"
#include "nn/batchnorm.h"
#include "nn/functional.h"
#include "nn/linear.h"
#include "nn/models.h"
#include "optim/sgd.h"
#include "support/helpers.h"
#include "tensor/random.h"

using namespace retort;
using retort::testing::random_tensor;

namespace {

std::shared_ptr<nn::Sequential> student_mlp() {
  auto m =
      nn::make_sequential(std::make_shared<nn::Linear>(4, 8), std::make_shared<nn::ReLU>(),
                          std::make_shared<nn::Linear>(8, 6), std::make_shared<nn::ReLU>(),
                          std::make_shared<nn::Linear>(6, 6), std::make_shared<nn::BatchNorm1d>(6),
                          std::make_shared<nn::Linear>(6, 3));
  m->to(kFloat64);
  return m;
}

std::shared_ptr<nn::Sequential> teacher_mlp() {
  auto m = nn::make_sequential(std::make_shared<nn::Linear>(4, 10), std::make_shared<nn::ReLU>(),
                               std::make_shared<nn::Linear>(10, 5), std::make_shared<nn::ReLU>(),
                               std::make_shared<nn::Linear>(5, 3));
  m->to(kFloat64);
  return m;
}

// Every parameter and buffer by name, cloned.
std::map<std::string, Tensor> snapshot(const nn::Module& m) {
  std::map<std::string, Tensor> out;
  for (auto& [n, t] : m.named_parameters()) out[n] = t.clone();
  for (auto& [n, t] : m.named_buffers()) out[n] = t.clone();
  return out;
}

double changed(const nn::Module& m, const std::map<std::string, Tensor>& before,
               const std::string& name) {
  for (auto& [n, t] : m.named_parameters())
    if (n == name) return testing::max_abs_diff(t, before.at(n));
  for (auto& [n, t] : m.named_buffers())
    if (n == name) return testing::max_abs_diff(t.to(kFloat64), before.at(n).to(kFloat64));
  FAIL("no tensor " << name);
  return 0;
}

}  // namespace

TEST_CASE("FitNets stage 1 trains the layers up to the guided one only", "[kd]") {
  manual_seed(1);
  auto s = student_mlp(), t = teacher_mlp();
  Tensor x = random_tensor({16, 4}, kFloat64, 2);
  kd::FitNetsStage1 s1(s, "2", t, "2", x, kd::HintKind::Linear);
  REQUIRE(s1.student_parameter_names() ==
          std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias"});
  REQUIRE(s1.regressor().linear->weight.sizes() == Shape{5, 6});
  REQUIRE(s1.parameters().size() == 6);

  optim::SGD opt(s1.parameters(), {.lr = 0.05, .momentum = 0.9});
  s->train();
  auto before = snapshot(*s);
  auto teacher_before = snapshot(*t);
  Tensor reg_before = s1.regressor().linear->weight.clone();
  std::vector<double> losses{s1.step(opt, x)};
  for (const char* n : {"4.weight", "4.bias", "5.weight", "5.bias", "5.running_mean",
                        "5.running_var", "5.num_batches_tracked", "6.weight", "6.bias"}) {
    INFO("after the guided layer: " << n);
    REQUIRE(changed(*s, before, n) == 0.0);
  }
  for (const char* n : {"0.weight", "0.bias", "2.weight", "2.bias"}) {
    INFO("up to the guided layer: " << n);
    REQUIRE(changed(*s, before, n) > 0.0);
  }
  REQUIRE(testing::max_abs_diff(s1.regressor().linear->weight, reg_before) > 0.0);
  for (int i = 0; i < 30; ++i) losses.push_back(s1.step(opt, x));
  INFO("hint loss " << losses.front() << " -> " << losses.back());
  REQUIRE(losses[1] < losses[0]);
  REQUIRE(losses.back() < 0.3 * losses.front());
  for (auto& [n, v] : teacher_before) REQUIRE(changed(*t, teacher_before, n) == 0.0);
  for (auto& p : t->parameters()) REQUIRE_FALSE(p.grad().defined());
  for (const char* n : {"4.weight", "6.weight"}) REQUIRE(changed(*s, before, n) == 0.0);
  for (auto& [n, p] : s->named_parameters())
    if (n[0] == '4' || n[0] == '6') REQUIRE_FALSE(p.grad().defined());

  // Stage 2: ordinary KD of the whole student from the stage-1 weights.
  kd::Distiller d(s, t);
  d.add_term({"ce", 1.0,
              [](const kd::Context& c) { return F::cross_entropy(c.student_logits, c.targets); }});
  d.add_term({"kd", 1.0, [](const kd::Context& c) {
                return kd::kd_loss(c.student_logits, c.teacher_logits, {.T = 4.0});
              }});
  optim::SGD opt2(s->parameters(), {.lr = 0.05});
  auto mid = snapshot(*s);
  d.train_step(opt2, x, from_vector(std::vector<std::int64_t>(16, 1), {16}));
  REQUIRE(changed(*s, mid, "6.weight") > 0.0);
}

TEST_CASE("FitNets stage 1 on the seed nets and with an explicit parameter list", "[kd]") {
  manual_seed(2);
  auto s = std::make_shared<nn::StudentNet>(1, 10, 8);
  auto t = std::make_shared<nn::TeacherNet>(1, 10, 8);
  Tensor x = random_tensor({4, 1, 8, 8}, kFloat32, 3);
  kd::FitNetsStage1 s1(s, "features.2", t, "features.4", x);  // [4,16,4,4] → [4,64,4,4]
  REQUIRE(s1.student_parameter_names() ==
          std::vector<std::string>{"features.0.weight", "features.0.bias"});
  REQUIRE(s1.regressor().conv->weight.sizes() == Shape{64, 16, 1, 1});
  optim::SGD opt(s1.parameters(), {.lr = 0.01});
  auto before = snapshot(*s);
  s1.step(opt, x);
  REQUIRE(changed(*s, before, "features.0.weight") > 0.0);
  for (const char* n : {"features.3.weight", "classifier.0.weight", "classifier.3.bias"})
    REQUIRE(changed(*s, before, n) == 0.0);

  auto m = student_mlp(), tm = teacher_mlp();
  Tensor xm = random_tensor({8, 4}, kFloat64, 4);
  auto mlp_params = m->named_parameters();
  kd::FitNetsStage1 only2(m, "2", tm, "2", xm, {mlp_params[2].second, mlp_params[3].second},
                          kd::HintKind::Linear);
  REQUIRE(only2.student_parameter_names() == std::vector<std::string>{"2.weight", "2.bias"});
  optim::SGD opt2(only2.parameters(), {.lr = 0.05});
  auto b2 = snapshot(*m);
  only2.step(opt2, xm);
  REQUIRE(changed(*m, b2, "0.weight") == 0.0);
  REQUIRE(changed(*m, b2, "2.weight") > 0.0);

  REQUIRE_THROWS_WITH(
      kd::FitNetsStage1(m, "2", tm, "2", xm, {zeros({3}, kFloat64)}, kd::HintKind::Linear),
      Catch::Contains("not a parameter of the student"));
  REQUIRE_THROWS_WITH(kd::FitNetsStage1(m, "9", tm, "2", xm, kd::HintKind::Linear),
                      Catch::Contains("'9'"));
  REQUIRE_THROWS_WITH(
      kd::FitNetsStage1(m, "2", tm, "2", xm, kd::HintKind::Conv1x1),
      Catch::Contains("HintRegressor") && Catch::Contains("[8,6]") && Catch::Contains("[8,5]"));
}
