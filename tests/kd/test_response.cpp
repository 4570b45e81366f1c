// Logit distillation losses (kd/response.h): values and student gradients against PyTorch
// transcriptions of RepDistiller / mdistiller / DIST (tests/tools/make_kd_fixtures.py), float64
// gradchecks for every option, zero loss at s == t, the detached teacher, the KD gradient
// identity, and shape errors.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "autograd/ops/nn_ops.h"
#include "autograd/ops/reduce.h"
#include "kd/response.h"
#include "kd_fixture.h"
#include "support/helpers.h"

using namespace retort;
using namespace retort::kd;
using retort::testing::random_tensor;

namespace {
const testing::KdFixture& fx() {
  static testing::KdFixture f = testing::read_kd_fixture("response.txt");
  return f;
}
Tensor labels() { return fx().t("labels").to(kInt64); }
}  // namespace

TEST_CASE("kd losses match the PyTorch references", "[kd]") {
  const Tensor& s = fx().t("s");
  const Tensor& t = fx().t("t");
  for (double T : {1.0, 4.0}) {
    std::string k = std::to_string(static_cast<int>(T));
    testing::check_kd_case(fx(), "kd_T" + k, [&](const Tensor& x) { return kd_loss(x, t, {.T = T}); }, s);
    KdOptions ce{.T = T, .variant = KdVariant::SoftCrossEntropy};
    testing::check_kd_case(fx(), "kd_softce_T" + k,
                           [&](const Tensor& x) { return kd_loss(x, t, ce); }, s);
  }
  KdOptions sum_unscaled{.T = 4.0, .reduction = Reduction::Sum, .scale_T2 = false};
  testing::check_kd_case(fx(), "kd_T4_sum_unscaled",
                         [&](const Tensor& x) { return kd_loss(x, t, sum_unscaled); }, s);
  KdOptions mean_opt{.T = 2.0, .reduction = Reduction::Mean};
  testing::check_kd_case(fx(), "kd_T2_mean",
                         [&](const Tensor& x) { return kd_loss(x, t, mean_opt); }, s);
  testing::check_kd_case(fx(), "logit_mse", [&](const Tensor& x) { return logit_mse(x, t); }, s);
  testing::check_kd_case(fx(), "dkd_default",
                         [&](const Tensor& x) { return dkd_loss(x, t, labels()); }, s);
  testing::check_kd_case(fx(), "dkd_a2_b3_T2", [&](const Tensor& x) {
    return dkd_loss(x, t, labels(), {.T = 2.0, .alpha = 2.0, .beta = 3.0});
  }, s);
  testing::check_kd_case(fx(), "dist_default", [&](const Tensor& x) { return dist_loss(x, t); }, s);
  testing::check_kd_case(fx(), "dist_b2_g05_tau4", [&](const Tensor& x) {
    return dist_loss(x, t, {.T = 4.0, .beta = 2.0, .gamma = 0.5});
  }, s);
}

TEST_CASE("kd: gradient of T²·KL is T·(softmax(s/T) − softmax(t/T))/N", "[kd]") {
  Tensor s = random_tensor({7, 4}, kFloat64, 1, 3.0).set_requires_grad(true);
  Tensor t = random_tensor({7, 4}, kFloat64, 2, 3.0);
  for (double T : {0.5, 1.0, 3.0, 8.0}) {
    s.set_grad(Tensor());
    kd_loss(s, t, {.T = T}).backward();
    Tensor expect = (softmax(s / T, 1) - softmax(t / T, 1)) * (T / 7.0);
    REQUIRE_ALLCLOSE(s.grad(), detach(expect), 1e-12, 1e-10);
  }
}

TEST_CASE("kd losses: gradcheck for every option", "[kd]") {
  Tensor s = random_tensor({5, 4}, kFloat64, 3, 2.0).set_requires_grad(true);
  Tensor t = random_tensor({5, 4}, kFloat64, 4, 2.0);
  Tensor lab = from_vector(std::vector<std::int64_t>{0, 3, 1, 1, 2}, {5});
  for (auto v : {KdVariant::KL, KdVariant::SoftCrossEntropy})
    for (auto r : {Reduction::BatchMean, Reduction::Sum, Reduction::Mean, Reduction::None})
      for (bool scale : {true, false}) {
        KdOptions o{.T = 2.5, .reduction = r, .scale_T2 = scale, .variant = v};
        REQUIRE_GRADCHECK([&](const std::vector<Tensor>& x) { return kd_loss(x[0], t, o); },
                          std::vector<Tensor>{s});
      }
  for (auto r : {Reduction::Mean, Reduction::Sum, Reduction::None})
    REQUIRE_GRADCHECK([&](const std::vector<Tensor>& x) { return logit_mse(x[0], t, {r}); },
                      std::vector<Tensor>{s});
  for (DkdOptions o : {DkdOptions{}, DkdOptions{.T = 1.0, .alpha = 0.5, .beta = 2.0}})
    REQUIRE_GRADCHECK([&](const std::vector<Tensor>& x) { return dkd_loss(x[0], t, lab, o); },
                      std::vector<Tensor>{s});
  for (DistOptions o : {DistOptions{}, DistOptions{.T = 3.0, .beta = 2.0, .gamma = 0.5}})
    REQUIRE_GRADCHECK([&](const std::vector<Tensor>& x) { return dist_loss(x[0], t, o); },
                      std::vector<Tensor>{s});
}

