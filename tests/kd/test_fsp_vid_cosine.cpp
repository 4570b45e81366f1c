// FSP, VID and the tutorial's cosine loss (kd/fsp.h, kd/vid.h, kd/cosine.h): values and student
// gradients against PyTorch transcriptions of RepDistiller and the PyTorch KD tutorial, float64
// gradchecks (VID through its regressor weights and log-scale too), zero losses where they hold,
// the detached teacher, errors naming both shapes.
#include <catch2/catch.hpp>

#include <cmath>

#include "kd/cosine.h"
#include "kd/fsp.h"
#include "kd/vid.h"
#include "kd_fixture.h"
#include "autograd/ops/shape.h"
#include "nn/linear.h"
#include "support/helpers.h"

using namespace retort;
using namespace retort::kd;
using retort::testing::random_tensor;

namespace {
const testing::KdFixture& fx(const char* file) {
  static std::map<std::string, testing::KdFixture> cache;
  auto it = cache.find(file);
  if (it == cache.end()) it = cache.emplace(file, testing::read_kd_fixture(file)).first;
  return it->second;
}

std::shared_ptr<VIDRegressor> fixture_vid() {
  const auto& f = fx("vid.txt");
  auto r = std::make_shared<VIDRegressor>(3, 4, 5);
  r->to(kFloat64);
  r->regressor->at<nn::Conv2d>(0)->weight.copy_(f.t("w0"));
  r->regressor->at<nn::Conv2d>(2)->weight.copy_(f.t("w2"));
  r->regressor->at<nn::Conv2d>(4)->weight.copy_(f.t("w4"));
  r->log_scale.copy_(f.t("log_scale"));
  return r;
}
}  // namespace

TEST_CASE("fsp: matrix and loss match RepDistiller", "[kd]") {
  const auto& f = fx("fsp.txt");
  const Tensor &s0 = f.t("s0"), &s1 = f.t("s1"), &s2 = f.t("s2");
  std::vector<Tensor> t{f.t("t0"), f.t("t1"), f.t("t2")};
  Tensor g = fsp_matrix(s0, s1);
  REQUIRE(g.sizes() == Shape{3, 2, 3});
  REQUIRE_ALLCLOSE(g, f.t("g_s01"), 1e-12, 1e-10);
  testing::check_kd_case(f, "fsp_mean_d_s0", [&](const Tensor& x) {
    return fsp_loss({x, s1, s2}, t, {.pairs = PairReduction::Mean});
  }, s0);
  testing::check_kd_case(f, "fsp_sum_d_s1", [&](const Tensor& x) {
    return fsp_loss({s0, x, s2}, t);
  }, s1);
}

TEST_CASE("fsp: gradcheck, zero at student == teacher, detached teacher, errors", "[kd]") {
  Tensor a = random_tensor({2, 3, 5, 5}, kFloat64, 1).set_requires_grad(true);
  Tensor b = random_tensor({2, 2, 3, 3}, kFloat64, 2).set_requires_grad(true);
  Tensor c = random_tensor({2, 4, 3, 3}, kFloat64, 3).set_requires_grad(true);
  std::vector<Tensor> t{random_tensor({2, 3, 4, 4}, kFloat64, 4),
                        random_tensor({2, 2, 4, 4}, kFloat64, 5),
                        random_tensor({2, 4, 2, 2}, kFloat64, 6)};
  for (PairReduction pairs : {PairReduction::Sum, PairReduction::Mean})
    REQUIRE_GRADCHECK([&](const std::vector<Tensor>& x) { return fsp_loss(x, t, {pairs}); },
                      (std::vector<Tensor>{a, b, c}));
  REQUIRE_GRADCHECK([](const std::vector<Tensor>& x) { return fsp_matrix(x[0], x[1]); },
                    (std::vector<Tensor>{b, a}));
  REQUIRE(fsp_loss({a, b, c}, {a, b, c}).item<double>() == 0.0);
  // The default sums the pair losses, as RepDistiller's training script does.
  const double sum = fsp_loss({a, b, c}, t).item<double>();
  REQUIRE(sum == Approx(2.0 * fsp_loss({a, b, c}, t, {PairReduction::Mean}).item<double>()));
  testing::check_teacher_detached([&](auto& s, auto& tt) { return fsp_loss({s, b}, {tt, b}); },
                                  a, t[0]);
  testing::check_teacher_detached([&](auto& s, auto& tt) { return fsp_loss({a, s}, {t[0], tt}); },
                                  b, t[1]);
  REQUIRE_THROWS_WITH(fsp_loss({a, b}, {t[0], t[2]}),
                      Catch::Contains("fsp_loss") && Catch::Contains("[2,3,2]") &&
                          Catch::Contains("[2,3,4]") && Catch::Contains("[2,4,2,2]"));
  REQUIRE_THROWS_WITH(fsp_loss({a}, {t[0]}), Catch::Contains("fsp_loss"));
  REQUIRE_THROWS_WITH(fsp_matrix(a, zeros({3, 2, 5, 5}, kFloat64)),
                      Catch::Contains("fsp_matrix") && Catch::Contains("[2,3,5,5]") &&
                          Catch::Contains("[3,2,5,5]"));
}

