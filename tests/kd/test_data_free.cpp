// Data-free distillation pieces: the BN-statistics loss against the formula computed by hand, and
// its float64 gradcheck through the taps; DeepInversion's TV prior and jitter; DAFL's generator
// loss and generator (shapes, the reference's state-dict names and parameter count); and a short
// DeepInversion run that drives a small BN teacher to its targets without touching its weights.
#include <cmath>

#include "autograd/grad_mode.h"
#include "autograd/ops/elementwise.h"
#include "autograd/ops/nn_ops.h"
#include "autograd/ops/reduce.h"
#include "kd/dafl_generator.h"
#include "kd/data_free.h"
#include "nn/basic.h"
#include "nn/linear.h"
#include "nn/pooling.h"
#include "support/helpers.h"

using namespace retort;
using Catch::Contains;
using V = const std::vector<Tensor>&;

namespace {

// conv → BN → relu → conv → BN → relu → global pool → flatten → linear: a teacher with two BN layers.
std::shared_ptr<nn::Sequential> small_bn_net(std::int64_t classes = 3) {
  return nn::make_sequential(std::make_shared<nn::Conv2d>(3, 4, 3, 1, 1), std::make_shared<nn::BatchNorm2d>(4),
                             std::make_shared<nn::ReLU>(), std::make_shared<nn::Conv2d>(4, 5, 3, 2, 1),
                             std::make_shared<nn::BatchNorm2d>(5), std::make_shared<nn::ReLU>(),
                             std::make_shared<nn::AdaptiveAvgPool2d>(std::array<std::int64_t, 2>{1, 1}),
                             std::make_shared<nn::Flatten>(), std::make_shared<nn::Linear>(5, classes));
}

void set_running(nn::Sequential& net, std::uint64_t seed) {
  for (std::size_t i : {1u, 4u}) {
    auto bn = net.at<nn::BatchNorm2d>(i);
    bn->running_mean.copy_(testing::random_tensor(bn->running_mean.sizes(), bn->running_mean.dtype(), seed + i));
    bn->running_var.copy_(abs(testing::random_tensor(bn->running_var.sizes(), bn->running_var.dtype(), seed + 9 * i)) + 0.5);
  }
}

}  // namespace

TEST_CASE("BnStatisticsLoss is the sum of the L2 gaps of each BN input's statistics", "[kd][data_free]") {
  manual_seed(1);
  auto net = small_bn_net();
  net->to(kFloat64);
  set_running(*net, 3);
  net->eval();
  kd::BnStatisticsLoss loss(*net);
  REQUIRE(loss.layers() == 2);
  REQUIRE_THROWS_WITH(loss.loss(), Contains("1"));  // no forward yet: the tap names its path
  Tensor x = testing::random_tensor({4, 3, 6, 6}, kFloat64, 5);
  (*net)(x);
  // By hand: BN inputs are the conv outputs, statistics over N, H, W with the biased variance.
  Tensor a = (*net->at<nn::Conv2d>(0))(x);
  Tensor a2 = (*net->at<nn::Conv2d>(3))(relu((*net->at<nn::BatchNorm2d>(1))(a)));
  double want = 0;
  for (auto [t, i] : {std::pair{a, 1u}, std::pair{a2, 4u}}) {
    auto bn = net->at<nn::BatchNorm2d>(i);
    const std::int64_t n = t.size(0), c = t.size(1), hw = t.size(2) * t.size(3);
    std::vector<double> v = t.contiguous().to_vector<double>(), rm = bn->running_mean.to_vector<double>(),
                        rv = bn->running_var.to_vector<double>();
    double dm = 0, dv = 0;
    for (std::int64_t ch = 0; ch < c; ++ch) {
      double s = 0, s2 = 0;
      for (std::int64_t b = 0; b < n; ++b)
        for (std::int64_t k = 0; k < hw; ++k) s += v[(b * c + ch) * hw + k];
      double mu = s / static_cast<double>(n * hw);
      for (std::int64_t b = 0; b < n; ++b)
        for (std::int64_t k = 0; k < hw; ++k) s2 += std::pow(v[(b * c + ch) * hw + k] - mu, 2);
      dm += std::pow(mu - rm[ch], 2);
      dv += std::pow(s2 / static_cast<double>(n * hw) - rv[ch], 2);
    }
    want += std::sqrt(dm) + std::sqrt(dv);
  }
  REQUIRE(std::abs(loss.loss().item<double>() - want) < 1e-10);
  REQUIRE_GRADCHECK([&](V t) { (*net)(t[0]); return loss.loss(); },
                    std::vector<Tensor>{testing::grad_leaf({3, 3, 4, 4}, 8)});
  auto plain = nn::make_sequential(std::make_shared<nn::Linear>(2, 2));
  REQUIRE_THROWS_WITH(kd::BnStatisticsLoss(*plain), Contains("no BatchNorm2d"));
}

