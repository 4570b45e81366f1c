// Gradient attribution (kd/attribution.h): per-layer and per-parameter norms and cosines equal
// those of manual separate backward passes, cosine 1 for identical terms, accumulated grads
// restored, the caller's backward still works afterwards, and the CSV rows.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "autograd/grad_mode.h"
#include "autograd/ops/elementwise.h"
#include "kd/attribution.h"
#include "kd/response.h"
#include "nn/basic.h"
#include "nn/functional.h"
#include "nn/linear.h"
#include "support/helpers.h"

using namespace retort;
using retort::testing::random_tensor;
namespace F = retort::nn::functional;

namespace {

struct Setup {
  std::shared_ptr<nn::Sequential> net;
  Tensor ce, kd;
};

Setup make() {
  Setup s;
  s.net = std::make_shared<nn::Sequential>(std::initializer_list<std::shared_ptr<nn::Module>>{
      std::make_shared<nn::Linear>(4, 5), std::make_shared<nn::ReLU>(), std::make_shared<nn::Linear>(5, 3)});
  s.net->to(kFloat64);
  Tensor x = random_tensor({6, 4}, kFloat64, 1), t = random_tensor({6, 3}, kFloat64, 2);
  Tensor y = from_vector(std::vector<std::int64_t>{0, 1, 2, 2, 1, 0}, {6});
  Tensor logits = (*s.net)(x);
  s.ce = F::cross_entropy(logits, y);
  s.kd = kd::kd_loss(logits, t, {.T = 4.0});
  return s;
}

// Flattened gradient of loss w.r.t. params, by a manual backward.
std::vector<std::vector<double>> manual(nn::Module& m, const Tensor& loss) {
  m.zero_grad();
  loss.backward(Tensor(), true);
  std::vector<std::vector<double>> g;
  for (auto& p : m.parameters()) g.push_back(p.grad().to_vector<double>());
  m.zero_grad();
  return g;
}

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

}  // namespace

TEST_CASE("gradient_attribution matches separate manual backward passes", "[kd]") {
  Setup s = make();
  // Pre-existing accumulated grads must survive the call.
  for (auto& p : s.net->parameters()) p.set_grad(full(p.sizes(), 0.25, kFloat64));
  auto rows = kd::gradient_attribution({{"ce", s.ce}, {"kd", s.kd}}, s.net->named_parameters(), 7);
  for (auto& p : s.net->parameters()) REQUIRE(testing::max_abs_diff(p.grad(), full(p.sizes(), 0.25, kFloat64)) == 0.0);

  auto gce = manual(*s.net, s.ce), gkd = manual(*s.net, s.kd);
  // Layers "0" (params 0, 1) and "2" (params 2, 3), then "*".
  REQUIRE(rows.size() == 6);
  std::vector<std::vector<int>> groups{{0, 1}, {2, 3}, {0, 1, 2, 3}};
  std::vector<std::string> names{"0", "2", "*"};
  for (int gi = 0; gi < 3; ++gi) {
    double cc = 0, kk = 0, ck = 0;
    for (int p : groups[gi]) cc += dot(gce[p], gce[p]), kk += dot(gkd[p], gkd[p]), ck += dot(gce[p], gkd[p]);
    const auto &rc = rows[2 * gi], &rk = rows[2 * gi + 1];
    REQUIRE(rc.layer == names[gi]);
    REQUIRE(rc.term == "ce");
    REQUIRE(rk.term == "kd");
    REQUIRE(rc.step == 7);
    REQUIRE(rc.grad_norm == Approx(std::sqrt(cc)).epsilon(1e-12));
    REQUIRE(rk.grad_norm == Approx(std::sqrt(kk)).epsilon(1e-12));
    REQUIRE(rc.cos_ce_kd == Approx(1.0).epsilon(1e-12));
    REQUIRE(rk.cos_ce_kd == Approx(ck / std::sqrt(cc * kk)).epsilon(1e-10));
    REQUIRE(std::abs(rk.cos_ce_kd) < 1.0);
  }
  // The graph is retained: the caller's own backward of the total still works.
  s.net->zero_grad();
  (s.ce + s.kd).backward();
  REQUIRE(s.net->parameters()[0].grad().defined());
}

TEST_CASE("gradient_attribution per parameter, identical terms, no reference", "[kd]") {
  Setup s = make();
  kd::AttributionOptions per_param;
  per_param.granularity = kd::AttributionGranularity::Parameter;
  per_param.include_total = false;
  auto rows = kd::gradient_attribution({{"ce", s.ce}, {"ce_again", s.ce * 3.0}}, s.net->named_parameters(), 0, per_param);
  REQUIRE(rows.size() == 8);
  REQUIRE(rows[0].layer == "0.weight");
  REQUIRE(rows[7].layer == "2.bias");
  for (std::size_t i = 0; i < rows.size(); i += 2) {
    REQUIRE(rows[i + 1].cos_ce_kd == Approx(1.0).epsilon(1e-12));
    REQUIRE(rows[i + 1].grad_norm == Approx(3.0 * rows[i].grad_norm).epsilon(1e-12));
  }
  for (auto& p : s.net->parameters()) REQUIRE_FALSE(p.grad().defined());

  kd::AttributionOptions no_ref;
  no_ref.reference_term = "missing";
  auto r2 = kd::gradient_attribution({{"kd", s.kd}}, s.net->named_parameters(), 0, no_ref);
  REQUIRE(std::isnan(r2[0].cos_ce_kd));
  REQUIRE(r2[0].grad_norm > 0);
}

TEST_CASE("append_attribution_csv writes the header once and appends rows", "[kd]") {
  std::string path = "retort_test_attribution.csv";
  std::remove(path.c_str());
  kd::append_attribution_csv(path, {{3, "features.0", "ce", 0.5, 1.0}, {3, "features.0", "kd", 0.25, -0.5}});
  kd::append_attribution_csv(path, {{4, "*", "kd", 2.0, std::nan("")}});
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  REQUIRE(ss.str() ==
          "step,layer,term,grad_norm,cos_ce_kd\n"
          "3,features.0,ce,0.5,1\n"
          "3,features.0,kd,0.25,-0.5\n"
          "4,*,kd,2,nan\n");
  std::remove(path.c_str());
  REQUIRE_THROWS_WITH(kd::append_attribution_csv("/nonexistent-dir/a.csv", {}),
                      Catch::Contains("append_attribution_csv"));
}
