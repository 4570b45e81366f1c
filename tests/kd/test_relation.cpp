// Relation losses (kd/relation.h): values and student gradients against PyTorch transcriptions of
// RepDistiller / torchdistill / the CC paper, float64 gradchecks for every option, zero at
// student == teacher, the detached teacher, finite gradients at RKD's zero diagonal, errors.
#include <catch2/catch.hpp>

#include <cmath>

#include "kd/relation.h"
#include "kd_fixture.h"
#include "support/helpers.h"

using namespace retort;
using namespace retort::kd;
using retort::testing::random_tensor;

namespace {
const testing::KdFixture& fx() {
  static testing::KdFixture f = testing::read_kd_fixture("relation.txt");
  return f;
}
}  // namespace

TEST_CASE("relation losses match the PyTorch references", "[kd]") {
  const Tensor &fs = fx().t("fs"), &ft = fx().t("ft"), &vs = fx().t("vs"), &vt = fx().t("vt");
  testing::check_kd_case(fx(), "sp", [&](const Tensor& x) { return sp_loss(x, ft); }, fs);
  testing::check_kd_case(fx(), "rkd_default", [&](const Tensor& x) { return rkd_loss(x, ft); }, fs);
  testing::check_kd_case(fx(), "rkd_w1_w2", [&](const Tensor& x) {
    return rkd_loss(x, vt, RkdOptions{1.0, 2.0});
  }, vs);
  testing::check_kd_case(fx(), "pkt", [&](const Tensor& x) { return pkt_loss(x, ft); }, fs);
  testing::check_kd_case(fx(), "cc_paper", [&](const Tensor& x) {
    return cc_loss(x, ft, {.variant = CcVariant::Paper});
  }, fs);
  testing::check_kd_case(fx(), "cc_paper_g1_p3", [&](const Tensor& x) {
    return cc_loss(x, vt, CcOptions{.variant = CcVariant::Paper, .gamma = 1.0, .order = 3});
  }, vs);
  testing::check_kd_case(fx(), "cc_torchdistill", [&](const Tensor& x) {
    return cc_loss(x * 0.3, vt * 0.3, CcOptions{.variant = CcVariant::TorchDistill, .gamma = 0.4, .order = 2});
  }, vs);
  testing::check_kd_case(fx(), "cc_repdistiller", [&](const Tensor& x) {
    return cc_loss(x, vt, CcOptions{});
  }, vs);
}

TEST_CASE("relation losses: gradcheck for every option", "[kd]") {
  Tensor s = random_tensor({4, 2, 3, 3}, kFloat64, 1).set_requires_grad(true);
  Tensor t = random_tensor({4, 5}, kFloat64, 2);
  Tensor v = random_tensor({4, 2, 3, 3}, kFloat64, 3);
  auto check = [&](auto fn, const Tensor& teacher) {
    REQUIRE_GRADCHECK([&](const std::vector<Tensor>& x) { return fn(x[0], teacher); },
                      std::vector<Tensor>{s});
  };
  check([](auto& a, auto& b) { return sp_loss(a, b); }, t);
  check([](auto& a, auto& b) { return rkd_loss(a, b); }, t);
  check([](auto& a, auto& b) { return rkd_loss(a, b, RkdOptions{1.0, 0.0}); }, t);
  check([](auto& a, auto& b) { return rkd_loss(a, b, RkdOptions{0.0, 1.0}); }, t);
  check([](auto& a, auto& b) { return pkt_loss(a, b); }, t);
  check([](auto& a, auto& b) { return cc_loss(a, b, {.variant = CcVariant::Paper}); }, t);
  check([](auto& a, auto& b) { return cc_loss(a, b, CcOptions{.variant = CcVariant::Paper, .gamma = 1.0, .order = 4}); }, t);
  check([](auto& a, auto& b) {
    return cc_loss(a * 0.3, b * 0.3, CcOptions{.variant = CcVariant::TorchDistill, .gamma = 0.4, .order = 2});
  }, t);
  check([](auto& a, auto& b) {
    return cc_loss(a, b, CcOptions{});
  }, v);
}