TEST_CASE("total_variation and roll_flip", "[kd][data_free]") {
  Tensor x = testing::random_tensor({2, 2, 3, 4}, kFloat64, 2);
  std::vector<double> v = x.to_vector<double>();
  auto at = [&](int b, int c, int h, int w) { return v[((b * 2 + c) * 3 + h) * 4 + w]; };
  double sw = 0, sh = 0, sa = 0, sd = 0;
  for (int b = 0; b < 2; ++b)
    for (int c = 0; c < 2; ++c)
      for (int h = 0; h < 3; ++h)
        for (int w = 0; w < 4; ++w) {
          if (w < 3) sw += std::pow(at(b, c, h, w) - at(b, c, h, w + 1), 2);
          if (h < 2) sh += std::pow(at(b, c, h, w) - at(b, c, h + 1, w), 2);
          if (h < 2 && w < 3) sa += std::pow(at(b, c, h + 1, w) - at(b, c, h, w + 1), 2);
          if (h < 2 && w < 3) sd += std::pow(at(b, c, h, w) - at(b, c, h + 1, w + 1), 2);
        }
  REQUIRE(std::abs(kd::total_variation(x).item<double>() - (std::sqrt(sw) + std::sqrt(sh) + std::sqrt(sa) + std::sqrt(sd))) < 1e-12);
  REQUIRE_GRADCHECK([](V t) { return kd::total_variation(t[0]); }, std::vector<Tensor>{testing::grad_leaf({1, 2, 3, 3}, 4)});
  REQUIRE_THROWS_WITH(kd::total_variation(zeros({1, 1, 1, 4})), Contains("H, W >= 2"));

  // torch.roll(x, (1, -1), (2, 3)) then torch.flip(·, (3,)): y[h, w] = x[(h − 1) mod 3, (3 − w + 1) mod 4].
  Tensor y = kd::roll_flip(x, 1, -1, true);
  std::vector<double> yv = y.to_vector<double>();
  for (int b = 0; b < 2; ++b)
    for (int c = 0; c < 2; ++c)
      for (int h = 0; h < 3; ++h)
        for (int w = 0; w < 4; ++w) REQUIRE(yv[((b * 2 + c) * 3 + h) * 4 + w] == at(b, c, (h + 2) % 3, (3 - w + 1) % 4));
  REQUIRE_GRADCHECK([](V t) { return kd::roll_flip(t[0], -2, 3, true); }, std::vector<Tensor>{testing::grad_leaf({1, 1, 3, 4}, 6)});
}

TEST_CASE("dafl_generator_loss: one-hot, activation and log10 entropy terms", "[kd][data_free]") {
  Tensor t = testing::random_tensor({4, 3}, kFloat64, 1);
  Tensor f = testing::random_tensor({4, 5}, kFloat64, 2);
  kd::DaflLoss l = kd::dafl_generator_loss(t, f, {.oh = 0.5, .a = 0.25, .ie = 2});
  std::vector<double> tv = t.to_vector<double>(), fv = f.to_vector<double>();
  double ce = 0, act = 0, pm[3] = {0, 0, 0};
  for (int b = 0; b < 4; ++b) {
    double mx = std::max({tv[b * 3], tv[b * 3 + 1], tv[b * 3 + 2]}), z = 0;
    for (int k = 0; k < 3; ++k) z += std::exp(tv[b * 3 + k] - mx);
    ce += -(0.0 - std::log(z));  // the arg-max logit minus the log-sum-exp, shifted by mx
    for (int k = 0; k < 3; ++k) pm[k] += std::exp(tv[b * 3 + k] - mx) / z / 4;
  }
  for (double v : fv) act += std::abs(v);
  double ie = 0;
  for (double p : pm) ie += p * std::log10(p);
  REQUIRE(std::abs(l.one_hot.item<double>() - ce / 4) < 1e-12);
  REQUIRE(std::abs(l.activation.item<double>() + act / 20) < 1e-12);
  REQUIRE(std::abs(l.info_entropy.item<double>() - ie) < 1e-12);
  REQUIRE(std::abs(l.total.item<double>() - (0.5 * ce / 4 - 0.25 * act / 20 + 2 * ie)) < 1e-12);
  std::vector<Tensor> leaves{testing::grad_leaf({4, 3}, 3), testing::grad_leaf({4, 5}, 4)};
  REQUIRE_GRADCHECK([](V v) { return kd::dafl_generator_loss(v[0], v[1]).total; }, leaves);
  REQUIRE_THROWS_WITH(kd::dafl_generator_loss(t, zeros({3, 5})), Contains("dafl_generator_loss"));
}

