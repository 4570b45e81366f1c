// Anomaly mode over every differentiable op type: a representative chain of ~50 ops (convolution,
// normalisation, pooling, activations, arithmetic, views, joins, indexing, softmax, reductions)
// is walked stage by stage. A NaN (or ±inf where the op would drop a NaN) injected into one
// stage's input must be reported by that stage's forward; a NaN written into a saved input after
// the forward must be reported by that stage's backward; and the clean chain runs with the mode on
// without a report and with the same values and gradients as with it off.
#include <cmath>
#include <functional>
#include <limits>
#include <string>

#include "autograd/anomaly.h"
#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "autograd/ops/elementwise.h"
#include "autograd/ops/index.h"
#include "autograd/ops/nn_ops.h"
#include "autograd/ops/reduce.h"
#include "autograd/ops/shape.h"
#include "support/helpers.h"
#include "tensor/elementwise.h"
#include "tensor/random.h"

using namespace retort;
using autograd::AnomalyGuard;
using Catch::Contains;

namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();

// One op of the chain: its node name, the value injected into its input's element 0 (NaN, or ±inf
// for an op that maps a NaN to a finite value, like relu or max), and whether its backward reads
// its saved input (so a NaN written there afterwards shows up in that backward first).
struct Stage {
  std::string name;
  double poison;
  bool backward_reads_input;
  std::function<Tensor(const Tensor&)> f;
};

Tensor param(const Shape& s, std::uint64_t seed, double shift = 0.0, bool positive = false) {
  Tensor t = testing::random_tensor(s, kFloat32, seed);
  if (positive) t = ops::abs(t);
  Tensor p = ops::add_scalar(t, shift);
  p.set_requires_grad();
  return p;
}

struct Chain {
  Tensor w1 = param({4, 3, 3, 3}, 1), b1 = param({4}, 2), w2 = param({4, 4, 3, 3}, 3, 0.0, true);
  Tensor gamma = param({4}, 4, 1.0), beta = param({4}, 5), rmean = zeros({4}), rvar = ones({4});
  Tensor lw = param({6, 16}, 6), lb = param({6}, 7), c6 = param({6}, 8, 0.5, true);
  Tensor cb = param({4, 3, 5}, 9), cm = param({5, 3}, 10), c3 = param({3}, 11, 0.5, true);
  Tensor mask = ones({2, 6});
  Tensor idx = from_vector(std::vector<std::int64_t>{0, 2}, {2});
  Tensor gidx = zeros({4, 2, 2}, kInt64);
  std::vector<Stage> stages;

