// Adversarial distillation (kd/adversarial.h) and the stable BCE it is built on (nn/functional.h):
// softplus and binary_cross_entropy_with_logits against PyTorch (values and gradients, logits up
// to ±800) and closed forms; the discriminator and student losses against a PyTorch
// transcription, also through a whole MLP discriminator loaded from PyTorch's weights; float64
// gradchecks (BCE, both losses through D, the feature input); no gradient from L_D into the
// student; D's accuracy of exactly 50% on identical inputs; alternating steps that teach D to
// separate a confident teacher from a uniform student; and the errors.
#include <catch2/catch.hpp>

#include <cmath>
#include <memory>
#include <vector>

#include "autograd/gradcheck.h"
#include "autograd/ops/elementwise.h"
#include "autograd/ops/index.h"
#include "autograd/ops/nn_ops.h"
#include "autograd/ops/reduce.h"
#include "kd/adversarial.h"
#include "kd_fixture.h"
#include "nn/functional.h"
#include "optim/adam.h"
#include "support/helpers.h"
#include "tensor/random.h"

using namespace retort;
using retort::testing::grad_leaf;
using retort::testing::random_tensor;

namespace {

const testing::KdFixture& fx() {
  static const testing::KdFixture f = testing::read_kd_fixture("adversarial.txt");
  return f;
}

// A float64 discriminator 10 → 8 → 8 → 1 holding the fixture's PyTorch weights.
std::shared_ptr<kd::Discriminator> fixture_discriminator() {
  auto d = std::make_shared<kd::Discriminator>(10, std::vector<std::int64_t>{8, 8}, TensorOptions{kFloat64});
  nn::TensorMap state;
  for (const char* k : {"net.0.weight", "net.0.bias", "net.2.weight", "net.2.bias", "net.4.weight", "net.4.bias"})
    state[k] = fx().t(k);
  d->load_state_dict(state);
  return d;
}

}  // namespace

TEST_CASE("adversarial: softplus and BCE with logits match PyTorch, stable at +-800", "[kd][adversarial]") {
  const Tensor& y = fx().t("y");
  testing::check_kd_case(fx(), "softplus_sum", [](const Tensor& x) { return sum(F::softplus(x)); }, fx().t("x"));
  testing::check_kd_case(fx(), "bce_mean", [&](const Tensor& x) { return F::binary_cross_entropy_with_logits(x, y); },
                         fx().t("x"));
  testing::check_kd_case(
      fx(), "bce_sum",
      [&](const Tensor& x) { return F::binary_cross_entropy_with_logits(x, y, F::Reduction::Sum); }, fx().t("x"));
  // Closed forms at the extremes, elementwise: softplus(−50) = e^−50 (a naive log(1 + e^x) gives
  // 0), softplus(800) = 800 (a naive form gives inf), also in float32.
  std::vector<double> sp = F::softplus(from_vector(std::vector<double>{-50, 800, 0}, {3}, kFloat64)).to_vector<double>();
  CHECK(sp[0] == Approx(std::exp(-50.0)).epsilon(1e-12));
  CHECK(sp[1] == 800.0);
  CHECK(sp[2] == Approx(std::log(2.0)).epsilon(1e-15));
  // Against std::log1p(std::exp(x)) over the whole range, both sides of the series switch.
  std::vector<double> grid;
  for (double v = -60; v <= 60; v += 0.37) grid.push_back(v);
  std::vector<double> got = F::softplus(from_vector(grid, {static_cast<std::int64_t>(grid.size())}, kFloat64))
                                .to_vector<double>();
  for (std::size_t i = 0; i < grid.size(); ++i) {
    INFO("x = " << grid[i]);
    CHECK(got[i] == Approx(std::log1p(std::exp(grid[i]))).epsilon(1e-12).margin(0));
  }
  Tensor big = from_vector(std::vector<float>{-800.f, 800.f}, {2});
  std::vector<float> b32 = F::binary_cross_entropy_with_logits(big, from_vector(std::vector<float>{1.f, 0.f}, {2}),
                                                               F::Reduction::None)
                               .to_vector<float>();
  CHECK(b32[0] == 800.f);
  CHECK(b32[1] == 800.f);
}

