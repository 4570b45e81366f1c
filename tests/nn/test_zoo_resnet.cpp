// The ResNet, WideResNet and VGG families of the model zoo against a PyTorch transcription of
// RepDistiller's models (tests/tools/make_zoo_fixtures_resnet.py): state-dict keys and shapes,
// parameter counts, the is_feat/preact feature lists read through taps, eval and train logits and
// running statistics (tests/nn/zoo_fixture.h); plus the registry's names, errors, a backward pass
// and RepDistiller's initialisation.
#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "nn/functional.h"
#include "tensor/random.h"
#include "nn/resnet.h"
#include "nn/vgg.h"
#include "nn/wrn.h"
#include "zoo_fixture.h"

using namespace retort;
using namespace retort::nn;

namespace {

const std::vector<std::string> kModels{
    "resnet8",  "resnet14",  "resnet20",   "resnet32", "resnet44", "resnet56",
    "resnet110", "resnet8x4", "resnet32x4", "wrn_16_1", "wrn_16_2", "wrn_40_1",
    "wrn_40_2", "vgg8",      "vgg11",      "vgg13",    "vgg16",    "vgg19"};

// Parameter counts for 100 classes, as printed by the PyTorch transcription of RepDistiller's
// models (sum of p.numel() over model.parameters()).
const std::vector<std::pair<std::string, std::int64_t>> kParams100{
    {"resnet8", 83892},     {"resnet14", 181108},    {"resnet20", 278324},
    {"resnet32", 472756},   {"resnet44", 667188},    {"resnet56", 861620},
    {"resnet110", 1736564}, {"resnet8x4", 1233540},  {"resnet32x4", 7433860},
    {"wrn_16_1", 180916},   {"wrn_16_2", 703284},    {"wrn_40_1", 569780},
    {"wrn_40_2", 2255156},  {"vgg8", 3965028},       {"vgg11", 9277284},
    {"vgg13", 9462180},     {"vgg16", 14774436},     {"vgg19", 20086692}};

// Standard deviation of a tensor's elements (population).
double stddev(const Tensor& t) {
  std::vector<double> v = t.to(kFloat64).to_vector<double>();
  double m = 0, s = 0;
  for (double x : v) m += x;
  m /= static_cast<double>(v.size());
  for (double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / static_cast<double>(v.size()));
}

// Largest |element| and smallest element.
double max_abs(const Tensor& t) {
  double r = 0;
  for (double x : t.to(kFloat64).to_vector<double>()) r = std::max(r, std::abs(x));
  return r;
}
double min_value(const Tensor& t) {
  double r = INFINITY;
  for (double x : t.to(kFloat64).to_vector<double>()) r = std::min(r, x);
  return r;
}

}  // namespace

TEST_CASE("zoo models match RepDistiller in float32", "[zoo]") {
  for (const auto& name : kModels) {
    SECTION(name) { testing::check_zoo_model(name, kFloat32, 2e-3); }
  }
}

TEST_CASE("zoo ResNet/WRN/VGG match RepDistiller in float64 (reference kernels)", "[zoo]") {
  for (const char* name : {"resnet8", "wrn_16_1", "vgg8"}) {
    INFO(name);
    testing::check_zoo_model(name, kFloat64, 1e-9);
  }
}

TEST_CASE("zoo parameter counts for 100 classes equal RepDistiller's", "[zoo]") {
  for (const auto& [name, count] : kParams100) {
    INFO(name);
    auto m = create_model(name);
    REQUIRE(m->num_parameters() == count);
    REQUIRE(m->num_classes() == 100);
  }
}

TEST_CASE("zoo names are case-insensitive and unknown names list the known ones", "[zoo]") {
  auto m = create_model("RESNET8X4");
  REQUIRE(m->num_parameters() == 1233540);
  REQUIRE(canonical_model_name("Wrn_40_2") == "wrn_40_2");
  REQUIRE(canonical_model_name("VGG13") == "vgg13");
  REQUIRE_THROWS_WITH(create_model("resnet9"),
                      Catch::Contains("resnet9") && Catch::Contains("resnet8x4") &&
                          Catch::Contains("wrn_16_1") && Catch::Contains("vgg19"));
}

TEST_CASE("zoo family factories reject impossible configurations", "[zoo]") {
  REQUIRE_THROWS_WITH(make_cifar_resnet(9, {16, 16, 32, 64}, 100), Catch::Contains("6n+2"));
  REQUIRE_THROWS_WITH(make_cifar_resnet(8, {16, 32, 64}, 100), Catch::Contains("4 widths"));
  REQUIRE_THROWS_WITH(make_wrn(18, 2, 100), Catch::Contains("6n+4"));
  REQUIRE_THROWS_WITH(make_wrn(16, 0, 100), Catch::Contains("widen_factor"));
  REQUIRE_THROWS_WITH(make_vgg(12, 100), Catch::Contains("8, 11, 13, 16, 19"));
}

TEST_CASE("zoo models take any class count and train end to end", "[zoo]") {
  for (const char* name : {"resnet8", "wrn_16_1", "vgg8"}) {
    INFO(name);
    manual_seed(7);
    auto m = create_model(name, 10);
    REQUIRE(m->num_classes() == 10);
    Tensor x = testing::formula_input(2, 3, 32, kFloat32);
    Tensor logits = (*m)(x);
    REQUIRE(logits.sizes() == Shape{2, 10});
    F::cross_entropy(logits, from_vector(std::vector<double>{1, 7}, {2}, kInt64)).backward();
    for (auto& [pname, p] : m->named_parameters()) {
      INFO(pname);
      REQUIRE(p.grad().defined());
      REQUIRE(std::isfinite(max_abs(p.grad())));
      REQUIRE(max_abs(p.grad()) > 0);
    }
  }
}

TEST_CASE("zoo models start from RepDistiller's initialisation", "[zoo]") {
  manual_seed(3);
  auto r = create_model("resnet32x4");
  auto sd = r->state_dict();
  auto find = [](const NamedTensors& s, const std::string& k) {
    for (auto& [n, t] : s)
      if (n == k) return t;
    FAIL("no state entry " << k);
    return Tensor();
  };
  // kaiming_normal_(fan_out, relu): std √(2 / (C_out·3·3)).
  REQUIRE(stddev(find(sd, "layer3.4.conv2.weight")) ==
          Approx(std::sqrt(2.0 / (256 * 9))).epsilon(0.01));
  REQUIRE(min_value(find(sd, "layer3.4.bn2.weight")) == 1.0);
  auto w = create_model("wrn_40_2");
  auto wsd = w->state_dict();
  REQUIRE(stddev(find(wsd, "block3.layer.5.conv2.weight")) ==
          Approx(std::sqrt(2.0 / (128 * 9))).epsilon(0.01));
  REQUIRE(max_abs(find(wsd, "fc.bias")) == 0.0);
  auto v = create_model("vgg13");
  auto vsd = v->state_dict();
  REQUIRE(stddev(find(vsd, "block4.3.weight")) == Approx(std::sqrt(2.0 / (512 * 9))).epsilon(0.01));
  REQUIRE(max_abs(find(vsd, "block4.3.bias")) == 0.0);
  REQUIRE(stddev(find(vsd, "classifier.weight")) == Approx(0.01).epsilon(0.02));
  REQUIRE(max_abs(find(vsd, "classifier.bias")) == 0.0);
}
