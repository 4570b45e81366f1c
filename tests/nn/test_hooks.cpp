// Forward hooks and feature taps: what they see, their lifetimes, and that tapped features stay
// in the graph (a loss on a feature trains exactly the layers before it).
#include "autograd/grad_mode.h"
#include "autograd/node.h"
#include "autograd/ops/elementwise.h"
#include "autograd/ops/reduce.h"
#include "nn/functional.h"
#include "nn/models.h"
#include "nn/nn.h"
#include "support/helpers.h"
#include "tensor/reduce.h"

using namespace retort;
using namespace retort::nn;

TEST_CASE("forward hooks see the module, its input and its output") {
  auto lin = std::make_shared<Linear>(3, 2);
  int calls = 0;
  Tensor seen_in, seen_out;
  const Module* seen_module = nullptr;
  Tensor x = testing::random_tensor({4, 3}, kFloat32, 1);
  {
    HookHandle h =
        lin->register_forward_hook([&](const Module& m, const Tensor& in, const Tensor& out) {
          ++calls;
          seen_module = &m;
          seen_in = in;
          seen_out = out;
        });
    REQUIRE(h.active());
    Tensor y = (*lin)(x);
    REQUIRE(calls == 1);
    REQUIRE(seen_module == lin.get());
    REQUIRE(seen_in.same(x));
    REQUIRE(seen_out.same(y));
    lin->forward(x);  // forward() alone does not run hooks
    REQUIRE(calls == 1);
  }
  (*lin)(x);  // handle destroyed: hook gone
  REQUIRE(calls == 1);
}

TEST_CASE("hooks run in registration order and can be removed, even from inside a hook") {
  ReLU relu_layer;
  std::string order;
  HookHandle a = relu_layer.register_forward_hook(
      [&](const Module&, const Tensor&, const Tensor&) { order += "a"; });
  HookHandle b;
  b = relu_layer.register_forward_hook([&](const Module&, const Tensor&, const Tensor&) {
    order += "b";
    b.remove();  // one-shot hook
  });
  HookHandle c = relu_layer.register_forward_hook(
      [&](const Module&, const Tensor&, const Tensor&) { order += "c"; });
  relu_layer(zeros({2}));
  relu_layer(zeros({2}));
  REQUIRE(order == "abcac");
  REQUIRE_FALSE(b.active());
  a.remove();
  a.remove();  // idempotent
  relu_layer(zeros({2}));
  REQUIRE(order == "abcacc");
}

TEST_CASE("a hook handle may outlive its module") {
  HookHandle h;
  {
    auto m = std::make_shared<ReLU>();
    h = m->register_forward_hook([](const Module&, const Tensor&, const Tensor&) {});
    REQUIRE(h.active());
  }
  REQUIRE_FALSE(h.active());
  h.remove();  // no crash
}

TEST_CASE("taps read intermediate features of the seed nets") {
  auto s = std::make_shared<StudentNet>();
  auto t = std::make_shared<TeacherNet>();
  s->eval();
  t->eval();
  Tensor x = testing::random_tensor({2, 3, 32, 32}, kFloat32, 7);
  FeatureTap sf = s->tap("features.5");
  FeatureTap tf = t->tap("features.9");
  FeatureTap mid = s->tap("features.2");
  FeatureTap whole = s->tap("");
  REQUIRE_FALSE(sf.has_value());
  REQUIRE_THROWS_WITH(sf.output(), Catch::Contains("features.5"));
  Tensor logits = (*s)(x);
  (*t)(x);
  REQUIRE(sf.output().sizes() == Shape{2, 16, 8, 8});
  REQUIRE(tf.output().sizes() == Shape{2, 32, 8, 8});
  REQUIRE(whole.output().same(logits));
  REQUIRE(whole.input().same(x));

  // The tapped tensor is exactly what the layers compute.
  auto& f = *s->features;
  Tensor manual = f[2]->forward(f[1]->forward(f[0]->forward(x)));
  REQUIRE_ALLCLOSE(mid.output(), manual, 0.0, 0.0);
  REQUIRE(mid.input().sizes() == Shape{2, 16, 32, 32});

  // Later forwards replace the stored tensors; clear() drops them; remove() uninstalls.
  Tensor x2 = testing::random_tensor({1, 3, 32, 32}, kFloat32, 8);
  (*s)(x2);
  REQUIRE(sf.output().sizes() == Shape{1, 16, 8, 8});
  sf.clear();
  REQUIRE_FALSE(sf.has_value());
  sf.remove();
  (*s)(x2);
  REQUIRE_FALSE(sf.has_value());
  REQUIRE(sf.path() == "features.5");
  REQUIRE_THROWS_WITH(s->tap("features.6"), Catch::Contains("features.6"));
  { FeatureTap dropped = s->tap("features.0"); }
  REQUIRE_NOTHROW((*s)(x2));  // the dropped tap's hook is gone
}