  Chain() {
    Conv2dOptions pad1;
    pad1.padding = {1, 1};
    auto add = [this](std::string n, double p, bool r, std::function<Tensor(const Tensor&)> f) {
      stages.push_back({std::move(n), p, r, std::move(f)});
    };
    add("conv2d", kNaN, false, [=, this](const Tensor& x) { return conv2d(x, w1, b1, pad1); });
    add("batch_norm", kNaN, true, [this](const Tensor& x) { return batch_norm(x, gamma, beta, rmean, rvar, true); });
    add("relu", kInf, false, [](const Tensor& x) { return relu(x); });
    add("conv2d_relu", kInf, false, [=, this](const Tensor& x) { return conv2d_relu(x, w2, Tensor(), pad1); });
    add("max_pool2d", kInf, false, [](const Tensor& x) { return max_pool2d(x, {2, 2}); });
    add("avg_pool2d", kNaN, false, [](const Tensor& x) { return avg_pool2d(x, {2, 2}, {1, 1}); });
    add("adaptive_avg_pool2d", kNaN, false, [](const Tensor& x) { return adaptive_avg_pool2d(x, {2, 2}); });
    add("dropout", kNaN, false, [](const Tensor& x) { return dropout(x, 0.25, true); });
    add("permute", kNaN, false, [](const Tensor& x) { return permute(x, {0, 2, 3, 1}); });
    add("contiguous", kNaN, false, [](const Tensor& x) { return contiguous(x); });
    add("transpose", kNaN, false, [](const Tensor& x) { return transpose(x, 1, 2); });
    add("reshape", kNaN, false, [](const Tensor& x) { return reshape(x, {2, 16}); });
    add("view", kNaN, false, [](const Tensor& x) { return view(x, {2, 16}); });
    add("flatten", kNaN, false, [](const Tensor& x) { return flatten(x, 1); });
    add("linear", kNaN, true, [this](const Tensor& x) { return linear(x, lw, lb); });
    add("tanh", kNaN, false, [](const Tensor& x) { return tanh(x); });
    add("sigmoid", kNaN, false, [](const Tensor& x) { return sigmoid(x); });
    add("exp", kNaN, false, [](const Tensor& x) { return exp(x); });
    add("log", kNaN, true, [](const Tensor& x) { return log(x); });
    add("abs", kNaN, false, [](const Tensor& x) { return abs(x); });
    add("sqrt", kNaN, false, [](const Tensor& x) { return sqrt(x); });
    add("pow", kNaN, true, [](const Tensor& x) { return pow(x, 3.0); });
    add("clamp", kNaN, false, [](const Tensor& x) { return clamp(x, -5.0, 5.0); });
    add("neg", kNaN, false, [](const Tensor& x) { return neg(x); });
    add("add", kNaN, false, [this](const Tensor& x) { return x + c6; });
    add("sub", kNaN, false, [this](const Tensor& x) { return x - c6; });
    add("mul", kNaN, true, [this](const Tensor& x) { return x * c6; });
    add("div", kNaN, true, [this](const Tensor& x) { return x / c6; });
    add("maximum", kInf, false, [this](const Tensor& x) { return maximum(x, c6); });
    add("minimum", -kInf, false, [this](const Tensor& x) { return minimum(x, c6); });
    add("where", kNaN, false, [this](const Tensor& x) { return where(mask, x, c6); });
    add("unsqueeze", kNaN, false, [](const Tensor& x) { return unsqueeze(x, 0); });
    add("expand", kNaN, false, [](const Tensor& x) { return expand(x, {3, 2, 6}); });
    add("cat", kNaN, false, [](const Tensor& x) { return cat({x, x}, 0); });
    add("stack", kNaN, false, [](const Tensor& x) { return stack({x, x}, 0); });
    add("select", kNaN, false, [](const Tensor& x) { return select(x, 0, 0); });
    add("narrow", kNaN, false, [](const Tensor& x) { return narrow(x, 0, 0, 4); });
    add("slice", kNaN, false, [](const Tensor& x) { return slice(x, 2, 0, 6, 2); });
    add("bmm", kNaN, true, [this](const Tensor& x) { return bmm(x, cb); });
    add("matmul", kNaN, true, [this](const Tensor& x) { return matmul(x, cm); });
    add("index_select", kNaN, false, [this](const Tensor& x) { return index_select(x, 2, idx); });
    add("gather", kNaN, false, [this](const Tensor& x) { return gather(x, 2, gidx); });
    add("softmax", kNaN, false, [](const Tensor& x) { return softmax(x, -1); });
    add("log_softmax", kNaN, false, [](const Tensor& x) { return log_softmax(x, -1); });
    add("logsumexp", kNaN, true, [](const Tensor& x) { return logsumexp(x, {2}, true); });
    add("squeeze", kNaN, false, [](const Tensor& x) { return squeeze(x, 2); });
    add("max", kInf, false, [](const Tensor& x) { return max(x, 1, true).values; });
    add("mul", kNaN, true, [this](const Tensor& x) { return x * c3; });
    add("norm", kNaN, true, [](const Tensor& x) { return norm(x, 3.0, {1}, true); });
    add("mul", kNaN, true, [this](const Tensor& x) { return x * c3; });
    add("var", kNaN, true, [](const Tensor& x) { return var(x, {1}, 1, true); });
    add("min", -kInf, false, [](const Tensor& x) { return min(x, 0).values; });
    add("amax", kInf, false, [](const Tensor& x) { return amax(x); });
    add("mean", kNaN, false, [](const Tensor& x) { return mean(x); });
    add("sum", kNaN, false, [](const Tensor& x) { return sum(x); });
  }

