// Module: names and order (PyTorch's), counts of the seed nets, modes, gradients, dtype moves,
// printing. Hooks and taps are in test_hooks.cpp.
#include <algorithm>

#include "autograd/ops/elementwise.h"
#include "autograd/ops/reduce.h"
#include "nn/models.h"
#include "nn/nn.h"
#include "support/helpers.h"
#include "tensor/random.h"

using namespace retort;
using namespace retort::nn;

namespace {
std::vector<std::string> names_of(const NamedTensors& v) {
  std::vector<std::string> out;
  for (const auto& [n, t] : v) out.push_back(n);
  return out;
}
}  // namespace

TEST_CASE("seed nets have PyTorch's parameter names, order and counts") {
  auto teacher = std::make_shared<TeacherNet>();
  auto student = std::make_shared<StudentNet>();
  REQUIRE(teacher->num_parameters() == 1186986);
  REQUIRE(student->num_parameters() == 267738);
  std::vector<std::string> want_teacher = {
      "features.0.weight",   "features.0.bias",   "features.2.weight",   "features.2.bias",
      "features.5.weight",   "features.5.bias",   "features.7.weight",   "features.7.bias",
      "classifier.0.weight", "classifier.0.bias", "classifier.3.weight", "classifier.3.bias"};
  REQUIRE(names_of(teacher->named_parameters()) == want_teacher);
  REQUIRE(names_of(teacher->state_dict()) == want_teacher);  // no buffers in these nets
  std::vector<std::string> want_student = {
      "features.0.weight",   "features.0.bias",   "features.3.weight",   "features.3.bias",
      "classifier.0.weight", "classifier.0.bias", "classifier.3.weight", "classifier.3.bias"};
  REQUIRE(names_of(student->named_parameters()) == want_student);
  REQUIRE(student->named_parameters()[4].second.sizes() == Shape{256, 1024});
  REQUIRE(teacher->named_parameters()[8].second.sizes() == Shape{512, 2048});
  for (auto& p : teacher->parameters()) REQUIRE(p.requires_grad());
}

TEST_CASE("seed nets adapt to 1-channel 28x28 inputs (Fashion-MNIST)") {
  auto teacher = std::make_shared<TeacherNet>(1, 10, 28);
  auto student = std::make_shared<StudentNet>(1, 10, 28);
  // conv1 1·128·9+128, fc1 (32·7·7)·512+512; the rest as for CIFAR.
  REQUIRE(teacher->num_parameters() == 1280 + 73792 + 36928 + 18464 + 803328 + 5130);
  REQUIRE(student->num_parameters() == 160 + 2320 + 200960 + 2570);
  Tensor x = testing::random_tensor({2, 1, 28, 28}, kFloat32, 3);
  teacher->eval();
  student->eval();
  REQUIRE((*teacher)(x).sizes() == Shape{2, 10});
  REQUIRE((*student)(x).sizes() == Shape{2, 10});
  REQUIRE_THROWS_WITH(StudentNet(1, 10, 2), Catch::Contains("image_size"));
}

TEST_CASE("state_dict lists parameters, then buffers, then children; buffers are separate") {
  auto net = make_sequential(std::make_shared<Conv2d>(4, 8, 3), std::make_shared<BatchNorm2d>(8));
  REQUIRE(names_of(net->state_dict()) ==
          std::vector<std::string>{"0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean",
                                   "1.running_var", "1.num_batches_tracked"});
  REQUIRE(names_of(net->named_parameters()) ==
          std::vector<std::string>{"0.weight", "0.bias", "1.weight", "1.bias"});
  REQUIRE(names_of(net->named_buffers()) ==
          std::vector<std::string>{"1.running_mean", "1.running_var", "1.num_batches_tracked"});
  REQUIRE(net->named_buffers()[2].second.dtype() == kInt64);
  REQUIRE(net->named_buffers()[2].second.dim() == 0);
  REQUIRE(net->num_parameters() == 8 * 4 * 9 + 8 + 8 + 8);
  REQUIRE(net->named_parameters(/*recurse=*/false).empty());

  // Non-persistent buffers move with the module but stay out of the state dict.
  struct WithScratch : Module {
    WithScratch() {
      register_parameter("w", zeros({2}));
      register_buffer("scratch", zeros({3}), /*persistent=*/false);
    }
  } m;
  REQUIRE(names_of(m.state_dict()) == std::vector<std::string>{"w"});
  REQUIRE(names_of(m.named_buffers()) == std::vector<std::string>{"scratch"});
}

