// Layers: output shapes and values against hand computations, parameter registration, and
// float64 gradchecks of the layers with their options. Initialisation statistics are in
// test_init.cpp, BatchNorm in test_batchnorm.cpp.
#include <cmath>

#include "autograd/ops/elementwise.h"
#include "autograd/ops/reduce.h"
#include "nn/nn.h"
#include "support/helpers.h"
#include "tensor/random.h"

using namespace retort;
using namespace retort::nn;

namespace {
// The single gradcheck input t, requiring grad.
std::vector<Tensor> leaf(Tensor t) { return {t.set_requires_grad()}; }

Tensor f64(std::vector<double> v, Shape s) { return from_vector(v, s, kFloat64); }

// Direct-loop convolution (the definition in autograd/ops/nn_ops.h), for hand-checking Conv2d.
Tensor naive_conv(const Tensor& x, const Conv2d& c) {
  const auto& o = c.options;
  std::int64_t n = x.size(0), h = x.size(2), w = x.size(3);
  std::int64_t kh = c.kernel_size[0], kw = c.kernel_size[1];
  std::int64_t oh = (h + 2 * o.padding[0] - o.dilation[0] * (kh - 1) - 1) / o.stride[0] + 1;
  std::int64_t ow = (w + 2 * o.padding[1] - o.dilation[1] * (kw - 1) - 1) / o.stride[1] + 1;
  std::int64_t cin_g = c.in_channels / o.groups, cout_g = c.out_channels / o.groups;
  auto xv = x.to_vector<double>(), wv = c.weight.to_vector<double>();
  std::vector<double> bv =
      c.bias.defined() ? c.bias.to_vector<double>() : std::vector<double>(c.out_channels, 0.0);
  std::vector<double> y(static_cast<std::size_t>(n * c.out_channels * oh * ow));
  for (std::int64_t b = 0; b < n; ++b)
    for (std::int64_t oc = 0; oc < c.out_channels; ++oc)
      for (std::int64_t i = 0; i < oh; ++i)
        for (std::int64_t j = 0; j < ow; ++j) {
          double acc = bv[oc];
          std::int64_t g = oc / cout_g;
          for (std::int64_t ci = 0; ci < cin_g; ++ci)
            for (std::int64_t a = 0; a < kh; ++a)
              for (std::int64_t bb = 0; bb < kw; ++bb) {
                std::int64_t r = i * o.stride[0] - o.padding[0] + a * o.dilation[0];
                std::int64_t q = j * o.stride[1] - o.padding[1] + bb * o.dilation[1];
                if (r < 0 || r >= h || q < 0 || q >= w) continue;
                acc += xv[((b * c.in_channels + g * cin_g + ci) * h + r) * w + q] *
                       wv[((oc * cin_g + ci) * kh + a) * kw + bb];
              }
          y[((b * c.out_channels + oc) * oh + i) * ow + j] = acc;
        }
  return f64(y, {n, c.out_channels, oh, ow});
}
}  // namespace

TEST_CASE("Linear: y = x·Wᵀ + b on any leading dims") {
  Linear lin(3, 2);
  REQUIRE(lin.named_parameters().size() == 2);
  lin.to(kFloat64);
  lin.weight.copy_(f64({1, 2, 3, -1, 0, 1}, {2, 3}));
  lin.bias.copy_(f64({0.5, -0.5}, {2}));
  Tensor x = f64({1, 1, 1, 2, 0, -1}, {2, 3});
  REQUIRE_ALLCLOSE(lin(x), f64({6.5, -0.5, -0.5, -3.5}, {2, 2}), 1e-12, 0);
  Tensor x3 = testing::random_tensor({2, 4, 3}, kFloat64, 1);
  REQUIRE(lin(x3).sizes() == Shape{2, 4, 2});
  Linear nobias(3, 2, false);
  REQUIRE(nobias.named_parameters().size() == 1);
  REQUIRE_FALSE(nobias.bias.defined());
  REQUIRE_THROWS_WITH(lin(zeros({2, 4}, kFloat64)),
                      Catch::Contains("Linear") && Catch::Contains("[2,4]"));
  auto fn = [&](const std::vector<Tensor>& in) { return lin(in[0]); };
  REQUIRE_GRADCHECK(fn, leaf(testing::random_tensor({3, 3}, kFloat64, 2)));
}

