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
  testing::check_kd_case(fx(), "cc_paper", [&](const Tensor& x) { return cc_loss(x, ft); }, fs);
  testing::check_kd_case(fx(), "cc_paper_g1_p3", [&](const Tensor& x) {
    return cc_loss(x, vt, CcOptions{1.0, 3, CcVariant::Paper});
  }, vs);
  testing::check_kd_case(fx(), "cc_torchdistill", [&](const Tensor& x) {
    return cc_loss(x * 0.3, vt * 0.3, CcOptions{0.4, 2, CcVariant::TorchDistill});
  }, vs);
  testing::check_kd_case(fx(), "cc_repdistiller", [&](const Tensor& x) {
    return cc_loss(x, vt, CcOptions{0.4, 2, CcVariant::RepDistiller});
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
  check([](auto& a, auto& b) { return cc_loss(a, b); }, t);
  check([](auto& a, auto& b) { return cc_loss(a, b, CcOptions{1.0, 4, CcVariant::Paper}); }, t);
  check([](auto& a, auto& b) {
    return cc_loss(a * 0.3, b * 0.3, CcOptions{0.4, 2, CcVariant::TorchDistill});
  }, t);
  check([](auto& a, auto& b) {
    return cc_loss(a, b, CcOptions{0.4, 2, CcVariant::RepDistiller});
  }, v);
}

TEST_CASE("relation losses: zero at student == teacher, teacher gets no gradient", "[kd]") {
  Tensor s = random_tensor({5, 3, 2, 2}, kFloat64, 4);
  Tensor t = random_tensor({5, 7}, kFloat64, 5);
  REQUIRE(sp_loss(s, s).item<double>() == Approx(0.0).margin(1e-15));
  REQUIRE(rkd_loss(s, s).item<double>() == Approx(0.0).margin(1e-15));
  REQUIRE(pkt_loss(s, s).item<double>() == Approx(0.0).margin(1e-15));
  REQUIRE(cc_loss(s, s).item<double>() == Approx(0.0).margin(1e-15));
  REQUIRE(cc_loss(s, s, CcOptions{0.4, 2, CcVariant::RepDistiller}).item<double>() == 0.0);
  testing::check_teacher_detached([](auto& a, auto& b) { return sp_loss(a, b); }, s, t);
  testing::check_teacher_detached([](auto& a, auto& b) { return rkd_loss(a, b); }, s, t);
  testing::check_teacher_detached([](auto& a, auto& b) { return pkt_loss(a, b); }, s, t);
  testing::check_teacher_detached([](auto& a, auto& b) { return cc_loss(a, b); }, s, t);
  testing::check_teacher_detached([](auto& a, auto& b) {
    return cc_loss(a, b, CcOptions{0.4, 2, CcVariant::RepDistiller});
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
  REQUIRE_THROWS_WITH(cc_loss(a, zeros({4, 6}, kFloat64), CcOptions{0.4, 2, CcVariant::RepDistiller}),
                      Catch::Contains("cc_loss") && Catch::Contains("[4,6]") &&
                          Catch::Contains("[4,5]"));
  REQUIRE_THROWS_WITH(rkd_loss(zeros({1, 5}, kFloat64), zeros({1, 5}, kFloat64)),
                      Catch::Contains("rkd_loss") && Catch::Contains("N ≥ 2"));
}