TEST_CASE("a loss on a tapped feature produces gradients only in the layers before it") {
  auto s = std::make_shared<StudentNet>();
  s->eval();
  Tensor x = testing::random_tensor({2, 3, 32, 32}, kFloat32, 9);
  FeatureTap tap = s->tap("features.2");
  (*s)(x);
  Tensor loss = sum(tap.output() * tap.output());
  loss.backward();
  for (auto& [name, p] : s->named_parameters()) {
    INFO(name);
    if (name.rfind("features.0.", 0) == 0) {
      REQUIRE(p.grad().defined());
      REQUIRE(testing::max_abs_diff(p.grad(), zeros_like(p)) > 0.0);
    } else {
      REQUIRE_FALSE(p.grad().defined());
    }
  }
  // Same gradient as the loss written by hand on the first three layers.
  Tensor via_tap = s->features->at<Conv2d>(0)->weight.grad().clone();
  s->zero_grad();
  auto& f = *s->features;
  Tensor h = f[2]->forward(f[1]->forward(f[0]->forward(x)));
  sum(h * h).backward();
  REQUIRE_ALLCLOSE(via_tap, s->features->at<Conv2d>(0)->weight.grad(), 1e-5, 1e-5);
}

TEST_CASE("taps of teacher and student combine into one distillation-style loss") {
  auto s = std::make_shared<StudentNet>();
  auto t = std::make_shared<TeacherNet>();
  s->eval();
  t->eval();
  t->requires_grad_(false);
  Tensor x = testing::random_tensor({2, 3, 32, 32}, kFloat32, 11);
  Tensor y = from_vector(std::vector<std::int64_t>{1, 4}, {2});
  FeatureTap sf = s->tap("features.5");
  FeatureTap tf = t->tap("features.9");
  Tensor logits = (*s)(x);
  (*t)(x);
  // Teacher feature [2,32,8,8] vs student [2,16,8,8]: compare channel means.
  Tensor feat = F::mse_loss(mean(sf.output(), {1}), mean(tf.output(), {1}));
  Tensor loss = F::cross_entropy(logits, y) + feat;
  loss.backward();
  for (auto& p : s->parameters()) REQUIRE(p.grad().defined());
  for (auto& p : t->parameters()) REQUIRE_FALSE(p.grad().defined());
}