TEST_CASE("relation losses: zero at student == teacher, teacher gets no gradient", "[kd]") {
  Tensor s = random_tensor({5, 3, 2, 2}, kFloat64, 4);
  Tensor t = random_tensor({5, 7}, kFloat64, 5);
  REQUIRE(sp_loss(s, s).item<double>() == Approx(0.0).margin(1e-15));
  REQUIRE(rkd_loss(s, s).item<double>() == Approx(0.0).margin(1e-15));
  REQUIRE(pkt_loss(s, s).item<double>() == Approx(0.0).margin(1e-15));
  REQUIRE(cc_loss(s, s, {.variant = CcVariant::Paper}).item<double>() ==
          Approx(0.0).margin(1e-15));
  REQUIRE(cc_loss(s, s).item<double>() == 0.0);
  testing::check_teacher_detached([](auto& a, auto& b) { return sp_loss(a, b); }, s, t);
  testing::check_teacher_detached([](auto& a, auto& b) { return rkd_loss(a, b); }, s, t);
  testing::check_teacher_detached([](auto& a, auto& b) { return pkt_loss(a, b); }, s, t);
  testing::check_teacher_detached(
      [](auto& a, auto& b) { return cc_loss(a, b, {.variant = CcVariant::Paper}); }, s, t);
  testing::check_teacher_detached([](auto& a, auto& b) {
    return cc_loss(a, b, CcOptions{});
  }, s, s);
}

TEST_CASE("rkd_loss: the zero diagonal gives finite gradients, even at student == teacher", "[kd]") {
  Tensor s = random_tensor({4, 6}, kFloat64, 6).set_requires_grad(true);
  rkd_loss(s, detach(s)).backward();
  for (double g : s.grad().to_vector<double>()) REQUIRE(std::isfinite(g));
}

TEST_CASE("relation losses: shape errors name the op and both shapes", "[kd]") {
  Tensor a = zeros({4, 5}, kFloat64), b = zeros({3, 5}, kFloat64);
  REQUIRE_THROWS_WITH(sp_loss(a, b), Catch::Contains("sp_loss") && Catch::Contains("[4,5]") &&
                                         Catch::Contains("[3,5]"));
  REQUIRE_THROWS_WITH(rkd_loss(a, b), Catch::Contains("rkd_loss") && Catch::Contains("[3,5]"));
  REQUIRE_THROWS_WITH(pkt_loss(a, b), Catch::Contains("pkt_loss") && Catch::Contains("[3,5]"));
  REQUIRE_THROWS_WITH(cc_loss(a, b), Catch::Contains("cc_loss") && Catch::Contains("[3,5]"));
  REQUIRE_THROWS_WITH(cc_loss(a, zeros({4, 6}, kFloat64), CcOptions{}),
                      Catch::Contains("cc_loss") && Catch::Contains("[4,6]") &&
                          Catch::Contains("[4,5]"));
  REQUIRE_THROWS_WITH(rkd_loss(zeros({1, 5}, kFloat64), zeros({1, 5}, kFloat64)),
                      Catch::Contains("rkd_loss") && Catch::Contains("N ≥ 2"));
}

TEST_CASE("cc_loss: RepDistiller by default; an option the variant ignores is an error", "[kd]") {
  Tensor s = random_tensor({5, 6}, kFloat64, 11), t = random_tensor({5, 6}, kFloat64, 12);
  REQUIRE(CcOptions{}.variant == CcVariant::RepDistiller);
  // RepDistiller's Correlation: mean_n Σ_d |s − t|_n·|s − t|_{n+1}.
  std::vector<double> a = s.to_vector<double>(), b = t.to_vector<double>();
  double expect = 0.0;
  for (int n = 0; n < 4; ++n)
    for (int d = 0; d < 6; ++d)
      expect += std::abs(a[n * 6 + d] - b[n * 6 + d]) * std::abs(a[(n + 1) * 6 + d] - b[(n + 1) * 6 + d]);
  REQUIRE(cc_loss(s, t).item<double>() == Approx(expect / 4.0).epsilon(1e-12));
  REQUIRE_THROWS_WITH(cc_loss(s, t, {.gamma = 0.4}),
                      Catch::Contains("cc_loss") && Catch::Contains("gamma and order"));
  REQUIRE_THROWS_WITH(cc_loss(s, t, {.order = 2}), Catch::Contains("RepDistiller variant"));
  // The kernel variants: unset gamma/order are 0.4 and 2, invalid ones are refused.
  for (CcVariant v : {CcVariant::TorchDistill, CcVariant::Paper}) {
    REQUIRE(cc_loss(s, t, {.variant = v}).item<double>() ==
            cc_loss(s, t, {.variant = v, .gamma = 0.4, .order = 2}).item<double>());
    REQUIRE_THROWS_WITH(cc_loss(s, t, {.variant = v, .gamma = -1.0}), Catch::Contains("gamma"));
    REQUIRE_THROWS_WITH(cc_loss(s, t, {.variant = v, .order = -1}), Catch::Contains("order"));
  }
  REQUIRE_THROWS_WITH(pkt_loss(s, t, {.eps = -1.0}), Catch::Contains("pkt_loss: eps"));
}
