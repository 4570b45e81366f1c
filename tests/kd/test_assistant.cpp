// Teacher-assistant chains (kd/assistant.h): the stage loss equals (1 − λ)·CE + λ·T²·KL computed
// by hand (batchmean, and the TAKD code's torch 'mean'), a one-stage chain is a plain Distiller
// run step for step, a two-stage chain equals training the assistant by hand and then the student
// from it, scores and step counts are recorded per epoch, and bad chains are refused.
#include <catch2/catch.hpp>

#include <cmath>

#include "autograd/ops/elementwise.h"
#include "autograd/ops/nn_ops.h"
#include "autograd/ops/reduce.h"
#include "kd/assistant.h"
#include "nn/basic.h"
#include "nn/functional.h"
#include "nn/linear.h"
#include "optim/sgd.h"
#include "support/helpers.h"
#include "tensor/random.h"

using namespace retort;
using retort::testing::random_tensor;
namespace F = retort::nn::functional;

namespace {

// A float64 MLP 4 → hidden → 3 whose initial weights depend only on `seed`.
std::shared_ptr<nn::Module> mlp(std::int64_t hidden, std::uint64_t seed) {
  manual_seed(seed);
  auto m = std::make_shared<nn::Sequential>(std::initializer_list<std::shared_ptr<nn::Module>>{
      std::make_shared<nn::Linear>(4, hidden), std::make_shared<nn::ReLU>(),
      std::make_shared<nn::Linear>(hidden, 3)});
  m->to(kFloat64);
  return m;
}

// Two fixed batches of 6 samples: x [6, 4], y [6] with indices 0–5 and 6–11.
std::vector<kd::ChainBatch> batches() {
  std::vector<kd::ChainBatch> b;
  for (int i = 0; i < 2; ++i) {
    Tensor x = random_tensor({6, 4}, kFloat64, 10 + i);
    std::vector<std::int64_t> y, idx;
    for (int n = 0; n < 6; ++n) {
      y.push_back((n + i) % 3);
      idx.push_back(6 * i + n);
    }
    b.push_back({x, from_vector(y, {6}), idx});
  }
  return b;
}

double accuracy(nn::Module& m, const std::vector<kd::ChainBatch>& data) {
  double correct = 0, total = 0;
  for (const auto& b : data) {
    auto pred = argmax(m(b.x), 1).to_vector<std::int64_t>();
    auto y = b.y.to_vector<std::int64_t>();
    for (std::size_t i = 0; i < y.size(); ++i) correct += pred[i] == y[i];
    total += static_cast<double>(y.size());
  }
  return 100.0 * correct / total;
}

kd::ChainHooks hooks(const std::vector<kd::ChainBatch>& data) {
  kd::ChainHooks h;
  h.epoch = [&data](std::size_t, std::int64_t, const kd::ChainHooks::TrainFn& train) {
    for (const auto& b : data) train(b);
  };
  h.optimizer = [](nn::Module& m, std::size_t) {
    return std::make_unique<optim::SGD>(m.parameters(), optim::SGDOptions{.lr = 0.1});
  };
  h.evaluate = [&data](nn::Module& m) { return accuracy(m, data); };
  return h;
}

// Trains `student` from `teacher` by hand with a Distiller: `epochs` passes over data.
void train_by_hand(std::shared_ptr<nn::Module> student, std::shared_ptr<nn::Module> teacher,
                   const std::vector<kd::ChainBatch>& data, int epochs, const kd::ChainOptions& o) {
  kd::Distiller d(student, teacher);
  d.add_term({"ce", 1.0 - o.lambda, [](const kd::Context& c) { return F::cross_entropy(c.student_logits, c.targets); }});
  d.add_term({"kd", o.lambda, [o](const kd::Context& c) {
                return kd::kd_loss(c.student_logits, c.teacher_logits, {.T = o.T, .reduction = o.reduction});
              }});
  optim::SGD opt(student->parameters(), {.lr = 0.1});
  for (int e = 0; e < epochs; ++e)
    for (const auto& b : data) d.train_step(opt, b.x, b.y, b.indices);
}

void require_same_parameters(nn::Module& a, nn::Module& b) {
  auto pa = a.parameters(), pb = b.parameters();
  REQUIRE(pa.size() == pb.size());
  for (std::size_t i = 0; i < pa.size(); ++i) REQUIRE(testing::max_abs_diff(pa[i], pb[i]) == 0.0);
}

}  // namespace

