// Losses: values and input gradients against PyTorch (tests/fixtures/nn/losses.txt, written by
// tests/tools/make_nn_fixtures.py from the same inputs as below), float64 gradchecks of every
// loss with its options, and error messages.
#include <cmath>
#include <functional>

#include "autograd/ops/elementwise.h"
#include "autograd/ops/nn_ops.h"
#include "autograd/ops/reduce.h"
#include "autograd/ops/shape.h"
#include "fixture_util.h"
#include "nn/functional.h"
#include "support/helpers.h"

using namespace retort;
using F::Reduction;

namespace {
// The single gradcheck input t, requiring grad.
std::vector<Tensor> leaf(Tensor t) { return {t.set_requires_grad()}; }

// The fixture inputs: element i of a [5, 4] tensor (see write_losses in the generator).
Tensor wave(double (*f)(double), double freq, double phase, double amp) {
  std::vector<double> v(20);
  for (int i = 0; i < 20; ++i) v[i] = f(freq * i + phase) * amp;
  return from_vector(v, {5, 4}, kFloat64);
}
double sin_(double x) { return std::sin(x); }
double cos_(double x) { return std::cos(x); }

struct Inputs {
  Tensor logits = wave(sin_, 0.7, 0.2, 2.0);
  Tensor a = wave(cos_, 0.3, 0.0, 1.5);
  Tensor b = wave(sin_, 0.45, 1.0, 1.2);
  Tensor target = from_vector(std::vector<std::int64_t>{1, 0, 3, 2, 1}, {5});
  Tensor target_ign = from_vector(std::vector<std::int64_t>{1, 2, 3, 2, 0}, {5});
  Tensor logq = log_softmax(b, 1);
  Tensor p = softmax(a, 1);
  Tensor p0;
  Inputs() {
    p0 = p.clone();
    p0.data<double>()[1] = 0.0;  // [0, 1]: exercises 0·log 0
  }
};

using LossFn = std::function<Tensor(const Tensor&)>;

// Every fixture case: its loss as a function of the first input, and that input.
std::vector<std::tuple<std::string, LossFn, Tensor>> cases(const Inputs& in) {
  std::vector<std::tuple<std::string, LossFn, Tensor>> out;
  std::vector<std::pair<std::string, Reduction>> reds = {
      {"mean", Reduction::Mean}, {"sum", Reduction::Sum}, {"none", Reduction::None}};
  for (auto [name, r] : reds) {
    out.emplace_back(
        "ce_" + name, [&in, r](const Tensor& x) { return F::cross_entropy(x, in.target, {r}); },
        in.logits);
    out.emplace_back(
        "ce_ls_" + name,
        [&in, r](const Tensor& x) {
          return F::cross_entropy(x, in.target, {r, 0.2});
        },
        in.logits);
    out.emplace_back(
        "ce_ls_ign_" + name,
        [&in, r](const Tensor& x) {
          return F::cross_entropy(x, in.target_ign, {r, 0.15, 2});
        },
        in.logits);
    out.emplace_back(
        "nll_" + name,
        [&in, r](const Tensor& x) { return F::nll_loss(log_softmax(x, 1), in.target, {r}); },
        in.logits);
    out.emplace_back(
        "mse_" + name, [&in, r](const Tensor& x) { return F::mse_loss(x, in.b, r); }, in.a);
    out.emplace_back(
        "l1_" + name, [&in, r](const Tensor& x) { return F::l1_loss(x, in.b, r); }, in.a);
    out.emplace_back(
        "smoothl1_" + name,
        [&in, r](const Tensor& x) { return F::smooth_l1_loss(x, in.b, r, 0.7); }, in.a);
  }
  reds.insert(reds.begin(), {"batchmean", Reduction::BatchMean});
  for (auto [name, r] : reds) {
    out.emplace_back(
        "kl_" + name, [&in, r](const Tensor& x) { return F::kl_div(x, in.p0, r); }, in.logq);
    out.emplace_back(
        "kllog_" + name,
        [&in, r](const Tensor& x) { return F::kl_div(x, log(in.p), r, /*log_target=*/true); },
        in.logq);
  }
  out.emplace_back(
      "cos_dim1", [&in](const Tensor& x) { return F::cosine_similarity(x, in.b, 1); }, in.a);
  out.emplace_back(
      "cos_dim0", [&in](const Tensor& x) { return F::cosine_similarity(x, in.b, 0, 1e-8); }, in.a);
  return out;
}

}  // namespace

