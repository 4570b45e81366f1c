// Feature losses (kd/feature.h): HintRegressor shape inference and its errors, hint/AT/NST values
// and student gradients against PyTorch transcriptions of RepDistiller, float64 gradchecks (also
// through the regressor's weights), zero at student == teacher, the detached teacher.
#include <catch2/catch.hpp>

#include "kd/feature.h"
#include "kd_fixture.h"
#include "support/helpers.h"

using namespace retort;
using namespace retort::kd;
using retort::testing::random_tensor;

namespace {
const testing::KdFixture& fx() {
  static testing::KdFixture f = testing::read_kd_fixture("feature.txt");
  return f;
}

std::shared_ptr<HintRegressor> regressor(HintKind k, const Tensor& s, const Tensor& t,
                                         const char* w, const char* b) {
  auto r = std::make_shared<HintRegressor>(k, s.sizes(), t.sizes());
  r->to(kFloat64);
  nn::Module& inner = k == HintKind::Linear ? static_cast<nn::Module&>(*r->linear)
                                            : static_cast<nn::Module&>(*r->conv);
  auto params = inner.parameters();
  params[0].copy_(fx().t(w));
  params[1].copy_(fx().t(b));
  return r;
}
}  // namespace

TEST_CASE("feature losses match the PyTorch references", "[kd]") {
  const Tensor &fs = fx().t("fs"), &ft = fx().t("ft"), &fsmall = fx().t("fsmall"),
               &ftl = fx().t("ftl");
  auto r1 = regressor(HintKind::Conv1x1, fs, ft, "w1", "b1");
  testing::check_kd_case(fx(), "hint_conv1x1", [&](const Tensor& x) { return hint_loss(*r1, x, ft); }, fs);
  auto r3 = regressor(HintKind::Conv3x3, fs, ft, "w3", "b3");
  testing::check_kd_case(fx(), "hint_conv3x3", [&](const Tensor& x) { return hint_loss(*r3, x, ft); }, fs);
  auto rl = regressor(HintKind::Linear, fsmall, ftl, "wl", "bl");
  testing::check_kd_case(fx(), "hint_linear", [&](const Tensor& x) { return hint_loss(*rl, x, ftl); },
                         fsmall);
  // RepDistiller's ConvReg in training mode: conv (big kernel, or 3×3 stride 2), BN, ReLU.
  const Tensor &fs6 = fx().t("fs6"), &ftr = fx().t("ftr");
  for (auto [name, input] : {std::pair{"hint_convreg_kernel", fs}, std::pair{"hint_convreg_stride2", fs6}}) {
    HintRegressor r(HintKind::ConvReg, input.sizes(), ftr.sizes(), TensorOptions{kFloat64});
    r.conv->weight.copy_(fx().t("wr"));
    r.conv->bias.copy_(fx().t("br"));
    testing::check_kd_case(fx(), name, [&](const Tensor& x) { return hint_loss(r, x, ftr); }, input);
  }
  // The third case, a student map half the teacher's: ConvTranspose2d(k4, s2, p1), BN, ReLU.
  const Tensor &fs2 = fx().t("fs2"), &ftu = fx().t("ftu");
  HintRegressor up(HintKind::ConvReg, fs2.sizes(), ftu.sizes(), TensorOptions{kFloat64});
  REQUIRE(up.conv_transpose);
  up.conv_transpose->weight.copy_(fx().t("wu"));
  up.conv_transpose->bias.copy_(fx().t("bu"));
  testing::check_kd_case(fx(), "hint_convreg_transposed", [&](const Tensor& x) { return hint_loss(up, x, ftu); },
                         fs2);
  testing::check_kd_case(fx(), "at_same", [&](const Tensor& x) { return at_loss(x, ft); }, fs);
  testing::check_kd_case(fx(), "at_pool_student", [&](const Tensor& x) { return at_loss(x, fsmall); }, fs);
  testing::check_kd_case(fx(), "at_pool_teacher", [&](const Tensor& x) { return at_loss(x, fs); }, fsmall);
  testing::check_kd_case(fx(), "at_paper_p4", [&](const Tensor& x) {
    return at_loss(x, ft, {.p = 4.0, .variant = AtVariant::Paper});
  }, fs);
  testing::check_kd_case(fx(), "nst_same", [&](const Tensor& x) { return nst_loss(x, ft); }, fs);
  testing::check_kd_case(fx(), "nst_pool_student", [&](const Tensor& x) { return nst_loss(x, fsmall); }, fs);
  testing::check_kd_case(fx(), "nst_partial", [&](const Tensor& x) { return nst_loss(x, fsmall, {.full_loss = false}); },
                         fs);
}

