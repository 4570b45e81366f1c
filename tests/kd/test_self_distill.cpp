// Self-distillation (kd/self_distill.h). Snapshot teacher: after a refresh its outputs equal the
// student's, after a student step they differ, it plugs into the Distiller and never gets a
// gradient. BYOT heads: shapes inferred from taps, the loss against a hand composition (value and
// backbone gradients), float64 gradchecks through the heads, and the attach errors.
#include <catch2/catch.hpp>

#include "autograd/grad_mode.h"
#include "autograd/ops/elementwise.h"
#include "autograd/ops/nn_ops.h"
#include "autograd/ops/reduce.h"
#include "kd/self_distill.h"
#include "nn/basic.h"
#include "nn/batchnorm.h"
#include "nn/functional.h"
#include "nn/linear.h"
#include "optim/sgd.h"
#include "tensor/random.h"
#include "support/helpers.h"

using namespace retort;
using retort::testing::random_tensor;

namespace {

// Built in float32 (the default); the snapshot must follow the student to float64.
std::shared_ptr<nn::Module> mlp_bn() {
  return nn::make_sequential(std::make_shared<nn::Linear>(4, 6),
                             std::make_shared<nn::BatchNorm1d>(6), std::make_shared<nn::ReLU>(),
                             std::make_shared<nn::Linear>(6, 3));
}

Tensor labels(std::int64_t n, std::int64_t k) {
  std::vector<std::int64_t> v;
  for (std::int64_t i = 0; i < n; ++i) v.push_back((i * 7 + 1) % k);
  return from_vector(v, {n});
}

Tensor eval_out(nn::Module& m, const Tensor& x) {
  NoGradGuard g;
  m.eval();
  return m(x);
}

// Conv trunk with taps "1", "3", "5" ([N,4,4,4] each), then Flatten and Linear → [N, 3].
std::shared_ptr<nn::Sequential> tiny_convnet(std::int64_t c3 = 4) {
  auto m = nn::make_sequential(
      std::make_shared<nn::Conv2d>(2, 4, 3, 1, 1), std::make_shared<nn::ReLU>(),
      std::make_shared<nn::Conv2d>(4, c3, 3, 1, 1), std::make_shared<nn::ReLU>(),
      std::make_shared<nn::Conv2d>(c3, 4, 3, 1, 1), std::make_shared<nn::ReLU>(),
      std::make_shared<nn::Flatten>(), std::make_shared<nn::Linear>(64, 3));
  m->to(kFloat64);
  return m;
}

}  // namespace