TEST_CASE("Conv2d: shapes and values with stride, padding, dilation, groups, no bias") {
  struct Case {
    std::int64_t cin, cout, k, stride, pad, dil, groups;
    bool bias;
    Shape in;
  };
  std::vector<Case> cases = {{3, 4, 3, 1, 1, 1, 1, true, {2, 3, 5, 5}},
                             {3, 5, 3, 2, 0, 1, 1, true, {1, 3, 7, 6}},
                             {4, 6, 3, 2, 1, 2, 2, false, {2, 4, 9, 8}},
                             {6, 3, 1, 1, 0, 1, 3, true, {1, 6, 3, 4}}};
  for (const auto& c : cases) {
    Conv2d conv(c.cin, c.cout, c.k, c.stride, c.pad, c.dil, c.groups, c.bias);
    conv.to(kFloat64);
    REQUIRE(conv.weight.sizes() == Shape{c.cout, c.cin / c.groups, c.k, c.k});
    REQUIRE(conv.named_parameters().size() == (c.bias ? 2u : 1u));
    Tensor x = testing::random_tensor(c.in, kFloat64, 3);
    REQUIRE_ALLCLOSE(conv(x), naive_conv(x, conv), 1e-12, 1e-12);
  }
  // A hand-computed case: all-ones 2×2 kernel on 0..8 sums each window.
  Conv2d box(1, 1, 2, 1, 0, 1, 1, false);
  box.to(kFloat64);
  box.weight.fill_(1.0);
  Tensor x = f64({0, 1, 2, 3, 4, 5, 6, 7, 8}, {1, 1, 3, 3});
  REQUIRE_ALLCLOSE(box(x), f64({8, 12, 20, 24}, {1, 1, 2, 2}), 1e-12, 0);
  Conv2d rect(2, 2, Size2{1, 3}, Conv2dOptions{{1, 2}, {0, 1}, {1, 1}, 1});
  REQUIRE(rect(zeros({1, 2, 4, 5})).sizes() == Shape{1, 2, 4, 3});

  REQUIRE_THROWS_WITH(Conv2d(3, 4, 3, 1, 0, 1, 2), Catch::Contains("groups"));
  Conv2d conv(3, 4, 3);
  REQUIRE_THROWS_WITH(conv(zeros({1, 2, 5, 5})),
                      Catch::Contains("Conv2d") && Catch::Contains("[1,2,5,5]"));

  Conv2d g(4, 2, 3, 2, 1, 1, 2);
  g.to(kFloat64);
  auto fn = [&](const std::vector<Tensor>& in) { return g(in[0]); };
  REQUIRE_GRADCHECK(fn, leaf(testing::random_tensor({1, 4, 5, 5}, kFloat64, 4)));
}

TEST_CASE("ReLU, Flatten, Identity") {
  ReLU r;
  REQUIRE_ALLCLOSE(r(f64({-1, 0.5, 0, 2}, {2, 2})), f64({0, 0.5, 0, 2}, {2, 2}), 0, 0);
  Flatten fl;
  REQUIRE(fl(zeros({2, 3, 4, 5})).sizes() == Shape{2, 60});
  Flatten fl2(0, 1);
  REQUIRE(fl2(zeros({2, 3, 4})).sizes() == Shape{6, 4});
  Identity id;
  Tensor x = zeros({3});
  REQUIRE(id(x).same(x));
}

