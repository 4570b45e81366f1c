// BatchNorm1d / BatchNorm2d: normalisation values against per-channel statistics computed here,
// running-stat updates (momentum and cumulative), eval mode, options, gradcheck.
#include <cmath>

#include "nn/batchnorm.h"
#include "support/helpers.h"

using namespace retort;
using namespace retort::nn;

namespace {
// The single gradcheck input t, requiring grad.
std::vector<Tensor> leaf(Tensor t) { return {t.set_requires_grad()}; }

struct Stats {
  std::vector<double> mean, var_biased, var_unbiased;
};

// Per-channel statistics of x [N, C, L...] (everything but dim 1), by direct loops.
Stats channel_stats(const Tensor& x) {
  std::int64_t n = x.size(0), c = x.size(1), inner = x.numel() / (n * c);
  auto v = x.to_vector<double>();
  Stats s;
  for (std::int64_t ch = 0; ch < c; ++ch) {
    double sum = 0, sq = 0;
    for (std::int64_t b = 0; b < n; ++b)
      for (std::int64_t i = 0; i < inner; ++i) sum += v[(b * c + ch) * inner + i];
    double m = sum / static_cast<double>(n * inner);
    for (std::int64_t b = 0; b < n; ++b)
      for (std::int64_t i = 0; i < inner; ++i) sq += std::pow(v[(b * c + ch) * inner + i] - m, 2);
    s.mean.push_back(m);
    s.var_biased.push_back(sq / static_cast<double>(n * inner));
    s.var_unbiased.push_back(sq / static_cast<double>(n * inner - 1));
  }
  return s;
}

// (x − mean_c)/√(var_c + eps)·w_c + b_c by direct loops.
Tensor normalize_ref(const Tensor& x, const std::vector<double>& mean,
                     const std::vector<double>& var, const std::vector<double>& w,
                     const std::vector<double>& b, double eps) {
  std::int64_t n = x.size(0), c = x.size(1), inner = x.numel() / (n * c);
  auto v = x.to_vector<double>();
  for (std::int64_t bb = 0; bb < n; ++bb)
    for (std::int64_t ch = 0; ch < c; ++ch)
      for (std::int64_t i = 0; i < inner; ++i) {
        double& e = v[(bb * c + ch) * inner + i];
        e = (e - mean[ch]) / std::sqrt(var[ch] + eps) * w[ch] + b[ch];
      }
  return from_vector(v, x.sizes(), kFloat64);
}

std::vector<double> vec(const Tensor& t) { return t.to_vector<double>(); }

}  // namespace

TEST_CASE("BatchNorm2d training: batch statistics, running-stat update, counter") {
  BatchNorm2d bn(3);
  REQUIRE(bn.named_parameters().size() == 2);
  REQUIRE(vec(bn.weight) == std::vector<double>{1, 1, 1});
  REQUIRE(vec(bn.bias) == std::vector<double>{0, 0, 0});
  bn.to(kFloat64);
  bn.weight.copy_(from_vector({2.0, 0.5, -1.0}, {3}, kFloat64));
  bn.bias.copy_(from_vector({0.1, 0.2, 0.3}, {3}, kFloat64));
  Tensor x1 = testing::random_tensor({4, 3, 5, 5}, kFloat64, 1, 2.0);
  Stats s1 = channel_stats(x1);
  REQUIRE_ALLCLOSE(bn(x1),
                   normalize_ref(x1, s1.mean, s1.var_biased, vec(bn.weight), vec(bn.bias), 1e-5),
                   1e-10, 1e-10);
  REQUIRE(bn.num_batches_tracked.item<std::int64_t>() == 1);
  for (int c = 0; c < 3; ++c) {
    REQUIRE(vec(bn.running_mean)[c] == Approx(0.1 * s1.mean[c]).epsilon(1e-10));
    REQUIRE(vec(bn.running_var)[c] == Approx(0.9 + 0.1 * s1.var_unbiased[c]).epsilon(1e-10));
  }
  Tensor x2 = testing::random_tensor({2, 3, 3, 4}, kFloat64, 2);
  Stats s2 = channel_stats(x2);
  bn(x2);
  REQUIRE(bn.num_batches_tracked.item<std::int64_t>() == 2);
  for (int c = 0; c < 3; ++c)
    REQUIRE(vec(bn.running_mean)[c] ==
            Approx(0.9 * 0.1 * s1.mean[c] + 0.1 * s2.mean[c]).epsilon(1e-10));

  // Eval normalises with the running statistics and leaves them alone.
  bn.eval();
  auto rm = vec(bn.running_mean), rv = vec(bn.running_var);
  REQUIRE_ALLCLOSE(bn(x1), normalize_ref(x1, rm, rv, vec(bn.weight), vec(bn.bias), 1e-5), 1e-10,
                   1e-10);
  REQUIRE(vec(bn.running_mean) == rm);
  REQUIRE(bn.num_batches_tracked.item<std::int64_t>() == 2);
  bn.reset_running_stats();
  REQUIRE(vec(bn.running_var) == std::vector<double>{1, 1, 1});
  REQUIRE(bn.num_batches_tracked.item<std::int64_t>() == 0);
}