TEST_CASE("every loss matches PyTorch: values and gradients (float64)") {
  Inputs in;
  auto fixture = testing::read_loss_fixture();
  auto all = cases(in);
  REQUIRE(all.size() == fixture.size());
  for (auto& [name, fn, input] : all) {
    INFO(name);
    REQUIRE(fixture.count(name) == 1);
    const auto& [want_vals, want_grad] = fixture.at(name);
    Tensor x = input.clone().set_requires_grad();
    Tensor y = fn(x);
    REQUIRE(y.numel() == static_cast<std::int64_t>(want_vals.size()));
    REQUIRE_ALLCLOSE(reshape(y, {y.numel()}), from_vector(want_vals, {y.numel()}, kFloat64), 1e-12,
                     1e-10);
    sum(y).backward();
    REQUIRE_ALLCLOSE(reshape(x.grad(), {x.numel()}), from_vector(want_grad, {x.numel()}, kFloat64),
                     1e-12, 1e-10);
  }
}

TEST_CASE("every loss passes a float64 gradcheck, including options") {
  Inputs in;
  for (auto& [name, fn, input] : cases(in)) {
    INFO(name);
    auto f = [&fn = fn](const std::vector<Tensor>& v) { return fn(v[0]); };
    REQUIRE_GRADCHECK(f, leaf(input.clone()));
  }
  // Gradients with respect to the targets of the regression losses and kl_div.
  auto two = [](std::function<Tensor(const Tensor&, const Tensor&)> g) {
    return [g](const std::vector<Tensor>& v) { return g(v[0], v[1]); };
  };
  std::vector<Tensor> ab = {in.a.clone().set_requires_grad(), in.b.clone().set_requires_grad()};
  REQUIRE_GRADCHECK(two([](const Tensor& x, const Tensor& t) { return F::mse_loss(x, t); }), ab);
  REQUIRE_GRADCHECK(
      two([](const Tensor& x, const Tensor& t) { return F::l1_loss(x, t, Reduction::Sum); }), ab);
  REQUIRE_GRADCHECK(two([](const Tensor& x, const Tensor& t) {
                      return F::smooth_l1_loss(x, t, Reduction::None, 2.0);
                    }),
                    ab);
  REQUIRE_GRADCHECK(
      two([](const Tensor& x, const Tensor& t) { return F::cosine_similarity(x, t, 1); }), ab);
  std::vector<Tensor> qp = {in.logq.clone().set_requires_grad(), in.p.clone().set_requires_grad()};
  REQUIRE_GRADCHECK(
      two([](const Tensor& x, const Tensor& t) { return F::kl_div(x, t, Reduction::BatchMean); }),
      qp);
  std::vector<Tensor> qlp = {in.logq.clone().set_requires_grad(), log(in.p).set_requires_grad()};
  REQUIRE_GRADCHECK(
      two([](const Tensor& x, const Tensor& t) { return F::kl_div(x, t, Reduction::Sum, true); }),
      qlp);
}