TEST_CASE("adversarial: BCE with logits gradcheck, no gradient into the target, shape errors", "[kd][adversarial]") {
  Tensor target = clamp(abs(random_tensor({4, 3}, kFloat64, 7)), 0, 1);  // probabilities
  const std::vector<Tensor> logits{grad_leaf({4, 3}, 1)}, wide{grad_leaf({7}, 2)};
  REQUIRE_GRADCHECK([&](const std::vector<Tensor>& x) { return F::binary_cross_entropy_with_logits(x[0] * 3.0, target); },
                    logits);
  REQUIRE_GRADCHECK([](const std::vector<Tensor>& x) { return F::softplus(x[0] * 5.0); }, wide);
  Tensor x = grad_leaf({4, 3}, 3), t = target.clone().set_requires_grad(true);
  F::binary_cross_entropy_with_logits(x, t).backward();
  CHECK(x.grad().defined());
  CHECK_FALSE(t.grad().defined());
  CHECK_THROWS_WITH(F::binary_cross_entropy_with_logits(x, zeros({4, 2}, kFloat64)),
                    Catch::Contains("binary_cross_entropy_with_logits: input [4,3] and target [4,2]"));
  CHECK_THROWS_WITH(F::binary_cross_entropy_with_logits(x, zeros({4, 3}, kInt64)),
                    Catch::Contains("class indices"));
}

TEST_CASE("adversarial: discriminator and student losses match PyTorch", "[kd][adversarial]") {
  const Tensor &dt = fx().t("d_t"), &ds = fx().t("d_s");
  testing::check_kd_case(fx(), "d_loss_wrt_student",
                         [&](const Tensor& s) { return kd::discriminator_loss_from_logits(dt, s); }, ds);
  testing::check_kd_case(fx(), "d_loss_wrt_teacher",
                         [&](const Tensor& t) { return kd::discriminator_loss_from_logits(t, ds); }, dt);
  testing::check_kd_case(fx(), "adv_loss", [](const Tensor& s) { return kd::adversarial_loss_from_logits(s); }, ds);
  // At D ≡ 0 both losses are log 2.
  Tensor z = zeros({5}, kFloat64);
  CHECK(kd::discriminator_loss_from_logits(z, z).item<double>() == Approx(std::log(2.0)).epsilon(1e-14));
  CHECK(kd::adversarial_loss_from_logits(z).item<double>() == Approx(std::log(2.0)).epsilon(1e-14));
}

TEST_CASE("adversarial: an MLP discriminator with PyTorch's weights gives PyTorch's losses", "[kd][adversarial]") {
  auto d = fixture_discriminator();
  const Tensor &zt = fx().t("z_t"), &zs = fx().t("z_s");
  const double T = 2.0;
  REQUIRE_ALLCLOSE((*d)(kd::discriminator_input(zt, Tensor(), T)), fx().t("mlp_d_t"), 1e-12, 1e-10);
  REQUIRE_ALLCLOSE((*d)(kd::discriminator_input(zs, Tensor(), T)), fx().t("mlp_d_s"), 1e-12, 1e-10);
  testing::check_kd_case(
      fx(), "mlp_adv_loss",
      [&](const Tensor& s) { return kd::adversarial_loss(*d, kd::discriminator_input(s, Tensor(), T)); }, zs);
  // L_D's value through the module; its gradient reaches D's parameters, not the student.
  Tensor s = zs.clone().set_requires_grad(true);
  d->zero_grad();
  Tensor ld = kd::discriminator_loss(*d, kd::discriminator_input(zt, Tensor(), T), kd::discriminator_input(s, Tensor(), T));
  CHECK(ld.item<double>() == Approx(fx().cases.at("mlp_d_loss_wrt_student").first).epsilon(1e-10));
  ld.backward();
  CHECK_FALSE(s.grad().defined());
  CHECK(d->parameters()[0].grad().defined());
}