TEST_CASE("HintRegressor ConvReg: RepDistiller's layer choice, keys and refusals", "[kd]") {
  HintRegressor big(HintKind::ConvReg, {2, 3, 7, 6}, {2, 5, 4, 3});
  REQUIRE(big.conv->kernel_size == (std::array<std::int64_t, 2>{4, 4}));
  HintRegressor half(HintKind::ConvReg, {2, 3, 8, 8}, {2, 5, 4, 4});
  REQUIRE(half.conv->kernel_size == (std::array<std::int64_t, 2>{3, 3}));
  REQUIRE(half.conv->options.stride == (std::array<std::int64_t, 2>{2, 2}));
  HintRegressor same(HintKind::ConvReg, {2, 3, 4, 4}, {2, 5, 4, 4});
  REQUIRE(same(zeros({2, 3, 4, 4})).sizes() == Shape{2, 5, 4, 4});
  std::vector<std::string> keys;
  for (auto& [k, v] : same.state_dict()) keys.push_back(k);
  REQUIRE(keys == std::vector<std::string>{"conv.weight", "conv.bias", "bn.weight", "bn.bias", "bn.running_mean",
                                           "bn.running_var", "bn.num_batches_tracked"});
  HintRegressor doubled(HintKind::ConvReg, {2, 3, 4, 4}, {2, 5, 8, 8});
  REQUIRE(!doubled.conv);
  REQUIRE(doubled.conv_transpose->weight.sizes() == Shape{3, 5, 4, 4});
  REQUIRE(doubled.conv_transpose->options.stride == (std::array<std::int64_t, 2>{2, 2}));
  REQUIRE(doubled.conv_transpose->options.padding == (std::array<std::int64_t, 2>{1, 1}));
  REQUIRE(doubled(zeros({2, 3, 4, 4})).sizes() == Shape{2, 5, 8, 8});
  keys.clear();
  for (auto& [k, v] : doubled.state_dict()) keys.push_back(k);
  REQUIRE(keys == std::vector<std::string>{"conv.weight", "conv.bias", "bn.weight", "bn.bias", "bn.running_mean",
                                           "bn.running_var", "bn.num_batches_tracked"});
  REQUIRE_THROWS_WITH(HintRegressor(HintKind::ConvReg, {2, 3, 4, 4}, {2, 5, 6, 6}),
                      Catch::Contains("[2,3,4,4]") && Catch::Contains("[2,5,6,6]") &&
                          Catch::Contains("H_t = 2·H_s"));
}

TEST_CASE("HintRegressor: shape inference and errors naming both shapes", "[kd]") {
  HintRegressor c1(HintKind::Conv1x1, {2, 3, 5, 5}, {2, 8, 5, 5});
  REQUIRE(c1.conv->weight.sizes() == Shape{8, 3, 1, 1});
  HintRegressor c3(HintKind::Conv3x3, {2, 3, 5, 7}, {2, 4, 5, 7});
  REQUIRE(c3.conv->weight.sizes() == Shape{4, 3, 3, 3});
  REQUIRE(c3(zeros({6, 3, 5, 7})).sizes() == Shape{6, 4, 5, 7});
  HintRegressor lin(HintKind::Linear, {2, 3, 2, 2}, {2, 10});
  REQUIRE(lin.linear->weight.sizes() == Shape{10, 12});
  REQUIRE(lin(zeros({3, 3, 2, 2})).sizes() == Shape{3, 10});
  REQUIRE_THROWS_WITH(HintRegressor(HintKind::Conv1x1, {2, 3, 8, 8}, {2, 4, 4, 4}),
                      Catch::Contains("HintRegressor") && Catch::Contains("[2,3,8,8]") &&
                          Catch::Contains("[2,4,4,4]") && Catch::Contains("spatial"));
  REQUIRE_THROWS_WITH(HintRegressor(HintKind::Conv3x3, {2, 3}, {2, 4, 4, 4}),
                      Catch::Contains("[2,3]") && Catch::Contains("[2,4,4,4]"));
  REQUIRE_THROWS_WITH(c1(zeros({2, 4, 5, 5})),
                      Catch::Contains("HintRegressor") && Catch::Contains("[2,4,5,5]") &&
                          Catch::Contains("[2,3,5,5]"));
  REQUIRE_THROWS_WITH(hint_loss(c1, zeros({2, 3, 5, 5}), zeros({2, 7, 5, 5})),
                      Catch::Contains("hint_loss") && Catch::Contains("[2,8,5,5]") &&
                          Catch::Contains("[2,7,5,5]"));
}