TEST_CASE("cross_entropy and nll_loss name a bad label and its position") {
  Inputs in;
  Tensor bad = from_vector(std::vector<std::int64_t>{1, 0, 7, 2, 1}, {5});
  REQUIRE_THROWS_WITH(F::cross_entropy(in.logits, bad),
                      Catch::Contains("cross_entropy") && Catch::Contains("label 7") &&
                          Catch::Contains("position 2") && Catch::Contains("[0, 4)"));
  Tensor neg = from_vector(std::vector<std::int64_t>{-1, 0, 1, 2, 3}, {5});
  REQUIRE_THROWS_WITH(F::nll_loss(in.logits, neg), Catch::Contains("nll_loss") &&
                                                       Catch::Contains("label -1") &&
                                                       Catch::Contains("position 0"));
  // -100 is only ignored when asked for (no implicit PyTorch default).
  Tensor ign = from_vector(std::vector<std::int64_t>{-100, 0, 1, -100, 3}, {5});
  REQUIRE_THROWS_WITH(F::cross_entropy(in.logits, ign), Catch::Contains("label -100"));
  Tensor l = F::cross_entropy(in.logits, ign, {Reduction::Mean, 0.0, -100});
  Tensor per = F::cross_entropy(in.logits, ign, {Reduction::None, 0.0, -100});
  REQUIRE(per.to_vector<double>()[0] == 0.0);
  REQUIRE(l.item<double>() == Approx(sum(per).item<double>() / 3));
  // Everything ignored: 0/0, as in PyTorch.
  Tensor all = from_vector(std::vector<std::int64_t>{5, 5, 5, 5, 5}, {5});
  REQUIRE(std::isnan(F::cross_entropy(in.logits, all, {Reduction::Mean, 0.0, 5}).item<double>()));

  REQUIRE_THROWS_WITH(F::cross_entropy(in.logits, in.a), Catch::Contains("int64"));
  REQUIRE_THROWS_WITH(F::cross_entropy(in.logits, in.target, {Reduction::Mean, 1.5}),
                      Catch::Contains("label_smoothing"));
  REQUIRE_THROWS_WITH(F::cross_entropy(reshape(in.logits, {20}), in.target),
                      Catch::Contains("[N, C]"));
  REQUIRE_THROWS_WITH(F::mse_loss(in.a, zeros({4, 5}, kFloat64)), Catch::Contains("mse_loss") &&
                                                                      Catch::Contains("[5,4]") &&
                                                                      Catch::Contains("[4,5]"));
  REQUIRE_THROWS_WITH(F::l1_loss(in.a, in.b, Reduction::BatchMean), Catch::Contains("BatchMean"));
}

TEST_CASE("float32 cross_entropy agrees with float64") {
  Inputs in;
  Tensor l64 = F::cross_entropy(in.logits, in.target, {Reduction::Mean, 0.1});
  Tensor l32 = F::cross_entropy(in.logits.to(kFloat32), in.target, {Reduction::Mean, 0.1});
  REQUIRE(l32.dtype() == kFloat32);
  REQUIRE(l32.item<double>() == Approx(l64.item<double>()).epsilon(1e-6));
}

TEST_CASE("cosine_similarity of a zero vector has finite gradients") {
  Tensor a = zeros({2, 3}, kFloat64).set_requires_grad();
  Tensor b = testing::random_tensor({2, 3}, kFloat64, 1);
  Tensor c = F::cosine_similarity(a, b, 1);
  REQUIRE(c.to_vector<double>() == std::vector<double>{0.0, 0.0});
  sum(c).backward();
  for (double g : a.grad().to_vector<double>()) REQUIRE(std::isfinite(g));
}

TEST_CASE("accuracy counts argmax hits") {
  Tensor logits = from_vector({1.0, 2.0, 3.0, 0.0, 0.0, 0.5}, {3, 2}, kFloat32);
  Tensor target = from_vector(std::vector<std::int64_t>{1, 0, 0}, {3});
  REQUIRE(F::count_correct(logits, target) == 2);
  REQUIRE(F::accuracy(logits, target) == Approx(2.0 / 3.0));
  REQUIRE_THROWS_WITH(F::accuracy(logits, from_vector(std::vector<std::int64_t>{1}, {1})),
                      Catch::Contains("accuracy"));
}
