// Parity of the zoo's mobile families (MobileNetV2 = RepDistiller's mobile_half, ShuffleV1,
// ShuffleV2) with the PyTorch transcriptions of RepDistiller's models in
// tests/tools/make_zoo_fixtures_mobile.py: state-dict keys and shapes, parameter counts, feature
// taps (post and preact), eval and train logits, running statistics (tests/nn/zoo_fixture.h).
#include <catch2/catch.hpp>

#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "autograd/ops/elementwise.h"
#include "autograd/ops/reduce.h"
#include "autograd/ops/shape.h"
#include "nn/shufflenetv1.h"
#include "nn/zoo.h"
#include "tensor/tensor.h"
#include "support/helpers.h"
#include "zoo_fixture.h"

using namespace retort;

TEST_CASE("zoo mobile: parameter counts for 100 classes equal PyTorch's", "[nn][zoo]") {
  // Counted by tests/tools/make_zoo_fixtures_mobile.py (RepDistiller's models, torch 1.13).
  CHECK(nn::create_model("MobileNetV2")->num_parameters() == 812836);
  CHECK(nn::create_model("ShuffleV1")->num_parameters() == 949258);
  CHECK(nn::create_model("ShuffleV2")->num_parameters() == 1355528);
  CHECK(nn::create_model("mobilenetv2", 10)->num_classes() == 10);
}

TEST_CASE("zoo mobile: channel_shuffle moves channel i·C/g + j to j·g + i", "[nn][zoo]") {
  std::vector<double> v(2 * 6);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>(i);
  Tensor x = from_vector(v, {2, 6, 1, 1}, kFloat64);
  auto y = nn::channel_shuffle(x, 3).to_vector<double>();
  std::vector<double> want{0, 2, 4, 1, 3, 5, 6, 8, 10, 7, 9, 11};
  CHECK(y == want);
  CHECK_THROWS_WITH(nn::channel_shuffle(x, 4), Catch::Contains("channel_shuffle"));
}

// ShuffleV2 joins its branches with cat_shuffle; it must be channel_shuffle(cat) exactly, forward
// and backward, for 2 and 3 groups, on float32 tensors large enough for the parallel copy.
TEST_CASE("zoo mobile: cat_shuffle is channel_shuffle of cat, values and gradients", "[nn][zoo]") {
  for (std::int64_t g : {2, 3}) {
    INFO("groups " << g);
    const Shape s{4, 58, 12, 12};
    std::vector<Tensor> a, b;
    for (std::int64_t j = 0; j < g; ++j) {
      Tensor t = testing::random_tensor(s, kFloat32, 40 + static_cast<std::uint64_t>(j));
      a.push_back(t.clone().set_requires_grad());
      b.push_back(t.clone().set_requires_grad());
    }
    Tensor want = nn::channel_shuffle(cat(a, 1), g), got = nn::cat_shuffle(b);
    REQUIRE(got.sizes() == want.sizes());
    CHECK(got.to_vector<float>() == want.to_vector<float>());
    Tensor up = testing::random_tensor(want.sizes(), kFloat32, 50);
    autograd::backward(sum(want * up));
    autograd::backward(sum(got * up));
    for (std::int64_t j = 0; j < g; ++j)
      CHECK(b[j].grad().to_vector<float>() == a[j].grad().to_vector<float>());
  }
  Tensor x = testing::random_tensor({2, 4, 3, 3}, kFloat32, 1);
  CHECK_THROWS_WITH(nn::cat_shuffle({x, narrow(x, 1, 0, 2)}), Catch::Contains("stack"));
}

TEST_CASE("zoo mobile: MobileNetV2 matches RepDistiller's mobile_half", "[nn][zoo]") {
  testing::check_zoo_model("MobileNetV2", kFloat32, 2e-3);
  testing::check_zoo_model("MobileNetV2", kFloat64, 1e-9);
}

TEST_CASE("zoo mobile: ShuffleV1 matches RepDistiller's", "[nn][zoo]") {
  testing::check_zoo_model("ShuffleV1", kFloat32, 2e-3);
  testing::check_zoo_model("ShuffleV1", kFloat64, 1e-9);
}

TEST_CASE("zoo mobile: ShuffleV2 matches RepDistiller's", "[nn][zoo]") {
  testing::check_zoo_model("ShuffleV2", kFloat32, 2e-3);
  testing::check_zoo_model("ShuffleV2", kFloat64, 1e-9);
}

// The fixture's feature sums do not see channel order; these relations do. In both ShuffleNets
// every stage input is non-negative, so relu(preact) is the block's output before the shuffle:
// ShuffleV1's post feature is relu(preact); ShuffleV2's is channel_shuffle(relu(preact), 2).
TEST_CASE("zoo mobile: ShuffleNet preact taps are the unshuffled pre-ReLU values", "[nn][zoo]") {
  NoGradGuard ng;
  Tensor x = testing::formula_input(2, 3, 32, kFloat64);
  for (std::string name : {"ShuffleV1", "ShuffleV2"}) {
    INFO(name);
    auto model = nn::create_model(name, 100, {.dtype = kFloat64});
    model->eval();
    auto post = model->feature_taps(false), pre = model->feature_taps(true);
    REQUIRE(post.size() == 5);
    std::vector<nn::FeatureTap> tp, tq;
    for (std::size_t i = 1; i < 4; ++i) {
      tp.push_back(model->tap(post[i]));
      tq.push_back(model->tap(pre[i]));
    }
    (*model)(x);
    for (std::size_t i = 0; i < 3; ++i) {
      Tensor want = relu(tq[i].output());
      if (name == "ShuffleV2") want = nn::channel_shuffle(want, 2);
      CHECK(want.to_vector<double>() == tp[i].output().to_vector<double>());
      CHECK(tq[i].output().to_vector<double>() != tp[i].output().to_vector<double>());
    }
  }
}

TEST_CASE("zoo mobile: a train step reaches every parameter", "[nn][zoo]") {
  Tensor x = testing::formula_input(2, 3, 32, kFloat32);
  for (const auto& name : {"MobileNetV2", "ShuffleV1", "ShuffleV2"}) {
    INFO(name);
    auto model = nn::create_model(name);
    model->train();
    autograd::backward(sum((*model)(x)));
    for (auto& [key, p] : model->named_parameters()) {
      INFO(key);
      REQUIRE(p.grad().defined());
      CHECK(sum(abs(p.grad())).item<double>() > 0);
    }
  }
}