TEST_CASE("kd losses: zero at student == teacher, teacher gets no gradient", "[kd]") {
  Tensor s = random_tensor({6, 5}, kFloat64, 5, 2.0);
  Tensor t = random_tensor({6, 5}, kFloat64, 6, 2.0);
  Tensor lab = from_vector(std::vector<std::int64_t>{0, 1, 2, 3, 4, 0}, {6});
  REQUIRE(kd_loss(s, s, {.T = 4.0}).item<double>() == Approx(0.0).margin(1e-14));
  REQUIRE(logit_mse(s, s).item<double>() == 0.0);
  REQUIRE(dkd_loss(s, s, lab).item<double>() == Approx(0.0).margin(1e-12));
  // Not exactly 0: the reference adds 1e-8 to ‖a‖·‖b‖, small next to centred probabilities.
  REQUIRE(dist_loss(s, s).item<double>() == Approx(0.0).margin(1e-5));
  testing::check_teacher_detached([](auto& a, auto& b) { return kd_loss(a, b, {.T = 4.0}); }, s, t);
  testing::check_teacher_detached([](auto& a, auto& b) { return logit_mse(a, b); }, s, t);
  testing::check_teacher_detached([&](auto& a, auto& b) { return dkd_loss(a, b, lab); }, s, t);
  testing::check_teacher_detached([](auto& a, auto& b) { return dist_loss(a, b); }, s, t);
}

TEST_CASE("kd losses: shape errors name the op and both shapes", "[kd]") {
  Tensor a = zeros({4, 5}, kFloat64), b = zeros({4, 6}, kFloat64);
  REQUIRE_THROWS_WITH(kd_loss(a, b, {.T = 4.0}), Catch::Contains("kd_loss") &&
                                              Catch::Contains("[4,5]") && Catch::Contains("[4,6]"));
  REQUIRE_THROWS_WITH(logit_mse(a, b), Catch::Contains("logit_mse") && Catch::Contains("[4,6]"));
  REQUIRE_THROWS_WITH(dist_loss(a, b), Catch::Contains("dist_loss") && Catch::Contains("[4,5]"));
  Tensor lab = from_vector(std::vector<std::int64_t>{0, 1, 2}, {3});
  REQUIRE_THROWS_WITH(dkd_loss(a, a, lab), Catch::Contains("dkd_loss") &&
                                               Catch::Contains("[3]") && Catch::Contains("[4,5]"));
  REQUIRE_THROWS_WITH(kd_loss(zeros({4, 5, 1}, kFloat64), zeros({4, 5, 1}, kFloat64), {.T = 1.0}),
                      Catch::Contains("kd_loss") && Catch::Contains("[4,5,1]"));
  REQUIRE_THROWS_WITH(kd_loss(a, a, {.T = 0.0}), Catch::Contains("temperature"));
}

TEST_CASE("kd losses: one temperature convention, defaults of the references, bad T refused",
          "[kd]") {
  // Every temperature is options.T; the defaults are the reference implementations' (RepDistiller
  // kd_T 4, mdistiller DKD T 4 α 1 β 8, DIST τ = β = γ = 1).
  REQUIRE(KdOptions{}.T == 4.0);
  REQUIRE((DkdOptions{}.T == 4.0 && DkdOptions{}.alpha == 1.0 && DkdOptions{}.beta == 8.0));
  REQUIRE((DistOptions{}.T == 1.0 && DistOptions{}.beta == 1.0 && DistOptions{}.gamma == 1.0));
  Tensor s = random_tensor({4, 5}, kFloat64, 7), t = random_tensor({4, 5}, kFloat64, 8);
  Tensor lab = from_vector(std::vector<std::int64_t>{0, 1, 2, 3}, {4});
  REQUIRE(kd_loss(s, t).item<double>() == kd_loss(s, t, {.T = 4.0}).item<double>());
  for (double bad : {0.0, -1.0, std::nan(""), std::numeric_limits<double>::infinity()}) {
    INFO("T = " << bad);
    REQUIRE_THROWS_WITH(kd_loss(s, t, {.T = bad}), Catch::Contains("kd_loss: temperature T"));
    REQUIRE_THROWS_WITH(dkd_loss(s, t, lab, {.T = bad}), Catch::Contains("dkd_loss: temperature T"));
    REQUIRE_THROWS_WITH(dist_loss(s, t, {.T = bad}), Catch::Contains("dist_loss: temperature T"));
  }
  REQUIRE_THROWS_WITH(logit_mse(s, t, {Reduction::BatchMean}), Catch::Contains("BatchMean"));
}