TEST_CASE("adversarial: gradchecks through the discriminator, with and without features", "[kd][adversarial]") {
  manual_seed(11);
  kd::Discriminator d(kd::discriminator_in_features(5, 4), {6, 6}, TensorOptions{kFloat64});
  Tensor ft = random_tensor({3, 4, 2, 2}, kFloat64, 21), zt = random_tensor({3, 5}, kFloat64, 22);
  auto adv = [&](const std::vector<Tensor>& x) {
    return kd::adversarial_loss(d, kd::discriminator_input(x[0], x[1], 1.5));
  };
  // Student logits [3, 5] and a student feature with other channels than the teacher's (C 3 vs 4).
  const std::vector<Tensor> student{grad_leaf({3, 5}, 23), grad_leaf({3, 3, 2, 2}, 24)};
  REQUIRE_GRADCHECK(adv, student);
  std::vector<Tensor> params = d.parameters();
  Tensor vs = kd::discriminator_input(random_tensor({3, 5}, kFloat64, 25), random_tensor({3, 3, 2, 2}, kFloat64, 26), 1.5);
  Tensor vt = kd::discriminator_input(zt, ft, 1.5);
  REQUIRE_GRADCHECK([&](const std::vector<Tensor>&) { return kd::discriminator_loss(d, vt, vs); }, params);
  REQUIRE_GRADCHECK([&](const std::vector<Tensor>&) { return kd::adversarial_loss(d, vs); }, params);
}

TEST_CASE("adversarial: D is at 50% on identical inputs, learns a confident teacher from a uniform student",
          "[kd][adversarial]") {
  manual_seed(3);
  auto d = std::make_shared<kd::Discriminator>(10, std::vector<std::int64_t>{32, 32});
  Tensor same = softmax(random_tensor({64, 10}, kFloat32, 4), 1);
  kd::DiscriminatorCounts c = kd::discriminator_counts(*d, same, same);
  CHECK(c.n == 64);
  CHECK(c.teacher_correct + c.student_correct == 64);  // D(v) > 0 and D(v) < 0 exclude each other
  CHECK(c.accuracy() == 0.5);

  auto opt = std::make_shared<optim::Adam>(d->parameters(), optim::AdamOptions{.lr = 1e-2, .beta1 = 0.5});
  kd::AdversarialKD adv(d, opt, {.T = 1.0, .d_steps = 2});
  kd::Context ctx;
  Tensor labels = randint(0, 10, {64});
  ctx.teacher_logits = one_hot(labels, 10) * 8.0;  // confident teacher
  ctx.student_logits = zeros({64, 10}).set_requires_grad(true);     // uniform student
  ctx.targets = labels;
  for (int i = 0; i < 60; ++i) adv.discriminator_step(ctx);
  CHECK(adv.stats().batches == 60);
  CHECK(adv.stats().counts.n == 60 * 64);
  kd::DiscriminatorCounts last = adv.discriminator_step(ctx);
  CHECK(last.accuracy() > 0.95);
  CHECK_FALSE(ctx.student_logits.grad().defined());  // D's steps never reach the student
  // The student's term pulls its logits: gradient defined, loss above log 2 (D rejects it).
  Tensor l = adv.term(1.0).fn(ctx);
  CHECK(l.item<double>() > std::log(2.0));
  l.backward();
  CHECK(ctx.student_logits.grad().defined());
  adv.reset_stats();
  CHECK(adv.stats().batches == 0);
}

TEST_CASE("adversarial: errors name the shapes and options", "[kd][adversarial]") {
  kd::Discriminator d(10);
  CHECK_THROWS_WITH(d(zeros({4, 9})), Catch::Contains("Discriminator: input [4,9] must be [N, 10]"));
  CHECK_THROWS_WITH(kd::Discriminator(0), Catch::Contains("in_features must be > 0"));
  CHECK_THROWS_WITH(kd::Discriminator(4, {}), Catch::Contains("at least one hidden layer"));
  CHECK_THROWS_WITH(kd::discriminator_loss(d, zeros({4, 10}), zeros({3, 10})),
                    Catch::Contains("discriminator_loss: teacher input [4,10] and student input [3,10]"));
  CHECK_THROWS_WITH(kd::discriminator_input(zeros({4, 10}), zeros({3, 2, 2, 2}), 1.0),
                    Catch::Contains("must have the same N"));
  CHECK_THROWS_WITH(kd::discriminator_input(zeros({4, 10}), Tensor(), 0.0), Catch::Contains("temperature"));
  auto dp = std::make_shared<kd::Discriminator>(10);
  auto opt = std::make_shared<optim::Adam>(dp->parameters(), optim::AdamOptions{});
  CHECK_THROWS_WITH(kd::AdversarialKD(dp, opt, {.d_steps = 0}), Catch::Contains("d_steps must be >= 1"));
  CHECK_THROWS_WITH(kd::AdversarialKD(dp, opt, {.student_tap = "features.5"}),
                    Catch::Contains("give both feature taps or neither"));
}
