// Deep mutual learning (kd/dml.h): loss_i against the formula evaluated in plain loops, no
// gradient from loss_i into a peer, a float64 gradcheck of the composed loss, a short training
// run on a separable toy problem, and the errors for K < 2 and mismatched logits.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "kd/dml.h"
#include "nn/basic.h"
#include "nn/functional.h"
#include "nn/linear.h"
#include "optim/sgd.h"
#include "tensor/random.h"
#include "support/helpers.h"

using namespace retort;
using retort::testing::random_tensor;

namespace {

// log softmax(z[n, :]/T), by hand.
std::vector<double> log_softmax_row(const std::vector<double>& z, int n, int c, double T) {
  double m = -1e300;
  for (int k = 0; k < c; ++k) m = std::max(m, z[n * c + k] / T);
  double s = 0;
  for (int k = 0; k < c; ++k) s += std::exp(z[n * c + k] / T - m);
  std::vector<double> out(c);
  for (int k = 0; k < c; ++k) out[k] = z[n * c + k] / T - m - std::log(s);
  return out;
}

// CE(z_i, y) + w/(K−1)·Σ_{j≠i} T²·Σ_n Σ_c p_j (log p_j − log p_i)/N, in plain loops.
std::pair<double, double> hand_loss(const std::vector<std::vector<double>>& z,
                                    const std::vector<std::int64_t>& y, int i, int n, int c,
                                    double T) {
  double ce = 0, kl = 0;
  for (int r = 0; r < n; ++r) ce -= log_softmax_row(z[i], r, c, 1.0)[y[r]];
  for (std::size_t j = 0; j < z.size(); ++j) {
    if (static_cast<int>(j) == i) continue;
    for (int r = 0; r < n; ++r) {
      auto lj = log_softmax_row(z[j], r, c, T), li = log_softmax_row(z[i], r, c, T);
      for (int k = 0; k < c; ++k) kl += std::exp(lj[k]) * (lj[k] - li[k]);
    }
  }
  return {ce / n, T * T * kl / n / static_cast<double>(z.size() - 1)};
}

std::shared_ptr<nn::Sequential> mlp(std::int64_t hidden, std::int64_t classes) {
  auto m =
      nn::make_sequential(std::make_shared<nn::Linear>(2, hidden), std::make_shared<nn::ReLU>(),
                          std::make_shared<nn::Linear>(hidden, classes));
  m->to(kFloat64);
  return m;
}

Tensor labels5() { return from_vector(std::vector<std::int64_t>{0, 2, 1, 3, 2}, {5}); }

}  // namespace

TEST_CASE("DML: loss_i equals the hand-composed formula", "[kd]") {
  std::vector<Tensor> z{random_tensor({5, 4}, kFloat64, 1, 2.0),
                        random_tensor({5, 4}, kFloat64, 2, 2.0),
                        random_tensor({5, 4}, kFloat64, 3, 2.0)};
  std::vector<std::vector<double>> zv;
  for (auto& t : z) zv.push_back(t.to_vector<double>());
  std::vector<std::int64_t> yv{0, 2, 1, 3, 2};
  for (auto [w, T] : {std::pair{1.0, 1.0}, std::pair{0.5, 3.0}}) {
    for (int i = 0; i < 3; ++i) {
      auto [ce, kl] = hand_loss(zv, yv, i, 5, 4, T);
      kd::MutualLoss l = kd::mutual_loss(z, static_cast<std::size_t>(i), labels5(), {.T = T, .w = w});
      INFO("i = " << i << ", w = " << w << ", T = " << T);
      REQUIRE(l.ce.item<double>() == Approx(ce).epsilon(1e-12));
      REQUIRE(l.kl.item<double>() == Approx(kl).epsilon(1e-12));
      REQUIRE(l.total.item<double>() == Approx(ce + w * kl).epsilon(1e-12));
    }
  }
}

TEST_CASE("DML: loss_i sends no gradient into a peer's parameters", "[kd]") {
  auto a = mlp(6, 4), b = mlp(5, 4);
  auto oa = std::make_shared<optim::SGD>(a->parameters(), optim::SGDOptions{.lr = 0.1});
  auto ob = std::make_shared<optim::SGD>(b->parameters(), optim::SGDOptions{.lr = 0.1});
  kd::MutualLearning dml({a, b}, {oa, ob});
  Tensor x = random_tensor({5, 2}, kFloat64, 4);
  auto r = dml.losses(x, labels5());
  r.losses[0].total.backward();
  for (auto& [name, p] : b->named_parameters()) {
    INFO("peer parameter " << name);
    REQUIRE_FALSE(p.grad().defined());
  }
  for (auto& p : a->parameters()) REQUIRE(p.grad().defined());

  // On logits: ∂loss_0/∂z_1 is nothing at all, not merely zero.
  Tensor z0 = random_tensor({5, 4}, kFloat64, 5).set_requires_grad(true);
  Tensor z1 = random_tensor({5, 4}, kFloat64, 6).set_requires_grad(true);
  kd::mutual_loss({z0, z1}, 0, labels5()).total.backward();
  REQUIRE(z0.grad().defined());
  REQUIRE_FALSE(z1.grad().defined());
}

