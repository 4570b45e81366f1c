// Quantisation-aware training modules (nn/quant.h): quantize_aware converts the seed StudentNet
// in place (same parameter tensors, first/last layers at 8 bits), the QAT layers compute exactly
// conv/linear on fake-quantised inputs and weights, the observers follow their moving average,
// LSQ trains, and models the conversion cannot handle are refused unchanged.
#include <cmath>

#include "autograd/grad_mode.h"
#include "autograd/ops/elementwise.h"
#include "autograd/ops/reduce.h"
#include "nn/functional.h"
#include "nn/models.h"
#include "nn/nn.h"
#include "optim/adam.h"
#include "support/helpers.h"

using namespace retort;
using namespace retort::nn;

TEST_CASE("quantize_aware converts StudentNet in place, sharing its parameters", "[nn][quant]") {
  manual_seed(3);
  auto net = std::make_shared<StudentNet>();
  NamedTensors before = net->named_parameters();
  Tensor x = testing::random_tensor({4, 3, 32, 32}, kFloat32, 5);
  Tensor float_out;
  {
    NoGradGuard ng;
    net->eval();
    float_out = (*net)(x);
    net->train();
  }
  auto paths = quantize_aware(*net, {.bits = 4});
  CHECK(paths == std::vector<std::string>{"features.0", "features.3", "classifier.0", "classifier.3"});
  auto c0 = net->features->at<QuantConv2d>(0);
  auto c3 = net->features->at<QuantConv2d>(3);
  auto l0 = net->classifier->at<QuantLinear>(0);
  auto l3 = net->classifier->at<QuantLinear>(3);
  CHECK(c0->weight_quant->bits == 8);  // first and last at 8 bits, as LSQ does
  CHECK(c3->weight_quant->bits == 4);
  CHECK(l0->input_quant->bits == 4);
  CHECK(l3->weight_quant->bits == 8);
  // The float parameters are the very same tensors, listed first under their old names.
  NamedTensors after = net->named_parameters();
  REQUIRE(after.size() == before.size());
  for (std::size_t i = 0; i < before.size(); ++i) {
    CHECK(after[i].first == before[i].first);
    CHECK(after[i].second.impl() == before[i].second.impl());
  }
  auto keys = net->state_dict();
  bool has_scale = false;
  for (const auto& [k, v] : keys) has_scale |= k == "features.3.weight_quant.scale";
  CHECK(has_scale);
  // An 8-bit model (same seed, same weights) computes nearly what the float one does; an all
  // 2-bit one does not.
  NoGradGuard ng;
  auto relative_error = [&](const QuantConfig& c) {
    manual_seed(3);
    auto q = std::make_shared<StudentNet>();
    q->eval();
    quantize_aware(*q, c);
    return testing::max_abs_diff((*q)(x), float_out) /
           testing::max_abs_diff(float_out, zeros_like(float_out));
  };
  double rel8 = relative_error({.bits = 8});
  CHECK(rel8 < 0.05);
  CHECK(relative_error({.bits = 2, .first_last_bits = 0}) > 2 * rel8);
}

TEST_CASE("QuantLinear is linear on fake-quantised input and weight", "[nn][quant]") {
  manual_seed(1);
  auto seq = make_sequential(std::make_shared<Linear>(6, 3));
  quantize_aware(*seq, {.bits = 4, .first_last_bits = 0, .per_channel = true});
  auto q = seq->at<QuantLinear>(0);
  Tensor x = testing::random_tensor({5, 6}, kFloat64, 2).to(kFloat32);
  Tensor y = (*seq)(x);
  // Weight: per output channel, symmetric, scale max|w_c| / 7.5 on [−8, 7].
  Tensor w = q->weight;
  auto wv = w.to_vector<float>();
  auto sv = q->weight_quant->scale().to_vector<float>();
  for (int c = 0; c < 3; ++c) {
    float m = 0;
    for (int i = 0; i < 6; ++i) m = std::max(m, std::abs(wv[c * 6 + i]));
    CHECK(sv[c] == Approx(m / 7.5f));
  }
  // Activation: asymmetric over the batch's [min, max] on [0, 15].
  auto xv = x.to_vector<float>();
  float lo = *std::min_element(xv.begin(), xv.end()), hi = *std::max_element(xv.begin(), xv.end());
  CHECK(q->input_quant->scale().item<float>() == Approx((hi - std::min(lo, 0.f)) / 15));
  Tensor expect = linear(fake_quantize(x, q->input_quant->scale(), q->input_quant->zero_point(),
                                       quant_range(4, false)),
                         fake_quantize(w, q->weight_quant->scale(), q->weight_quant->zero_point(),
                                       quant_range(4, true)),
                         q->bias);
  REQUIRE_ALLCLOSE(y, expect, 0, 0);
}

