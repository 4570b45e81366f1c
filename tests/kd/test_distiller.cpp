// Distiller (kd/distiller.h): the total equals Σ λ_j·ℓ_j against losses computed by hand, student
// gradients equal a manual backward, no gradient reaches a teacher parameter, warm-up schedules,
// feature taps in the Context, the teacher-output cache, multi-teacher averaging, train_step.
#include <catch2/catch.hpp>

#include <cmath>

#include "autograd/grad_mode.h"
#include "kd/distiller.h"
#include "kd/feature.h"
#include "kd/response.h"
#include "nn/basic.h"
#include "autograd/ops/elementwise.h"
#include "autograd/ops/index.h"
#include "autograd/ops/reduce.h"
#include "nn/functional.h"
#include "nn/linear.h"
#include "nn/models.h"
#include "optim/sgd.h"
#include "support/helpers.h"

using namespace retort;
using retort::testing::random_tensor;
namespace F = retort::nn::functional;

namespace {

std::shared_ptr<nn::Sequential> mlp(std::int64_t hidden) {
  auto m = std::make_shared<nn::Sequential>(std::initializer_list<std::shared_ptr<nn::Module>>{
      std::make_shared<nn::Linear>(4, hidden), std::make_shared<nn::ReLU>(),
      std::make_shared<nn::Linear>(hidden, 3)});
  m->to(kFloat64);
  return m;
}

Tensor labels() { return from_vector(std::vector<std::int64_t>{0, 2, 1, 2, 0}, {5}); }

kd::Term ce_term() {
  return {"ce", 1.0, [](const kd::Context& c) { return F::cross_entropy(c.student_logits, c.targets); }};
}
kd::Term kd_term(double w) {
  return {"kd", w, [](const kd::Context& c) { return kd::kd_loss(c.student_logits, c.teacher_logits, {.T = 2.0}); }};
}

}  // namespace

TEST_CASE("Distiller total and student gradients equal the hand-computed loss", "[kd]") {
  auto s = mlp(6), t = mlp(8);
  kd::Distiller d(s, t);
  d.add_term(ce_term());
  d.add_term(kd_term(0.7));
  Tensor x = random_tensor({5, 4}, kFloat64, 1), y = labels();

  kd::StepResult r = d.step(x, y);
  r.total.backward();
  std::vector<Tensor> got;
  for (auto& p : s->parameters()) got.push_back(p.grad().clone());

  // No gradient reaches any teacher parameter; the teacher is frozen and in eval mode.
  for (auto& [name, p] : t->named_parameters()) {
    INFO(name);
    REQUIRE_FALSE(p.requires_grad());
    REQUIRE_FALSE(p.grad().defined());
  }
  REQUIRE_FALSE(t->is_training());
  REQUIRE_FALSE(r.teacher_logits.requires_grad());

  s->zero_grad();
  Tensor tl;
  {
    NoGradGuard g;
    tl = (*t)(x);
  }
  Tensor sl = (*s)(x);
  Tensor ce = F::cross_entropy(sl, y), k = kd::kd_loss(sl, tl, {.T = 2.0});
  Tensor manual = ce + k * 0.7;
  manual.backward();
  REQUIRE(r.names == std::vector<std::string>{"ce", "kd"});
  REQUIRE(r.values[0] == Approx(ce.item<double>()).epsilon(1e-12));
  REQUIRE(r.values[1] == Approx(k.item<double>()).epsilon(1e-12));
  REQUIRE(r.weights == std::vector<double>{1.0, 0.7});
  REQUIRE(r.total_value() == Approx(manual.item<double>()).epsilon(1e-12));
  auto ps = s->parameters();
  for (std::size_t i = 0; i < ps.size(); ++i) REQUIRE_ALLCLOSE(got[i], ps[i].grad(), 1e-12, 1e-10);
}