TEST_CASE("assistant stage loss is (1 - lambda) CE + lambda T^2 KL", "[kd]") {
  auto s = mlp(5, 1), t = mlp(7, 2);
  Tensor x = random_tensor({6, 4}, kFloat64, 3);
  Tensor y = from_vector(std::vector<std::int64_t>{0, 1, 2, 2, 1, 0}, {6});
  const double T = 3.0, lambda = 0.4;
  Tensor zs = (*s)(x), zt = (*t)(x);
  Tensor p = softmax(zt / T, -1);
  Tensor kl_sum = sum(p * (log(p) - log_softmax(zs / T, -1)));
  const double ce = F::cross_entropy(zs, y).item<double>();

  SECTION("batchmean (default): KL summed over K, averaged over N") {
    kd::Distiller d = kd::make_assistant_distiller(s, t, {.T = T, .lambda = lambda});
    const double want = (1 - lambda) * ce + lambda * T * T * kl_sum.item<double>() / 6.0;
    REQUIRE(d.step(x, y).total_value() == Approx(want).epsilon(1e-12));
  }
  SECTION("the TAKD code's torch KLDivLoss 'mean': averaged over N·K") {
    kd::Distiller d = kd::make_assistant_distiller(s, t, {.T = T, .lambda = lambda, .reduction = kd::Reduction::Mean});
    const double want = (1 - lambda) * ce + lambda * T * T * kl_sum.item<double>() / 18.0;
    REQUIRE(d.step(x, y).total_value() == Approx(want).epsilon(1e-12));
  }
}

TEST_CASE("a one-stage chain is a plain Distiller run", "[kd]") {
  auto data = batches();
  auto teacher = mlp(8, 5);
  const kd::ChainOptions o{.T = 2.0, .lambda = 0.5, .cache_teacher = true};
  auto results = kd::run_assistant_chain(teacher, {{"student", [] { return mlp(4, 7); }, 3}}, hooks(data), o);
  REQUIRE(results.size() == 1);

  auto by_hand = mlp(4, 7);
  train_by_hand(by_hand, teacher, data, 3, o);
  require_same_parameters(*results[0].model, *by_hand);
  REQUIRE(results[0].steps == 6);
  REQUIRE(results[0].epoch_scores.size() == 3);
  REQUIRE(results[0].score == results[0].epoch_scores.back());
  REQUIRE(results[0].score == accuracy(*by_hand, data));
  REQUIRE(results[0].params == by_hand->num_parameters());
}

TEST_CASE("a two-stage chain trains the assistant, then the student from the assistant", "[kd]") {
  auto data = batches();
  auto teacher = mlp(16, 5);
  const kd::ChainOptions o{.T = 4.0, .lambda = 0.3};
  std::vector<kd::ChainStage> stages{{"assistant", [] { return mlp(8, 11); }, 2},
                                     {"student", [] { return mlp(3, 12); }, 3}};
  std::vector<std::pair<std::size_t, std::int64_t>> epochs_seen;
  std::int64_t steps_seen = 0;
  kd::ChainHooks h = hooks(data);
  h.on_epoch = [&](std::size_t k, std::int64_t e, double) { epochs_seen.push_back({k, e}); };
  h.on_step = [&](const kd::ChainStep& s) {
    REQUIRE(s.batch == steps_seen % 2);
    REQUIRE(std::isfinite(s.result->total_value()));
    ++steps_seen;
  };
  auto results = kd::run_assistant_chain(teacher, stages, h, o);
  REQUIRE(results.size() == 2);
  REQUIRE(results[0].name == "assistant");
  REQUIRE(results[1].steps == 6);
  REQUIRE(steps_seen == 10);
  REQUIRE(epochs_seen == std::vector<std::pair<std::size_t, std::int64_t>>{{0, 0}, {0, 1}, {1, 0}, {1, 1}, {1, 2}});

  auto assistant = mlp(8, 11), student = mlp(3, 12);
  train_by_hand(assistant, teacher, data, 2, o);
  train_by_hand(student, assistant, data, 3, o);
  require_same_parameters(*results[0].model, *assistant);
  require_same_parameters(*results[1].model, *student);
  // The assistant was the student's teacher: frozen by that Distiller.
  for (auto& p : results[0].model->parameters()) REQUIRE_FALSE(p.requires_grad());
  // The chain differs from distilling the student straight from the teacher.
  auto direct = mlp(3, 12);
  train_by_hand(direct, teacher, data, 3, o);
  REQUIRE(testing::max_abs_diff(direct->parameters()[0], student->parameters()[0]) > 0.0);
}