TEST_CASE("MaxPool2d, AvgPool2d, AdaptiveAvgPool2d values") {
  std::vector<double> v(16);
  for (int i = 0; i < 16; ++i) v[i] = i;
  Tensor x = f64(v, {1, 1, 4, 4});
  MaxPool2d mp(2);
  REQUIRE(mp.stride == Size2{2, 2});
  REQUIRE_ALLCLOSE(mp(x), f64({5, 7, 13, 15}, {1, 1, 2, 2}), 0, 0);
  MaxPool2d mp3(3, 1);
  REQUIRE_ALLCLOSE(mp3(x), f64({10, 11, 14, 15}, {1, 1, 2, 2}), 0, 0);
  AvgPool2d ap(2);
  REQUIRE_ALLCLOSE(ap(x), f64({2.5, 4.5, 10.5, 12.5}, {1, 1, 2, 2}), 1e-12, 0);
  // Padding 1, stride 2, kernel 2 on 4×4 → 3×3; corners see 1 real value of 4 (zeros counted).
  AvgPool2d app(2, 2, 1);
  Tensor y = app(x);
  REQUIRE(y.sizes() == Shape{1, 1, 3, 3});
  REQUIRE(y.to_vector<double>()[0] == Approx(0.0 / 4));
  REQUIRE(y.to_vector<double>()[8] == Approx(15.0 / 4));
  AvgPool2d app_ex(2, 2, 1, /*count_include_pad=*/false);
  REQUIRE(app_ex(x).to_vector<double>()[8] == Approx(15.0));
  // Adaptive 4×4 → 3×3: windows [0,2), [1,3), [2,4) in each dim.
  AdaptiveAvgPool2d ad(3);
  Tensor a = ad(x);
  REQUIRE(a.sizes() == Shape{1, 1, 3, 3});
  REQUIRE(a.to_vector<double>()[0] == Approx((0 + 1 + 4 + 5) / 4.0));
  REQUIRE(a.to_vector<double>()[4] == Approx((5 + 6 + 9 + 10) / 4.0));
  AdaptiveAvgPool2d global(1);
  REQUIRE(global(x).to_vector<double>()[0] == Approx(7.5));
  REQUIRE(MaxPool2d(2)(zeros({2, 3, 7, 5})).sizes() == Shape{2, 3, 3, 2});
  REQUIRE_THROWS_WITH(mp(zeros({4, 4})), Catch::Contains("MaxPool2d"));
  REQUIRE_THROWS_WITH(MaxPool2d(2, 2, 2), Catch::Contains("padding"));

  auto pools = [&](const std::vector<Tensor>& in) { return mp3(in[0]) * ap(in[0]); };
  REQUIRE_GRADCHECK(pools, leaf(testing::random_tensor({1, 2, 4, 4}, kFloat64, 5)));
  auto padded = [&](const std::vector<Tensor>& in) { return app(in[0]) * ad(in[0]); };
  REQUIRE_GRADCHECK(padded, leaf(testing::random_tensor({1, 2, 4, 4}, kFloat64, 6)));
}

TEST_CASE("Dropout: identity in eval; in training zeroes ~p and scales the rest by 1/(1-p)") {
  Dropout d(0.25);
  Tensor x = ones({100, 100});
  d.eval();
  REQUIRE(testing::max_abs_diff(d(x), x) == 0.0);
  d.train();
  manual_seed(3);
  auto v = d(x).to_vector<double>();
  std::int64_t zeros_count = 0, badly_scaled = 0;
  for (double e : v) {
    if (e == 0.0)
      ++zeros_count;
    else if (std::abs(e - 1.0 / 0.75) > 1e-6)
      ++badly_scaled;
  }
  REQUIRE(badly_scaled == 0);
  REQUIRE(zeros_count / 10000.0 == Approx(0.25).margin(0.02));
  REQUIRE_THROWS_WITH(Dropout(1.0), Catch::Contains("Dropout"));
}

TEST_CASE("Sequential: names, push_back, indexing, forward order") {
  Sequential s{std::make_shared<Linear>(4, 3), std::make_shared<ReLU>()};
  s.push_back(std::make_shared<Linear>(3, 2));
  REQUIRE(s.size() == 3);
  REQUIRE(s.named_children()[2].first == "2");
  REQUIRE(s.at<Linear>(2)->out_features == 2);
  REQUIRE(s(zeros({5, 4})).sizes() == Shape{5, 2});
  Tensor x = testing::random_tensor({5, 4}, kFloat32, 6);
  Tensor manual = s[2]->forward(s[1]->forward(s[0]->forward(x)));
  REQUIRE_ALLCLOSE(s(x), manual, 0, 0);
  auto empty_seq = std::make_shared<Sequential>();
  REQUIRE((*empty_seq)(x).same(x));
}