TEST_CASE("vid: initialisation, values and gradients match RepDistiller", "[kd]") {
  const auto& f = fx("vid.txt");
  VIDRegressor fresh(3, 4, 5);
  REQUIRE(fresh.log_scale.sizes() == Shape{5});
  REQUIRE_ALLCLOSE(fresh.log_scale.to(kFloat64), f.t("alpha_init"), 1e-6, 1e-6);
  REQUIRE_ALLCLOSE(fresh.variance(), full({5}, 5.0), 1e-5, 1e-6);
  REQUIRE(fresh.regressor->size() == 5);
  auto names = fresh.state_dict();
  REQUIRE(names.size() == 4);
  REQUIRE(names[0].first == "log_scale");  // own parameters first, as PyTorch's state_dict
  REQUIRE(names[1].first == "regressor.0.weight");
  REQUIRE(names[3].first == "regressor.4.weight");

  auto r = fixture_vid();
  const Tensor& fs = f.t("fs");
  for (const char* t : {"small", "same", "big"}) {
    const Tensor& ft = f.t(std::string("ft_") + t);
    std::string c = std::string(t) == "small" ? "vid_pool_student"
                    : std::string(t) == "same" ? "vid_same" : "vid_pool_teacher";
    testing::check_kd_case(f, c, [&](const Tensor& x) { return vid_loss(*r, x, ft); }, fs);
  }
  r->zero_grad();
  vid_loss(*r, fs, f.t("ft_same")).backward();
  REQUIRE_ALLCLOSE(r->log_scale.grad(), f.t("d_log_scale"), 1e-12, 1e-9);
}