TEST_CASE("SnapshotTeacher: equal after refresh, differs after a step, frozen", "[kd]") {
  manual_seed(3);
  auto student = mlp_bn();
  student->to(kFloat64);
  Tensor x = random_tensor({8, 4}, kFloat64, 1), y = labels(8, 3);
  optim::SGD opt(student->parameters(), {.lr = 0.5});
  auto train_once = [&] {
    student->train();
    opt.zero_grad();
    F::cross_entropy((*student)(x), y).backward();
    opt.step();
  };
  train_once();  // BatchNorm running stats are no longer the initial ones

  kd::SnapshotTeacher snap(student, mlp_bn);
  auto teacher = snap.module();
  REQUIRE(snap.refreshes() == 1);
  REQUIRE(teacher->parameters()[0].dtype() == kFloat64);
  REQUIRE(testing::max_abs_diff(eval_out(*teacher, x), eval_out(*student, x)) == 0.0);
  Tensor before = eval_out(*teacher, x);

  train_once();
  REQUIRE(testing::max_abs_diff(eval_out(*teacher, x), eval_out(*student, x)) > 1e-6);
  REQUIRE(testing::max_abs_diff(eval_out(*teacher, x), before) == 0.0);

  // As the Distiller's teacher: no gradient, and refresh(d) drops the stale cached logits.
  kd::Distiller d(student, teacher);
  d.add_term({"kd", 1.0, [](const kd::Context& c) {
                return kd::kd_loss(c.student_logits, c.teacher_logits, {.T = 2.0});
              }});
  d.enable_teacher_cache();
  student->train();
  auto r = d.train_step(opt, x, y, {0, 1, 2, 3, 4, 5, 6, 7});
  for (auto& [name, p] : teacher->named_parameters()) {
    INFO(name);
    REQUIRE_FALSE(p.requires_grad());
    REQUIRE_FALSE(p.grad().defined());
  }
  REQUIRE(d.teacher_cache_size() == 8);
  snap.refresh(d);
  REQUIRE(snap.refreshes() == 2);
  REQUIRE(d.teacher_cache_size() == 0);
  REQUIRE(&d.teacher() == teacher.get());
  REQUIRE(testing::max_abs_diff(eval_out(*teacher, x), eval_out(*student, x)) == 0.0);
  student->train();
  auto r2 = d.step(x, y, {0, 1, 2, 3, 4, 5, 6, 7});
  REQUIRE_FALSE(r2.teacher_from_cache);
  REQUIRE(testing::max_abs_diff(r2.teacher_logits, r.teacher_logits) > 1e-6);
  for (auto& p : teacher->parameters()) REQUIRE_FALSE(p.requires_grad());

  auto other = [] { return nn::make_sequential(std::make_shared<nn::Linear>(4, 5)); };
  REQUIRE_THROWS_WITH(kd::SnapshotTeacher(student, other),
                      Catch::Contains("SnapshotTeacher") && Catch::Contains("does not match"));
}

TEST_CASE("SelfDistillNet: head shapes from taps and the loss against a hand composition", "[kd]") {
  manual_seed(5);
  auto net = tiny_convnet();
  Tensor x = random_tensor({3, 2, 4, 4}, kFloat64, 2), y = labels(3, 3);
  kd::SelfDistillNet sd(net, {"1", "3"}, x, {.deep_path = "5"});
  REQUIRE(sd.heads.size() == 2);
  REQUIRE(sd.heads[0]->fc->weight.sizes() == Shape{3, 4});
  REQUIRE(sd.hint_applies == std::vector<bool>{true, true});
  REQUIRE(sd.state_dict()[0].first == "backbone.0.weight");
  REQUIRE(sd.named_parameters().back().first == "heads.1.fc.bias");

  kd::SelfDistillOptions o;  // α = 0.3, T = 3, β = 0.03
  REQUIRE(o.alpha == 0.3);
  REQUIRE(o.T == 3.0);
  REQUIRE(o.beta == 0.03);
  auto out = sd.forward_all(x);
  auto l = sd.loss(out, y, o);
  l.total.backward();
  std::vector<Tensor> got;
  for (auto& p : sd.parameters()) got.push_back(p.grad().clone());
  sd.zero_grad();

  // By hand, from our own taps: every head's logits, the T²·KL with log-softmaxes, the mse hint.
  auto t1 = net->tap("1"), t3 = net->tap("3"), t5 = net->tap("5");
  Tensor z = (*net)(x);
  Tensor pt = softmax(detach(z) / 3.0, 1), logpt = log_softmax(detach(z) / 3.0, 1);
  Tensor d = detach(mean(t5.output(), {2, 3}));
  Tensor total = F::cross_entropy(z, y);
  const nn::FeatureTap* taps[2] = {&t1, &t3};
  for (int i = 0; i < 2; ++i) {
    Tensor h = mean(taps[i]->output(), {2, 3});
    Tensor q = linear(h, sd.heads[i]->fc->weight, sd.heads[i]->fc->bias);
    Tensor kl = sum(pt * (logpt - log_softmax(q / 3.0, 1))) / 3.0 * 9.0;
    Tensor hint = mean((h - d) * (h - d));
    REQUIRE(l.kd[i].item<double>() == Approx(kl.item<double>()).epsilon(1e-12));
    REQUIRE(l.hint[i].item<double>() == Approx(hint.item<double>()).epsilon(1e-12));
    total = total + F::cross_entropy(q, y) * 0.7 + kl * 0.3 + hint * 0.03;
  }
  REQUIRE(l.total.item<double>() == Approx(total.item<double>()).epsilon(1e-12));
  total.backward();
  auto ps = sd.parameters();
  for (std::size_t i = 0; i < ps.size(); ++i) REQUIRE_ALLCLOSE(got[i], ps[i].grad(), 1e-12, 1e-9);

  // Inference skips the heads and equals the backbone.
  NoGradGuard g;
  REQUIRE(testing::max_abs_diff(sd(x), (*net)(x)) == 0.0);
}