TEST_CASE("registration rejects bad and duplicate names") {
  Module m;
  m.register_parameter("w", zeros({2}));
  REQUIRE_THROWS_WITH(m.register_parameter("w", zeros({2})), Catch::Contains("already registered"));
  REQUIRE_THROWS_WITH(m.register_buffer("w", zeros({2})), Catch::Contains("already registered"));
  REQUIRE_THROWS_WITH(m.register_module("a.b", std::make_shared<ReLU>()),
                      Catch::Contains("invalid name"));
  REQUIRE_THROWS_WITH(m.register_parameter("", zeros({1})), Catch::Contains("invalid name"));
  Tensor nonleaf = mul(zeros({2}).set_requires_grad(), zeros({2}));
  REQUIRE_THROWS_WITH(m.register_parameter("v", nonleaf), Catch::Contains("leaf"));
  REQUIRE_THROWS_WITH(m.forward(zeros({1})), Catch::Contains("no forward"));
}

TEST_CASE("children, named_modules and submodule paths") {
  auto s = std::make_shared<StudentNet>();
  REQUIRE(s->children().size() == 2);
  REQUIRE(s->named_children()[1].first == "classifier");
  auto mods = s->named_modules();
  REQUIRE(mods.size() == 2 + 6 + 4);
  REQUIRE(mods[0].first == "features");
  REQUIRE(mods[1].first == "features.0");
  REQUIRE(mods[7].first == "classifier");
  REQUIRE(s->submodule("features.3") == (*s->features)[3]);
  REQUIRE(std::dynamic_pointer_cast<Conv2d>(s->submodule("features.3"))->out_channels == 16);
  REQUIRE(s->features->at<Conv2d>(0)->in_channels == 3);
  REQUIRE_THROWS_WITH(s->features->at<Linear>(0), Catch::Contains("Conv2d"));
  REQUIRE_THROWS_WITH((*s->features)[6], Catch::Contains("out of range"));
  REQUIRE_THROWS_WITH(s->submodule("features.9"),
                      Catch::Contains("features.9") && Catch::Contains("classifier.3"));
}

TEST_CASE("train/eval propagate to every descendant and change Dropout") {
  auto s = std::make_shared<StudentNet>();
  REQUIRE(s->is_training());
  s->eval();
  for (auto& [n, m] : s->named_modules()) REQUIRE_FALSE(m->is_training());
  Tensor x = testing::random_tensor({2, 3, 32, 32}, kFloat32, 1);
  REQUIRE_ALLCLOSE((*s)(x), (*s)(x), 0.0, 0.0);  // eval: deterministic
  s->train();
  for (auto& [n, m] : s->named_modules()) REQUIRE(m->is_training());
  manual_seed(1);
  Tensor a = (*s)(x);
  manual_seed(2);
  Tensor b = (*s)(x);
  REQUIRE(testing::max_abs_diff(a, b) > 1e-6);  // dropout active
}

TEST_CASE("zero_grad clears or zeroes gradients; requires_grad_ freezes") {
  auto s = std::make_shared<StudentNet>();
  s->eval();
  sum((*s)(testing::random_tensor({2, 3, 32, 32}, kFloat32, 2))).backward();
  for (auto& p : s->parameters()) REQUIRE(p.grad().defined());
  s->zero_grad(/*set_to_none=*/false);
  for (auto& p : s->parameters()) {
    REQUIRE(p.grad().defined());
    REQUIRE(testing::max_abs_diff(p.grad(), zeros_like(p)) == 0.0);
  }
  s->zero_grad();
  for (auto& p : s->parameters()) REQUIRE_FALSE(p.grad().defined());

  s->requires_grad_(false);
  REQUIRE(s->num_parameters(/*trainable_only=*/true) == 0);
  REQUIRE(s->num_parameters() == 267738);
  REQUIRE_FALSE((*s)(testing::random_tensor({1, 3, 32, 32}, kFloat32, 2)).requires_grad());
  s->requires_grad_(true);
  REQUIRE(s->num_parameters(true) == 267738);
}

