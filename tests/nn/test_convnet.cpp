// ConvNet: the seed nets as specs (same state-dict keys, parameter counts and, with copied
// weights, the same logits), the closed-form parameter and MAC counts against the built module
// and count_macs, per-conv widths, kernel sizes, the stage taps and the spec's errors.
#include <catch2/catch.hpp>

#include "nn/convnet.h"
#include "nn/linear.h"
#include "nn/macs.h"
#include "nn/models.h"
#include "nn/pooling.h"
#include "support/helpers.h"
#include "tensor/random.h"

using namespace retort;
using namespace retort::nn;

namespace {

std::vector<std::string> keys(const Module& m) {
  std::vector<std::string> k;
  for (const auto& [name, t] : m.state_dict()) k.push_back(name);
  return k;
}

TensorMap as_map(const NamedTensors& named) { return TensorMap(named.begin(), named.end()); }

// Builds the seed net and the ConvNet of `spec`, copies the seed weights into the ConvNet and
// compares eval-mode logits on random input (float64, so the two must agree to rounding).
template <class Seed>
void check_seed(const ConvNetSpec& spec, std::int64_t c, std::int64_t s, std::int64_t params) {
  manual_seed(7);
  auto seed = std::make_shared<Seed>(c, 10, s);
  auto net = std::make_shared<ConvNet>(spec, c, 10, s);
  REQUIRE(seed->num_parameters() == params);
  REQUIRE(net->num_parameters() == params);
  REQUIRE(spec.parameter_count(c, 10, s) == params);
  REQUIRE(keys(*net) == keys(*seed));
  REQUIRE(spec.macs(c, 10, s) == count_macs(*seed, {c, s, s}));
  seed->to(kFloat64);
  net->to(kFloat64);
  net->load_state_dict(as_map(seed->state_dict()));
  seed->eval();
  net->eval();
  Tensor x = testing::random_tensor({3, c, s, s}, kFloat64, 11);
  REQUIRE_ALLCLOSE((*net)(x), (*seed)(x), 1e-12, 1e-12);
}

}  // namespace

TEST_CASE("ConvNet expresses the seed StudentNet exactly") {
  const ConvNetSpec spec = ConvNetSpec::student_net();
  REQUIRE(spec.describe() == "[1x16 k3] [1x16 k3] fc256");
  check_seed<StudentNet>(spec, 3, 32, 267738);
  check_seed<StudentNet>(spec, 1, 28, StudentNet(1, 10, 28).num_parameters());
}

TEST_CASE("ConvNet expresses the seed TeacherNet exactly (per-conv widths)") {
  const ConvNetSpec spec = ConvNetSpec::teacher_net();
  REQUIRE(spec.describe() == "[128,64 k3] [64,32 k3] fc512");
  check_seed<TeacherNet>(spec, 3, 32, 1186986);
}

TEST_CASE("ConvNet closed-form parameters and MACs equal the module and count_macs") {
  const std::vector<ConvNetSpec> specs = {
      {{{2, 24, 5}, {1, 32, 3}, {3, 48, 1}}, 128},
      {{{1, 8, 7}}, 0},
      {{{3, 16, 3, {8, 12, 16}}, {2, 20, 5}}, 64, 0.3},
  };
  for (const ConvNetSpec& spec : specs) {
    INFO(spec.describe());
    for (std::int64_t s : {32, 28, 9}) {
      ConvNet net(spec, 3, 7, s);
      REQUIRE(spec.parameter_count(3, 7, s) == net.num_parameters());
      REQUIRE(spec.macs(3, 7, s) == count_macs(net, {3, s, s}));
      Tensor y = net(testing::random_tensor({2, 3, s, s}, kFloat32, 3));
      REQUIRE(y.sizes() == Shape{2, 7});
    }
  }
}

TEST_CASE("ConvNet layout: kernels, padding, stage taps, no-hidden head") {
  ConvNetSpec spec{{{2, 8, 5}, {1, 4, 3}}, 0};
  ConvNet net(spec, 3, 5, 16);
  REQUIRE(net.features->size() == 2 * 2 + 1 + 2 * 1 + 1);
  REQUIRE(net.classifier->size() == 1);
  REQUIRE(net.features->at<Conv2d>(0)->kernel_size[0] == 5);
  REQUIRE(net.features->at<Conv2d>(0)->options.padding[0] == 2);
  REQUIRE(net.features->at<Conv2d>(5)->kernel_size[0] == 3);
  REQUIRE(net.stage_output_index(0) == 4);
  REQUIRE(net.stage_output_index(1) == 7);
  REQUIRE(std::dynamic_pointer_cast<MaxPool2d>((*net.features)[4]) != nullptr);
  REQUIRE(std::dynamic_pointer_cast<MaxPool2d>((*net.features)[7]) != nullptr);
  REQUIRE(net.classifier->at<Linear>(0)->in_features == 4 * 4 * 4);
  REQUIRE_THROWS_WITH(net.stage_output_index(2), Catch::Contains("stage 2 of 2"));
  // The teacher's feature tap of the seed net is the same index in the spec's layout.
  ConvNet teacher(ConvNetSpec::teacher_net());
  REQUIRE(teacher.stage_output_index(1) == 9);
}

TEST_CASE("ConvNet builds in the requested dtype") {
  ConvNet net(ConvNetSpec::student_net(), 3, 10, 32, TensorOptions{kFloat64});
  for (const auto& [name, p] : net.named_parameters()) REQUIRE(p.dtype() == kFloat64);
}

TEST_CASE("ConvNetSpec rejects bad specs, naming the stage and field") {
  REQUIRE_THROWS_WITH(ConvNetSpec{}.validate(), Catch::Contains("at least one stage"));
  REQUIRE_THROWS_WITH((ConvNetSpec{{{0, 8, 3}}, 0}.validate()),
                      Catch::Contains("stage 0") && Catch::Contains("convs = 0"));
  REQUIRE_THROWS_WITH((ConvNetSpec{{{1, 8, 3}, {1, 8, 4}}, 0}.validate()),
                      Catch::Contains("stage 1") && Catch::Contains("kernel = 4"));
  REQUIRE_THROWS_WITH((ConvNetSpec{{{2, 8, 3, {4}}}, 0}.validate()),
                      Catch::Contains("1 per-conv widths for 2 convs"));
  REQUIRE_THROWS_WITH((ConvNetSpec{{{2, 8, 3, {4, 6}}}, 0}.validate()),
                      Catch::Contains("last per-conv width is 6"));
  REQUIRE_THROWS_WITH((ConvNetSpec{{{1, 8, 3}}, -1}.validate()), Catch::Contains("hidden = -1"));
  REQUIRE_THROWS_WITH((ConvNetSpec{{{1, 8, 3}}, 8, 1.0}.validate()),
                      Catch::Contains("dropout = 1"));
  REQUIRE_THROWS_WITH((ConvNetSpec{{{1, 8, 3}, {1, 8, 3}, {1, 8, 3}}, 0}.validate(4)),
                      Catch::Contains("below 1x1"));
  REQUIRE_THROWS_WITH(ConvNet(ConvNetSpec{{{1, 8, 3}}, 0}, 0, 10),
                      Catch::Contains("in_channels = 0"));
}