TEST_CASE("feature losses: gradcheck for every option", "[kd]") {
  Tensor s = random_tensor({2, 3, 4, 4}, kFloat64, 1).set_requires_grad(true);
  Tensor t_same = random_tensor({2, 5, 4, 4}, kFloat64, 2);
  Tensor t_small = random_tensor({2, 2, 3, 3}, kFloat64, 3);
  Tensor t_big = random_tensor({2, 2, 6, 6}, kFloat64, 4);
  for (const Tensor& t : {t_same, t_small, t_big}) {
    for (AtOptions o : {AtOptions{}, AtOptions{.p = 4.0, .variant = AtVariant::Paper}})
      REQUIRE_GRADCHECK([&](const std::vector<Tensor>& x) { return at_loss(x[0], t, o); },
                        std::vector<Tensor>{s});
    for (bool full : {true, false})
      REQUIRE_GRADCHECK([&](const std::vector<Tensor>& x) { return nst_loss(x[0], t, {full}); },
                        std::vector<Tensor>{s});
  }
  for (HintKind k : {HintKind::Conv1x1, HintKind::Conv3x3, HintKind::Linear}) {
    HintRegressor r(k, s.sizes(), t_same.sizes());
    r.to(kFloat64);
    std::vector<Tensor> inputs{s};
    for (auto& p : r.parameters()) inputs.push_back(p);
    REQUIRE_GRADCHECK([&](const std::vector<Tensor>& x) { return hint_loss(r, x[0], t_same); },
                      inputs);
  }
  // ConvReg's transposed case (training-mode BN included), through every parameter.
  Tensor s_half = random_tensor({2, 2, 2, 3}, kFloat64, 6).set_requires_grad(true);
  Tensor t_double = random_tensor({2, 3, 4, 6}, kFloat64, 5);
  HintRegressor up(HintKind::ConvReg, s_half.sizes(), t_double.sizes(), TensorOptions{kFloat64});
  std::vector<Tensor> inputs{s_half};
  for (auto& p : up.parameters()) inputs.push_back(p);
  REQUIRE_GRADCHECK([&](const std::vector<Tensor>& x) { return hint_loss(up, x[0], t_double); }, inputs);
}

TEST_CASE("feature losses: zero at student == teacher, teacher gets no gradient", "[kd]") {
  Tensor s = random_tensor({3, 4, 5, 5}, kFloat64, 5);
  Tensor t = random_tensor({3, 2, 3, 3}, kFloat64, 6);
  REQUIRE(at_loss(s, s).item<double>() == 0.0);
  REQUIRE(nst_loss(s, s).item<double>() == Approx(0.0).margin(1e-14));
  testing::check_teacher_detached([](auto& a, auto& b) { return at_loss(a, b); }, s, t);
  testing::check_teacher_detached([](auto& a, auto& b) { return nst_loss(a, b); }, s, t);
  HintRegressor r(HintKind::Conv1x1, s.sizes(), s.sizes());
  r.to(kFloat64);
  testing::check_teacher_detached([&](auto& a, auto& b) { return hint_loss(r, a, b); }, s,
                                  random_tensor({3, 4, 5, 5}, kFloat64, 7));
}

TEST_CASE("feature losses: shape errors name the op and both shapes", "[kd]") {
  Tensor a = zeros({2, 3, 4, 4}, kFloat64);
  REQUIRE_THROWS_WITH(at_loss(a, zeros({3, 3, 4, 4}, kFloat64)),
                      Catch::Contains("at_loss") && Catch::Contains("[2,3,4,4]") &&
                          Catch::Contains("[3,3,4,4]"));
  REQUIRE_THROWS_WITH(nst_loss(a, zeros({2, 12}, kFloat64)),
                      Catch::Contains("nst_loss") && Catch::Contains("[2,12]"));
  REQUIRE_THROWS_WITH(at_loss(a, zeros({2, 3, 4, 5}, kFloat64)),
                      Catch::Contains("at_loss") && Catch::Contains("[2,3,4,5]"));
}