TEST_CASE("to(dtype) converts in place and keeps tensor identity") {
  auto net = make_sequential(std::make_shared<Linear>(3, 2), std::make_shared<BatchNorm1d>(2));
  auto lin = net->at<Linear>(0);
  auto bn = net->at<BatchNorm1d>(1);
  auto before = lin->weight.to_vector<double>();
  auto* impl = lin->weight.impl().get();
  net->to(kFloat64);
  REQUIRE(lin->weight.impl().get() == impl);
  REQUIRE(net->named_parameters()[0].second.same(lin->weight));
  REQUIRE(lin->weight.dtype() == kFloat64);
  REQUIRE(lin->weight.to_vector<double>() == before);
  REQUIRE(bn->running_var.dtype() == kFloat64);
  REQUIRE(bn->num_batches_tracked.dtype() == kInt64);
  REQUIRE(lin->weight.requires_grad());
  Tensor y = (*net)(testing::random_tensor({4, 3}, kFloat64, 5));
  REQUIRE(y.dtype() == kFloat64);
  sum(y).backward();
  REQUIRE(lin->weight.grad().dtype() == kFloat64);
  net->to(kFloat32);
  REQUIRE(lin->weight.grad().dtype() == kFloat32);
  net->to(kCPU);  // already there: a no-op
  REQUIRE(lin->weight.impl().get() == impl);
  REQUIRE_THROWS_WITH(net->to(kInt64), Catch::Contains("floating"));
}

TEST_CASE("repr prints like PyTorch") {
  std::string want =
      "StudentNet(\n"
      "  (features): Sequential(\n"
      "    (0): Conv2d(3, 16, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))\n"
      "    (1): ReLU()\n"
      "    (2): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)\n"
      "    (3): Conv2d(16, 16, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))\n"
      "    (4): ReLU()\n"
      "    (5): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)\n"
      "  )\n"
      "  (classifier): Sequential(\n"
      "    (0): Linear(in_features=1024, out_features=256, bias=True)\n"
      "    (1): ReLU()\n"
      "    (2): Dropout(p=0.1, inplace=False)\n"
      "    (3): Linear(in_features=256, out_features=10, bias=True)\n"
      "  )\n"
      ")";
  REQUIRE(StudentNet().repr() == want);

  auto seq = make_sequential(
      std::make_shared<Conv2d>(4, 8, Size2{3, 5}, Conv2dOptions{{2, 2}, {1, 2}, {2, 2}, 2}, false),
      std::make_shared<BatchNorm2d>(8), std::make_shared<BatchNorm1d>(3, 1e-5, std::nullopt, false),
      std::make_shared<AvgPool2d>(3, 2, 1), std::make_shared<AdaptiveAvgPool2d>(2),
      std::make_shared<Flatten>(), std::make_shared<MaxPool2d>(Size2{2, 3}));
  std::string want_seq =
      "Sequential(\n"
      "  (0): Conv2d(4, 8, kernel_size=(3, 5), stride=(2, 2), padding=(1, 2), dilation=(2, 2), "
      "groups=2, bias=False)\n"
      "  (1): BatchNorm2d(8, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)\n"
      "  (2): BatchNorm1d(3, eps=1e-05, momentum=None, affine=False, track_running_stats=True)\n"
      "  (3): AvgPool2d(kernel_size=3, stride=2, padding=1)\n"
      "  (4): AdaptiveAvgPool2d(output_size=2)\n"
      "  (5): Flatten(start_dim=1, end_dim=-1)\n"
      "  (6): MaxPool2d(kernel_size=(2, 3), stride=(2, 3), padding=0, dilation=1, "
      "ceil_mode=False)\n"
      ")";
  REQUIRE(seq->repr() == want_seq);
}