TEST_CASE("BatchNorm momentum=None is the cumulative average") {
  BatchNorm2d bn(2, 1e-5, std::nullopt);
  bn.to(kFloat64);
  Tensor x1 = testing::random_tensor({3, 2, 4, 4}, kFloat64, 3);
  Tensor x2 = testing::random_tensor({3, 2, 4, 4}, kFloat64, 4, 3.0);
  bn(x1);
  bn(x2);
  Stats s1 = channel_stats(x1), s2 = channel_stats(x2);
  for (int c = 0; c < 2; ++c) {
    REQUIRE(vec(bn.running_mean)[c] == Approx((s1.mean[c] + s2.mean[c]) / 2).epsilon(1e-10));
    REQUIRE(vec(bn.running_var)[c] ==
            Approx((s1.var_unbiased[c] + s2.var_unbiased[c]) / 2).epsilon(1e-10));
  }
}

TEST_CASE("BatchNorm options: affine=false, track_running_stats=false") {
  BatchNorm2d plain(2, 1e-3, 0.1, /*affine=*/false);
  REQUIRE(plain.named_parameters().empty());
  REQUIRE(plain.named_buffers().size() == 3);
  BatchNorm2d untracked(2, 1e-5, 0.1, true, /*track_running_stats=*/false);
  REQUIRE(untracked.named_buffers().empty());
  REQUIRE(untracked.state_dict().size() == 2);
  untracked.to(kFloat64);
  untracked.eval();  // no running stats: still batch statistics
  Tensor x = testing::random_tensor({2, 2, 3, 3}, kFloat64, 5);
  Stats s = channel_stats(x);
  REQUIRE_ALLCLOSE(untracked(x), normalize_ref(x, s.mean, s.var_biased, {1, 1}, {0, 0}, 1e-5),
                   1e-10, 1e-10);
  plain.to(kFloat64);
  REQUIRE_ALLCLOSE(plain(x), normalize_ref(x, s.mean, s.var_biased, {1, 1}, {0, 0}, 1e-3), 1e-10,
                   1e-10);
}

TEST_CASE("BatchNorm1d on [N, C] and [N, C, L]") {
  BatchNorm1d bn(3);
  bn.to(kFloat64);
  Tensor x2 = testing::random_tensor({5, 3}, kFloat64, 6);
  Stats s2 = channel_stats(x2);
  REQUIRE_ALLCLOSE(bn(x2), normalize_ref(x2, s2.mean, s2.var_biased, {1, 1, 1}, {0, 0, 0}, 1e-5),
                   1e-10, 1e-10);
  Tensor x3 = testing::random_tensor({4, 3, 7}, kFloat64, 7);
  Stats s3 = channel_stats(x3);
  Tensor y3 = bn(x3);
  REQUIRE(y3.sizes() == Shape{4, 3, 7});
  REQUIRE_ALLCLOSE(y3, normalize_ref(x3, s3.mean, s3.var_biased, {1, 1, 1}, {0, 0, 0}, 1e-5), 1e-10,
                   1e-10);
  REQUIRE(bn.num_batches_tracked.item<std::int64_t>() == 2);
  REQUIRE_THROWS_WITH(bn(zeros({4, 2}, kFloat64)),
                      Catch::Contains("BatchNorm1d") && Catch::Contains("[4,2]"));
  BatchNorm2d bn2(3);
  REQUIRE_THROWS_WITH(bn2(zeros({4, 3})), Catch::Contains("BatchNorm2d"));
}

TEST_CASE("BatchNorm2d gradcheck in training mode (input, weight, bias)") {
  BatchNorm2d bn(3);
  bn.to(kFloat64);
  bn.weight.copy_(from_vector({1.5, -0.7, 0.9}, {3}, kFloat64));
  auto fn = [&](const std::vector<Tensor>& in) { return bn(in[0]); };
  REQUIRE_GRADCHECK(fn, leaf(testing::random_tensor({2, 3, 3, 2}, kFloat64, 8)));
  bn.eval();
  REQUIRE_GRADCHECK(fn, leaf(testing::random_tensor({1, 3, 3, 3}, kFloat64, 9)));
  // Parameter gradients flow too.
  bn.train();
  Tensor y = bn(testing::random_tensor({2, 3, 2, 2}, kFloat64, 10));
  y.backward(testing::random_tensor({2, 3, 2, 2}, kFloat64, 11));
  REQUIRE(bn.weight.grad().defined());
  REQUIRE(bn.bias.grad().defined());
}