  // Runs stages [from, end) on x.
  Tensor run(std::size_t from, Tensor x) const {
    for (std::size_t k = from; k < stages.size(); ++k) x = stages[k].f(x);
    return x;
  }

  // Each stage's input in a clean run without a graph.
  std::vector<Tensor> clean_inputs(const Tensor& x0) const {
    NoGradGuard ng;
    std::vector<Tensor> in{x0};
    for (const Stage& s : stages) in.push_back(s.f(in.back()));
    return in;
  }
};

// A packed leaf copy of t with element 0 set to v.
Tensor leaf_with(const Tensor& t, double v) {
  Tensor c = t.clone();
  c.data<float>()[0] = static_cast<float>(v);
  c.set_requires_grad();
  return c;
}

Tensor input() { return testing::random_tensor({2, 3, 8, 8}, kFloat32, 11); }

}  // namespace

TEST_CASE("a NaN entering any op of the chain is reported by that op's forward", "[autograd]") {
  Chain ch;
  const std::vector<Tensor> in = ch.clean_inputs(input());
  REQUIRE(std::isfinite(in.back().item<double>()));
  AnomalyGuard anomaly;
  for (std::size_t k = 0; k < ch.stages.size(); ++k) {
    const Stage& s = ch.stages[k];
    INFO("stage " << k << ": " << s.name);
    REQUIRE_THROWS_WITH(ch.run(k, leaf_with(in[k], s.poison)),
                        Contains("anomaly: forward of " + s.name + " produced") && Contains("already held"));
  }
}

TEST_CASE("a NaN in an op's saved input is reported by that op's backward", "[autograd]") {
  Chain ch;
  const std::vector<Tensor> in = ch.clean_inputs(input());
  AnomalyGuard anomaly;
  int checked = 0;
  for (std::size_t k = 0; k < ch.stages.size(); ++k) {
    const Stage& s = ch.stages[k];
    if (!s.backward_reads_input) continue;
    INFO("stage " << k << ": " << s.name);
    Tensor x = in[k].clone();
    x.set_requires_grad();
    Tensor loss = ch.run(k, x);
    // Written after the forward checked everything: only a backward that reads x can see it.
    x.data<float>()[0] = std::numeric_limits<float>::quiet_NaN();
    // NaN or inf: oneDNN's exp (in logsumexp's backward) maps a NaN to inf.
    REQUIRE_THROWS_WITH(loss.backward(), Contains("anomaly: backward of " + s.name + " produced"));
    ++checked;
  }
  REQUIRE(checked == 13);
}

TEST_CASE("the clean chain runs in anomaly mode with unchanged values and gradients", "[autograd]") {
  Chain ch;
  auto run = [&](bool on) {
    AnomalyGuard g(on);
    manual_seed(5);  // the same dropout mask both times
    for (Tensor* p : {&ch.w1, &ch.lw, &ch.cb, &ch.c6}) p->set_grad(Tensor());
    Tensor x = input();
    x.set_requires_grad();
    Tensor loss = ch.run(0, x);
    loss.backward();
    std::vector<std::vector<double>> out{{loss.item<double>()}};
    for (const Tensor& t : {x, ch.w1, ch.lw, ch.cb, ch.c6}) out.push_back(t.grad().to_vector<double>());
    return out;
  };
  auto off = run(false);
  REQUIRE(std::isfinite(off[0][0]));
  REQUIRE(run(true) == off);
}