TEST_CASE("Distiller applies per-step weight schedules (DKD warm-up)", "[kd]") {
  auto s = mlp(6), t = mlp(8);
  kd::Distiller d(s, t);
  d.add_term(ce_term());
  d.add_term({"dkd", 2.0,
              [](const kd::Context& c) { return kd::dkd_loss(c.student_logits, c.teacher_logits, c.targets); },
              kd::linear_warmup(4)});
  Tensor x = random_tensor({5, 4}, kFloat64, 2), y = labels();
  // mdistiller's min(epoch / warmup, 1) with epochs from 1: 1/4 of the weight at the first step.
  std::vector<double> expect{0.5, 1.0, 1.5, 2.0, 2.0, 2.0};
  for (std::size_t i = 0; i < expect.size(); ++i) {
    auto r = d.step(x, y);
    REQUIRE(r.step == static_cast<std::int64_t>(i));
    REQUIRE(r.weights[1] == Approx(expect[i]));
    REQUIRE(r.total_value() == Approx(r.values[0] + expect[i] * r.values[1]).epsilon(1e-12));
  }
  d.set_step(1);
  REQUIRE(d.step(x, y).weights[1] == Approx(1.0));
  REQUIRE_THROWS_WITH(kd::linear_warmup(0), Catch::Contains("linear_warmup"));
}

TEST_CASE("Distiller passes tapped student and teacher features to the terms", "[kd]") {
  auto s = std::make_shared<nn::StudentNet>(1, 10, 8);
  auto t = std::make_shared<nn::TeacherNet>(1, 10, 8);
  kd::Distiller d(s, t);
  d.add_student_tap("features.5");
  d.add_teacher_tap("features.9");
  Tensor fs_seen, ft_seen;
  d.add_term({"at", 1.0, [&](const kd::Context& c) {
                fs_seen = c.student("features.5");
                ft_seen = c.teacher("features.9");
                return kd::at_loss(fs_seen, ft_seen);
              }});
  Tensor x = random_tensor({2, 1, 8, 8}, kFloat32, 3);
  auto r = d.step(x, from_vector(std::vector<std::int64_t>{1, 3}, {2}));
  REQUIRE(fs_seen.sizes() == Shape{2, 16, 2, 2});
  REQUIRE(ft_seen.sizes() == Shape{2, 32, 2, 2});
  REQUIRE(fs_seen.requires_grad());
  REQUIRE_FALSE(ft_seen.requires_grad());
  r.total.backward();
  for (auto& [name, p] : t->named_parameters()) {
    INFO(name);
    REQUIRE_FALSE(p.grad().defined());
  }
  REQUIRE(s->features->parameters()[0].grad().defined());

  kd::Distiller bad(s, t);
  bad.add_term({"x", 1.0, [](const kd::Context& c) { return sum(c.student("nope")); }});
  REQUIRE_THROWS_WITH(bad.step(x, from_vector(std::vector<std::int64_t>{1, 3}, {2})),
                      Catch::Contains("no student tap 'nope'"));
}

TEST_CASE("Distiller teacher cache skips the teacher forward and is exact", "[kd]") {
  auto s = mlp(6), t = mlp(8);
  int calls = 0;
  auto hook = t->register_forward_hook([&](const nn::Module&, const Tensor&, const Tensor&) { ++calls; });
  kd::Distiller d(s, t);
  d.add_term(kd_term(1.0));
  d.enable_teacher_cache();
  Tensor x = random_tensor({5, 4}, kFloat64, 4), y = labels();
  std::vector<std::int64_t> idx{10, 11, 12, 13, 14};
  auto r1 = d.step(x, y, idx);
  REQUIRE(calls == 1);
  REQUIRE_FALSE(r1.teacher_from_cache);
  REQUIRE(d.teacher_cache_size() == 5);
  auto r2 = d.step(x, y, idx);
  REQUIRE(calls == 1);
  REQUIRE(r2.teacher_from_cache);
  REQUIRE(testing::max_abs_diff(r1.teacher_logits, r2.teacher_logits) == 0.0);
  // A permuted batch reads the rows by sample index.
  Tensor xp = index_select(x, 0, from_vector(std::vector<std::int64_t>{4, 3, 2, 1, 0}, {5}));
  auto r3 = d.step(xp, y, {14, 13, 12, 11, 10});
  REQUIRE(calls == 1);
  NoGradGuard g;
  REQUIRE_ALLCLOSE(r3.teacher_logits, (*t)(xp), 0.0, 0.0);
  // One unknown index: a real forward.
  calls = 0;
  d.step(x, y, {10, 11, 12, 13, 99});
  REQUIRE(calls == 1);
  REQUIRE_THROWS_WITH(d.step(x, y, {1, 2}), Catch::Contains("sample indices"));
}