TEST_CASE("vid: softplus, gradcheck through every parameter, detached teacher, errors", "[kd]") {
  Tensor x = from_vector(std::vector<double>{-800.0, -3.0, 0.0, 2.5, 800.0}, {5}, kFloat64);
  std::vector<double> y = softplus(x).to_vector<double>();
  REQUIRE(y[0] == Approx(0.0).margin(1e-300));
  REQUIRE(y[1] == Approx(std::log1p(std::exp(-3.0))).epsilon(1e-14));
  REQUIRE(y[2] == Approx(std::log(2.0)).epsilon(1e-14));
  REQUIRE(y[4] == Approx(800.0).epsilon(1e-14));
  REQUIRE_GRADCHECK([](const std::vector<Tensor>& v) { return softplus(v[0]); },
                    std::vector<Tensor>{x.clone().set_requires_grad(true) / 100.0});
  Tensor z = zeros({1}, kFloat64).set_requires_grad(true);
  softplus(z).backward();
  REQUIRE(z.grad().item<double>() == Approx(0.5).epsilon(1e-14));

  VIDRegressor r(3, 4, 2);
  r.to(kFloat64);
  for (auto& p : r.parameters()) p.copy_(random_tensor(p.sizes(), kFloat64, 11, 0.7));
  Tensor s = random_tensor({2, 3, 4, 4}, kFloat64, 12).set_requires_grad(true);
  for (const Shape& ts : {Shape{2, 2, 4, 4}, Shape{2, 2, 2, 2}, Shape{2, 2, 5, 5}}) {
    Tensor t = random_tensor(ts, kFloat64, 13);
    std::vector<Tensor> inputs{s};
    for (auto& p : r.parameters()) inputs.push_back(p);
    REQUIRE_GRADCHECK([&](const std::vector<Tensor>& v) { return vid_loss(r, v[0], t); }, inputs);
  }
  testing::check_teacher_detached([&](auto& a, auto& b) { return vid_loss(r, a, b); }, s,
                                  random_tensor({2, 2, 4, 4}, kFloat64, 14));
  REQUIRE_THROWS_WITH(vid_loss(r, s, zeros({2, 3, 4, 4}, kFloat64)),
                      Catch::Contains("vid_loss") && Catch::Contains("[2,3,4,4]"));
  REQUIRE_THROWS_WITH(vid_loss(r, s, zeros({3, 2, 4, 4}, kFloat64)),
                      Catch::Contains("vid_loss") && Catch::Contains("[2,3,4,4]") &&
                          Catch::Contains("[3,2,4,4]"));
}

TEST_CASE("cosine: matches the PyTorch tutorial's CosineEmbeddingLoss", "[kd]") {
  const auto& f = fx("cosine.txt");
  const Tensor &fs = f.t("fs"), &ft = f.t("ft"), &odd = f.t("ft_odd"), &vs = f.t("vs");
  testing::check_kd_case(f, "cos_pool2", [&](const Tensor& x) { return cosine_loss(x, ft); }, fs);
  testing::check_kd_case(f, "cos_pool2_odd", [&](const Tensor& x) { return cosine_loss(x, odd); },
                         fs);
  testing::check_kd_case(f, "cos_pool1", [&](const Tensor& x) { return cosine_loss(x, vs, {.pool = 1}); },
                         fs);
  testing::check_kd_case(f, "cos_maps", [&](const Tensor& x) { return cosine_loss(x, f.t("mt")); },
                         f.t("ms"));
}

TEST_CASE("cosine: gradcheck, zero at aligned features, detached teacher, errors", "[kd]") {
  Tensor s = random_tensor({3, 6}, kFloat64, 21).set_requires_grad(true);
  for (std::int64_t k : {1, 2, 3}) {
    Tensor t = random_tensor({3, 6 * k + (k > 1 ? 1 : 0)}, kFloat64, 22);
    REQUIRE_GRADCHECK([&](const std::vector<Tensor>& v) { return cosine_loss(v[0], t, {.pool = k}); },
                      std::vector<Tensor>{s});
  }
  // Teacher = the student with each feature repeated twice: its pairs average back to s. The
  // 1e-12 EPS inside each squared norm (as ATen) leaves 1 − cos ≈ 1e-12/‖s‖², not exactly 0.
  Tensor rep = reshape(expand(unsqueeze(s, 2), {3, 6, 2}), {3, 12});
  REQUIRE(cosine_loss(s, rep).item<double>() == Approx(0.0).margin(1e-11));
  REQUIRE(cosine_loss(s, s * 3.0, {.pool = 1}).item<double>() == Approx(0.0).margin(1e-11));
  testing::check_teacher_detached([](auto& a, auto& b) { return cosine_loss(a, b); }, s,
                                  random_tensor({3, 12}, kFloat64, 23));
  REQUIRE_THROWS_WITH(cosine_loss(s, zeros({3, 10}, kFloat64)),
                      Catch::Contains("cosine_loss") && Catch::Contains("[3,6]") &&
                          Catch::Contains("[3,10]"));
  REQUIRE_THROWS_WITH(cosine_loss(s, zeros({4, 12}, kFloat64)),
                      Catch::Contains("cosine_loss") && Catch::Contains("[4,12]"));
}