TEST_CASE("a chain learns a separable problem", "[kd]") {
  // Labels are the argmax of a fixed linear map: a teacher trained on them with CE, then a
  // chain teacher → assistant → student, each scored on the same data.
  std::vector<kd::ChainBatch> data;
  Tensor w = random_tensor({4, 3}, kFloat64, 40);
  for (int i = 0; i < 4; ++i) {
    Tensor x = random_tensor({16, 4}, kFloat64, 41 + i);
    std::vector<std::int64_t> idx;
    for (int n = 0; n < 16; ++n) idx.push_back(16 * i + n);
    data.push_back({x, argmax(matmul(x, w), 1), idx});
  }
  auto teacher = mlp(32, 3);
  optim::SGD opt(teacher->parameters(), {.lr = 0.1});
  for (int e = 0; e < 60; ++e)
    for (const auto& b : data) {
      opt.zero_grad();
      F::cross_entropy((*teacher)(b.x), b.y).backward();
      opt.step();
    }
  REQUIRE(accuracy(*teacher, data) >= 90.0);
  auto results = kd::run_assistant_chain(
      teacher, {{"assistant", [] { return mlp(16, 4); }, 40}, {"student", [] { return mlp(8, 5); }, 40}},
      hooks(data), {.T = 2.0, .lambda = 0.5, .cache_teacher = true});
  REQUIRE(results[0].score >= 85.0);
  REQUIRE(results[1].score >= 85.0);
  REQUIRE(results[1].epoch_scores.front() < results[1].score);
}

TEST_CASE("bad chains are refused with the stage named", "[kd]") {
  auto data = batches();
  auto teacher = mlp(8, 5);
  auto make = [] { return mlp(4, 7); };
  REQUIRE_THROWS_WITH(kd::run_assistant_chain(teacher, {}, hooks(data)), Catch::Contains("no stages"));
  REQUIRE_THROWS_WITH(kd::run_assistant_chain(nullptr, {{"s", make, 1}}, hooks(data)),
                      Catch::Contains("teacher is null"));
  REQUIRE_THROWS_WITH(kd::run_assistant_chain(teacher, {{"a", make, 1}, {"s", make, 0}}, hooks(data)),
                      Catch::Contains("stage 1 's' needs epochs >= 1, got 0"));
  REQUIRE_THROWS_WITH(kd::run_assistant_chain(teacher, {{"a", nullptr, 1}}, hooks(data)),
                      Catch::Contains("stage 0 'a' has no factory"));
  REQUIRE_THROWS_WITH(kd::run_assistant_chain(teacher, {{"s", make, 1}}, hooks(data), {.lambda = 1.5}),
                      Catch::Contains("lambda must be in [0, 1], got 1.5"));
  REQUIRE_THROWS_WITH(kd::run_assistant_chain(teacher, {{"s", make, 1}}, hooks(data), {.T = 0.0}),
                      Catch::Contains("T must be > 0"));
  kd::ChainHooks h = hooks(data);
  h.evaluate = nullptr;
  REQUIRE_THROWS_WITH(kd::run_assistant_chain(teacher, {{"s", make, 1}}, h), Catch::Contains("hooks are required"));
  h = hooks(data);
  h.epoch = [](std::size_t, std::int64_t, const kd::ChainHooks::TrainFn&) {};
  REQUIRE_THROWS_WITH(kd::run_assistant_chain(teacher, {{"s", make, 1}}, h),
                      Catch::Contains("stage 0 's' epoch 0 had no batches"));
  REQUIRE_THROWS_WITH(kd::run_assistant_chain(teacher, {{"s", [] { return std::shared_ptr<nn::Module>(); }, 1}}, hooks(data)),
                      Catch::Contains("returned null"));
}