TEST_CASE("the activation observer keeps a moving average while training only", "[nn][quant]") {
  FakeQuantize fq(FakeQuantize::Kind::Activation, 8, false, {}, kFloat32, 0.25);
  fq(from_vector(std::vector<float>{-1, 3}, {2}));
  CHECK(fq.named_buffers()[2].first == "lo");
  CHECK(fq.named_buffers()[2].second.item<float>() == -1.0f);
  fq(from_vector(std::vector<float>{-5, 7}, {2}));
  CHECK(fq.named_buffers()[2].second.item<float>() == -2.0f);  // −1 + 0.25·(−5 + 1)
  CHECK(fq.named_buffers()[3].second.item<float>() == 4.0f);   // 3 + 0.25·(7 − 3)
  fq.eval();
  Tensor y = fq(from_vector(std::vector<float>{-100, 100}, {2}));
  CHECK(fq.named_buffers()[3].second.item<float>() == 4.0f);
  CHECK(y.to_vector<float>()[1] == Approx(4.0f).margin(6.0 / 255));  // clamped to the range
}

TEST_CASE("LSQ: step initialised by the paper's rule, trained with the weights", "[nn][quant]") {
  manual_seed(7);
  auto net = make_sequential(std::make_shared<Linear>(8, 16), std::make_shared<ReLU>(),
                             std::make_shared<Linear>(16, 4));
  quantize_aware(*net, {.bits = 3, .first_last_bits = 0, .lsq = true});
  Tensor x = testing::random_tensor({64, 8}, kFloat32, 8);
  Tensor target = randint(0, 4, {64});
  optim::Adam opt(net->parameters(), {.lr = 1e-2});
  auto loss_of = [&] { return functional::cross_entropy((*net)(x), target); };
  double first = loss_of().item<float>();
  auto q0 = net->at<QuantLinear>(0);
  // 2·mean(|x|)/√qmax on the first batch, qmax = 3 on the signed 3-bit grid [−4, 3].
  double mean_abs = mean(abs(x)).item<float>();
  CHECK(q0->input_quant->scale().item<float>() == Approx(2 * mean_abs / std::sqrt(3.0)).epsilon(1e-5));
  CHECK(q0->input_quant->range().qmin == -4);
  auto q2 = net->at<QuantLinear>(2);
  CHECK(q2->input_quant->range().qmin == 0);  // post-ReLU input: unsigned grid
  CHECK(q2->input_quant->range().qmax == 7);
  for (int i = 0; i < 60; ++i) {
    opt.zero_grad();
    Tensor l = loss_of();
    l.backward();
    REQUIRE(q0->weight_quant->named_parameters()[0].first == "step_scale");
    REQUIRE(q0->weight_quant->named_parameters()[0].second.grad().defined());
    opt.step();
  }
  CHECK(loss_of().item<float>() < 0.8 * first);
}

namespace {
// A model that calls a member layer directly: converting its child list would not reach it.
struct Direct : Module {
  std::shared_ptr<Linear> fc = register_module("fc", std::make_shared<Linear>(4, 2));
  Tensor forward(const Tensor& x) override { return (*fc)(x); }
};
}  // namespace

TEST_CASE("quantize_aware refuses what it cannot convert and leaves it unchanged", "[nn][quant]") {
  auto direct = std::make_shared<Direct>();
  CHECK_THROWS_WITH(quantize_aware(*direct, {.bits = 4}),
                    Catch::Contains("'fc' is also held outside its parent's child list"));
  CHECK(typeid(*direct->named_children()[0].second) == typeid(Linear));
  auto seq = make_sequential(std::make_shared<Linear>(4, 4), std::make_shared<Linear>(4, 2));
  CHECK_THROWS_WITH(quantize_aware(*seq, {.bits = 9}), Catch::Contains("bits must be in [2, 8], got 9"));
  CHECK_THROWS_WITH(quantize_aware(*seq, {.bits = 4, .first_last_bits = 1}),
                    Catch::Contains("first_last_bits"));
  {
    FeatureTap tap = seq->tap("1");
    CHECK_THROWS_WITH(quantize_aware(*seq, {.bits = 4}), Catch::Contains("layer '1' has forward hooks"));
  }
  CHECK(typeid(*(*seq)[0]) == typeid(Linear));
  auto relu_only = make_sequential(std::make_shared<ReLU>());
  CHECK_THROWS_WITH(quantize_aware(*relu_only, {}), Catch::Contains("has no Conv2d or Linear"));
  CHECK_THROWS_WITH(seq->replace_module("7", std::make_shared<ReLU>()),
                    Catch::Contains("no child '7' (children: 0, 1)"));
}