TEST_CASE("DML: gradcheck of the composed loss with respect to the student's logits", "[kd]") {
  Tensor z0 = testing::grad_leaf({5, 4}, 7);
  Tensor z1 = testing::grad_leaf({5, 4}, 8, false);
  Tensor z2 = testing::grad_leaf({5, 4}, 9, false);
  for (auto [w, T] : {std::pair{1.0, 1.0}, std::pair{2.0, 4.0}}) {
    kd::MutualOptions o{.T = T, .w = w};
    GradcheckFn fn = [o](const std::vector<Tensor>& xs) {
      return kd::mutual_loss(xs, 0, labels5(), o).total;
    };
    std::vector<Tensor> inputs{z0, z1, z2};
    REQUIRE_GRADCHECK(fn, inputs);
  }
}

TEST_CASE("DML: mutual training on a separable toy problem lowers both losses", "[kd]") {
  // Three well-separated 2-D clusters, 16 points each.
  std::vector<double> xv;
  std::vector<std::int64_t> yv;
  Tensor noise = random_tensor({48, 2}, kFloat64, 10, 0.3);
  auto nv = noise.to_vector<double>();
  const double centers[3][2] = {{2, 0}, {-1, 2}, {-1, -2}};
  for (int n = 0; n < 48; ++n) {
    xv.push_back(centers[n % 3][0] + nv[2 * n]);
    xv.push_back(centers[n % 3][1] + nv[2 * n + 1]);
    yv.push_back(n % 3);
  }
  Tensor x = from_vector(xv, {48, 2}, kFloat64), y = from_vector(yv, {48});
  manual_seed(11);
  auto a = mlp(8, 3), b = mlp(12, 3);
  auto oa = std::make_shared<optim::SGD>(a->parameters(), optim::SGDOptions{.lr = 0.2});
  auto ob = std::make_shared<optim::SGD>(b->parameters(), optim::SGDOptions{.lr = 0.2});
  kd::MutualLearning dml({a, b}, {oa, ob}, {1.0, 2.0});
  auto first = dml.step(x, y);
  kd::MutualStepResult last;
  for (int s = 0; s < 60; ++s) last = dml.step(x, y);
  for (int i = 0; i < 2; ++i) {
    INFO("student " << i << ": " << first.values[i] << " -> " << last.values[i]);
    REQUIRE(last.values[i] < 0.5 * first.values[i]);
    REQUIRE(last.ce_values[i] < first.ce_values[i]);
    REQUIRE(F::accuracy(last.logits[i], y) > 0.95);
  }
}

TEST_CASE("DML: errors for K < 2 and mismatched logits", "[kd]") {
  auto a = mlp(4, 3), b = mlp(4, 5);
  auto oa = std::make_shared<optim::SGD>(a->parameters(), optim::SGDOptions{.lr = 0.1});
  auto ob = std::make_shared<optim::SGD>(b->parameters(), optim::SGDOptions{.lr = 0.1});
  REQUIRE_THROWS_WITH(kd::MutualLearning({a}, {oa}), Catch::Contains("K >= 2"));
  REQUIRE_THROWS_WITH(kd::MutualLearning({a, b}, {oa}),
                      Catch::Contains("2 students but 1 optimizers"));
  REQUIRE_THROWS_WITH(kd::mutual_loss({zeros({4, 3}, kFloat64)}, 0, labels5()),
                      Catch::Contains("K >= 2"));
  REQUIRE_THROWS_WITH(
      kd::mutual_loss({zeros({4, 3}, kFloat64), zeros({4, 5}, kFloat64)}, 0, labels5()),
      Catch::Contains("mutual_loss") && Catch::Contains("[4,3]") && Catch::Contains("[4,5]"));
  kd::MutualLearning dml({a, b}, {oa, ob});
  REQUIRE_THROWS_WITH(dml.step(random_tensor({5, 2}, kFloat64, 1), labels5()),
                      Catch::Contains("[5,3]") && Catch::Contains("[5,5]"));
}