TEST_CASE("DaflGenerator: the reference's layers, names and parameter count", "[kd][data_free]") {
  manual_seed(3);
  kd::DaflGenerator g(1000, 32, 3);
  // Linear(1000, 8192) + BN(128) + conv 128→128 + BN(128) + conv 128→64 + BN(64) + conv 64→3.
  REQUIRE(g.num_parameters() == 8200192 + 256 + 147584 + 256 + 73792 + 128 + 1731);
  std::vector<std::string> keys;
  for (const auto& [k, v] : g.state_dict()) keys.push_back(k);
  REQUIRE(keys.front() == "l1.0.weight");
  REQUIRE(std::find(keys.begin(), keys.end(), "conv_blocks1.1.running_var") != keys.end());
  REQUIRE(std::find(keys.begin(), keys.end(), "conv_blocks2.5.running_mean") != keys.end());
  REQUIRE(std::find(keys.begin(), keys.end(), "conv_blocks2.5.weight") == keys.end());  // affine = false
  REQUIRE(kd::DaflGenerator(10, 8, 1, 4).num_parameters() == 10 * 16 + 1 * 16 + 8 + 4 * 4 * 9 + 4 + 8 + 4 * 2 * 9 + 2 + 4 + 2 * 9 + 1);
  kd::DaflGenerator small(8, 8, 3);
  Tensor img = small(randn({4, 8}));
  REQUIRE(img.sizes() == Shape{4, 3, 8, 8});
  // The last BN (training mode, no affine) standardises each channel over the batch.
  REQUIRE(std::abs(mean(img).item<double>()) < 1e-5);
  REQUIRE_THROWS_WITH(small(randn({4, 7})), Contains("z must be [B, 8]"));
  REQUIRE_THROWS_WITH(kd::DaflGenerator(8, 30), Contains("multiple of 4"));
  REQUIRE_THROWS_WITH(kd::DaflGenerator(8, 8, 3, 5), Contains("even"));
}

TEST_CASE("deep_inversion reaches the targets without changing the teacher", "[kd][data_free]") {
  manual_seed(4);
  auto net = small_bn_net();
  {  // running statistics of a "data set" that N(0, 1) starting images do not match: N(0.5, 2²)
    NoGradGuard ng;
    for (int i = 0; i < 60; ++i) (*net)(randn({16, 3, 8, 8}) * 2.0 + 0.5);
    auto fc = net->at<nn::Linear>(8);  // confident logits, as a trained teacher's
    fc->weight.copy_(fc->weight * 10.0);
  }
  std::vector<Tensor> before;
  for (const auto& p : net->parameters()) before.push_back(p.clone());
  Tensor y = from_vector(std::vector<std::int64_t>{0, 1, 2, 0, 1, 2}, {6});
  std::vector<kd::DeepInversionStep> steps;
  Generator gen(11);
  Tensor x = kd::deep_inversion(*net, y, {3, 8, 8}, {.iterations = 60, .lr = 0.1}, gen,
                                [&](const kd::DeepInversionStep& s) { steps.push_back(s); });
  REQUIRE(x.sizes() == Shape{6, 3, 8, 8});
  REQUIRE_FALSE(x.requires_grad());
  REQUIRE(steps.size() == 60);
  REQUIRE(steps.back().iteration == 60);
  REQUIRE(steps.back().total < 0.5 * steps.front().total);
  REQUIRE(steps.back().bn < 0.25 * steps.front().bn);
  // The cross-entropy term alone drives every image to its target class.
  steps.clear();
  kd::deep_inversion(*net, y, {3, 8, 8}, {.iterations = 60, .lr = 0.1, .r_feature = 0, .tv = 0}, gen,
                     [&](const kd::DeepInversionStep& s) { steps.push_back(s); });
  REQUIRE(steps.back().ce < 0.5 * steps.front().ce);
  REQUIRE(steps.back().accuracy == 100.0);
  auto after = net->parameters();
  for (std::size_t i = 0; i < before.size(); ++i) REQUIRE_ALLCLOSE(after[i], before[i], 0, 0);
  REQUIRE_FALSE(net->is_training());
  REQUIRE_THROWS_WITH(kd::deep_inversion(*net, zeros({2}), {3, 8, 8}, {}, gen), Contains("int64"));
}