TEST_CASE("Distiller averages several teachers with weights", "[kd]") {
  auto s = mlp(6), t1 = mlp(8), t2 = mlp(5);
  kd::Distiller d(s, {t1, t2}, {1.0, 3.0});
  d.add_term(kd_term(1.0));
  Tensor x = random_tensor({5, 4}, kFloat64, 5);
  auto r = d.step(x, labels());
  NoGradGuard g;
  Tensor expect = ((*t1)(x) * 1.0 + (*t2)(x) * 3.0) / 4.0;
  REQUIRE_ALLCLOSE(r.teacher_logits, expect, 1e-14, 1e-12);
  REQUIRE_THROWS_WITH(kd::Distiller(s, {t1, t2}, {1.0}), Catch::Contains("teacher weights"));
}

TEST_CASE("Distiller sums per-teacher terms with normalised weights, cached or not", "[kd]") {
  auto s = mlp(6), t1 = mlp(8), t2 = mlp(5);
  kd::Distiller d(s, {t1, t2}, {1.0, 3.0});
  d.add_term({"kd_each", 1.0, [](const kd::Context& c) {
                return kd::sum_over_teachers(c, [&](const Tensor& t) { return kd::kd_loss(c.student_logits, t, {.T = 2.0}); });
              }});
  d.enable_teacher_cache();
  Tensor x = random_tensor({5, 4}, kFloat64, 7), y = labels();
  std::vector<std::int64_t> idx{0, 1, 2, 3, 4};
  auto r1 = d.step(x, y, idx);
  Tensor l1, l2;
  {
    NoGradGuard g;
    Tensor z = (*s)(x);
    l1 = kd::kd_loss(z, (*t1)(x), {.T = 2.0});
    l2 = kd::kd_loss(z, (*t2)(x), {.T = 2.0});
  }
  const double expect = 0.25 * l1.item<double>() + 0.75 * l2.item<double>();
  REQUIRE(r1.values[0] == Approx(expect).epsilon(1e-13));
  // Not the same as KD against the averaged logits (KL is not linear in the teacher's logits).
  double averaged = kd::kd_loss(r1.student_logits, r1.teacher_logits, {.T = 2.0}).item<double>();
  REQUIRE(std::abs(averaged - expect) > 1e-6);
  // The second step reads every teacher's rows from the cache: same values, bit for bit.
  auto r2 = d.step(x, y, idx);
  REQUIRE(r2.teacher_from_cache);
  REQUIRE(r2.values[0] == r1.values[0]);
  REQUIRE(testing::max_abs_diff(r2.teacher_logits, r1.teacher_logits) == 0.0);
  // Student gradients equal the hand composition's.
  r2.total.backward();
  std::vector<Tensor> g_distiller;
  for (auto& p : s->parameters()) g_distiller.push_back(p.grad().clone());
  s->zero_grad();
  Tensor z = (*s)(x);
  {
    NoGradGuard g;
    l1 = (*t1)(x);
    l2 = (*t2)(x);
  }
  (kd::kd_loss(z, l1, {.T = 2.0}) * 0.25 + kd::kd_loss(z, l2, {.T = 2.0}) * 0.75).backward();
  auto ps = s->parameters();
  for (std::size_t i = 0; i < ps.size(); ++i) REQUIRE_ALLCLOSE(g_distiller[i], ps[i].grad(), 1e-13, 1e-11);
  kd::Context empty;
  REQUIRE_THROWS_WITH(kd::sum_over_teachers(empty, [](const Tensor& t) { return t; }),
                      Catch::Contains("sum_over_teachers"));
}