TEST_CASE("SelfDistillNet: gradcheck through the heads (float64)", "[kd]") {
  for (auto kind : {kd::AuxHeadKind::Linear, kd::AuxHeadKind::ConvBottleneck}) {
    manual_seed(7);
    auto net = tiny_convnet(5);  // tap "3" has 5 channels: no hint there with the Linear kind
    Tensor x = random_tensor({3, 2, 4, 4}, kFloat64, 3), y = labels(3, 3);
    kd::SelfDistillNet sd(net, {"1", "3"}, x, {.kind = kind, .deep_path = "5"});
    const bool linear = kind == kd::AuxHeadKind::Linear;
    REQUIRE(sd.hint_applies == std::vector<bool>{true, !linear});
    Tensor z = testing::grad_leaf({3, 3}, 4, false), d = testing::grad_leaf({3, 4, 4, 4}, 5, false);
    std::vector<Tensor> inputs{testing::grad_leaf({3, 4, 4, 4}, 6),
                               testing::grad_leaf({3, 5, 4, 4}, 7)};
    kd::SelfDistillOptions o{.T = 2.0, .alpha = 0.4, .beta = 0.5};
    GradcheckFn fn = [&](const std::vector<Tensor>& f) {
      return sd.loss(sd.heads_forward(z, f, d), y, o).total;
    };
    REQUIRE_GRADCHECK(fn, inputs);
    auto l = sd.loss(sd.heads_forward(z, inputs, d), y, o);
    REQUIRE(l.hint[0].defined());
    REQUIRE(l.hint[1].defined() == !linear);
  }
}

TEST_CASE("SelfDistillNet: a head that cannot attach names the path and the shape", "[kd]") {
  auto net = nn::make_sequential(std::make_shared<nn::Conv2d>(2, 4, 3, 1, 1),
                                 std::make_shared<nn::Flatten>(2), std::make_shared<nn::Flatten>(),
                                 std::make_shared<nn::Linear>(64, 3));
  net->to(kFloat64);
  Tensor x = random_tensor({2, 2, 4, 4}, kFloat64, 1);
  REQUIRE_THROWS_WITH(kd::SelfDistillNet(net, {"1"}, x),
                      Catch::Contains("'1'") && Catch::Contains("[2,4,16]") &&
                          Catch::Contains("[N, C, H, W] or [N, D]"));
  REQUIRE_THROWS_WITH(
      kd::SelfDistillNet(net, {"2"}, x, {.kind = kd::AuxHeadKind::ConvBottleneck}),
      Catch::Contains("'2'") && Catch::Contains("[2,64]") && Catch::Contains("conv bottleneck"));
  REQUIRE_THROWS_WITH(kd::SelfDistillNet(net, {"7"}, x), Catch::Contains("'7'"));
  kd::SelfDistillNet ok(net, {"0", "2"}, x);
  REQUIRE(ok.heads[1]->fc->weight.sizes() == Shape{3, 64});
  REQUIRE(ok.hint_applies == std::vector<bool>{false, false});
  REQUIRE_THROWS_WITH(
      kd::self_distill_loss(zeros({2, 3}, kFloat64), {zeros({2, 4}, kFloat64)}, labels(2, 3)),
      Catch::Contains("[2,4]") && Catch::Contains("[2,3]"));
}