TEST_CASE("Sequential fuses an unhooked Conv2d -> ReLU pair, and a hook on either undoes it") {
  auto conv = std::make_shared<Conv2d>(3, 8, 3, 1, 1);
  auto relu_m = std::make_shared<ReLU>();
  auto seq = make_sequential(conv, relu_m, std::make_shared<Flatten>());
  Tensor x = testing::random_tensor({2, 3, 8, 8}, kFloat32, 7);
  auto first_node = [](const Tensor& y) { return y.grad_fn()->inputs()[0].node->name(); };
  Tensor fused = (*seq)(x);
  REQUIRE(first_node(fused) == "conv2d_relu");
  Tensor conv_out;
  {
    HookHandle h = conv->register_forward_hook(
        [&](const Module&, const Tensor&, const Tensor& out) { conv_out = out; });
    Tensor y = (*seq)(x);
    REQUIRE(first_node(y) == "relu");
    REQUIRE(ops::min_all(conv_out).item<double>() < 0.0);  // the conv's own output
    REQUIRE_ALLCLOSE(y, fused, 0.0, 0.0);
  }
  {
    int calls = 0;
    HookHandle h = relu_m->register_forward_hook(
        [&](const Module&, const Tensor&, const Tensor&) { ++calls; });
    Tensor y = (*seq)(x);
    REQUIRE(calls == 1);
    REQUIRE(first_node(y) == "relu");
    REQUIRE_ALLCLOSE(y, fused, 0.0, 0.0);
  }
  REQUIRE(first_node((*seq)(x)) == "conv2d_relu");  // hooks gone: fused again
}

TEST_CASE("Sequential runs an unhooked ReLU -> MaxPool2d as pool then relu, exactly") {
  auto conv = std::make_shared<Conv2d>(3, 8, 3, 1, 1);
  auto relu_m = std::make_shared<ReLU>();
  auto pool = std::make_shared<MaxPool2d>(2);
  auto seq = make_sequential(conv, relu_m, pool);
  Tensor x = testing::random_tensor({2, 3, 8, 8}, kFloat32, 7);
  x.set_requires_grad();
  Tensor gy = testing::random_tensor({2, 8, 4, 4}, kFloat32, 8);
  // Output and the gradients of x, weight and bias, after backward of sum(y * gy).
  auto run = [&] {
    for (Tensor* t : {&x, &conv->weight, &conv->bias}) t->set_grad(Tensor());
    Tensor y = (*seq)(x);
    y.backward(gy);
    return std::vector<Tensor>{detach(y), x.grad(), conv->weight.grad(), conv->bias.grad()};
  };
  auto node = [](const Tensor& y, int depth) {
    autograd::Node* n = y.grad_fn().get();
    for (int d = 0; d < depth; ++d) n = n->inputs()[0].node.get();
    return n->name();
  };
  Tensor y = (*seq)(x);
  REQUIRE(node(y, 0) == "relu");
  REQUIRE(node(y, 1) == "max_pool2d");
  REQUIRE(node(y, 2) == "conv2d");
  const std::vector<Tensor> swapped = run();
  // A hook on the ReLU sees its full-size output, so the layers run in their written order
  // (conv2d, relu, max_pool2d): the same values and gradients to the last bit. About half the
  // pooling windows hold only negative values, where both orders pass no gradient.
  std::vector<Tensor> written;
  {
    Shape relu_out;
    HookHandle h = relu_m->register_forward_hook(
        [&](const Module&, const Tensor&, const Tensor& out) { relu_out = out.sizes(); });
    REQUIRE(node((*seq)(x), 1) == "relu");
    REQUIRE(relu_out == Shape{2, 8, 8, 8});
    written = run();
  }
  for (std::size_t i = 0; i < written.size(); ++i) {
    INFO("output / x / weight / bias: " << i);
    REQUIRE_ALLCLOSE(swapped[i], written[i], 0.0, 0.0);
  }
  REQUIRE(ops::min_all(swapped[1]).item<double>() < 0.0);  // gradients do flow
  // A hooked pool is not moved either (Conv2d -> ReLU is then fused); without a graph, Conv2d ->
  // ReLU is fused instead of the swap.
  {
    HookHandle h = pool->register_forward_hook([](const Module&, const Tensor&, const Tensor&) {});
    Tensor yh = (*seq)(x);
    REQUIRE(node(yh, 0) == "max_pool2d");
    REQUIRE(node(yh, 1) == "conv2d_relu");
    REQUIRE_ALLCLOSE(yh, swapped[0], 0.0, 0.0);
  }
  NoGradGuard ng;
  REQUIRE_ALLCLOSE((*seq)(x), swapped[0], 0.0, 0.0);
}