TEST_CASE("Distiller::train_step updates the student only", "[kd]") {
  auto s = mlp(6), t = mlp(8);
  kd::Distiller d(s, t);
  d.add_term(ce_term());
  d.add_term(kd_term(0.5));
  optim::SGD opt(s->parameters(), {.lr = 0.1});
  Tensor x = random_tensor({5, 4}, kFloat64, 6), y = labels();
  Tensor t0 = t->parameters()[0].clone(), s0 = s->parameters()[0].clone();
  double first = d.train_step(opt, x, y).total_value(), last = first;
  for (int i = 0; i < 30; ++i) last = d.train_step(opt, x, y).total_value();
  REQUIRE(last < first);
  REQUIRE(testing::max_abs_diff(t->parameters()[0], t0) == 0.0);
  REQUIRE(testing::max_abs_diff(s->parameters()[0], s0) > 0.0);
  REQUIRE_THROWS_WITH(d.add_term(ce_term()), Catch::Contains("duplicate term 'ce'"));
}

TEST_CASE("Distiller state: step counter and teacher cache survive a checkpoint", "[kd]") {
  auto s = mlp(6), t = mlp(8);
  kd::Distiller d(s, t);
  d.add_term(ce_term());
  d.add_term({"dkd", 1.0,
              [](const kd::Context& c) { return kd::dkd_loss(c.student_logits, c.teacher_logits, c.targets); },
              kd::linear_warmup(10)});
  d.enable_teacher_cache();
  Tensor x = random_tensor({5, 4}, kFloat64, 2), y = labels();
  const std::vector<std::int64_t> idx{4, 0, 9, 2, 7};
  for (int i = 0; i < 3; ++i) d.step(x, y, idx);
  nn::Checkpoint c;
  d.save_state(c);
  REQUIRE(c.values.at("distiller.step") == "3");
  REQUIRE(c.tensors.at("distiller.cache.index").to_vector<std::int64_t>() ==
          std::vector<std::int64_t>{0, 2, 4, 7, 9});
  REQUIRE(c.tensors.at("distiller.cache.logits").sizes() == (Shape{5, 1, 3}));
  // A fresh Distiller (its teacher's weights changed, so only the cache can give the old
  // logits) continues with the same schedule weight and the cached teacher rows.
  auto t2 = mlp(8);
  kd::Distiller e(s, t2);
  e.add_term(ce_term());
  e.add_term(d.terms()[1]);
  e.load_state(c);
  REQUIRE(e.step_count() == 3);
  REQUIRE(e.teacher_cache_size() == 5);
  kd::StepResult a = d.step(x, y, idx), b = e.step(x, y, idx);
  REQUIRE(b.teacher_from_cache);
  REQUIRE(b.weights == a.weights);
  REQUIRE(b.total_value() == a.total_value());
  // Damaged states are refused and change nothing.
  c.values["distiller.step"] = "-2";
  REQUIRE_THROWS_WITH(e.load_state(c), Catch::Contains("step '-2'"));
  REQUIRE(e.step_count() == 4);
  c.values["distiller.step"] = "1";
  c.tensors["distiller.cache.logits"] = zeros({5, 2, 3}, kFloat64);
  REQUIRE_THROWS_WITH(e.load_state(c), Catch::Contains("[M, 1, K]"));
  REQUIRE(e.teacher_cache_size() == 5);
}
