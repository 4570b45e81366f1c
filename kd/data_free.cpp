// DeepInversion and DAFL's losses. Everything is composed of differentiable ops, so the gradient
// that reaches the images (DeepInversion) or the generator (DAFL) is autograd's, and the BN
// statistics are read through taps: the teacher runs unchanged.
#include "kd/data_free.h"

#include <cmath>
#include <random>

#include "autograd/grad_mode.h"
#include "autograd/ops/elementwise.h"
#include "autograd/ops/index.h"
#include "autograd/ops/nn_ops.h"
#include "autograd/ops/reduce.h"
#include "autograd/ops/shape.h"
#include "nn/functional.h"
#include "optim/adam.h"
#include "tensor/error.h"
#include "tensor/shape.h"

namespace retort::kd {

BnStatisticsLoss::BnStatisticsLoss(nn::Module& net) {
  for (const auto& [path, m] : net.named_modules()) {
    auto* bn = dynamic_cast<const nn::BatchNorm2d*>(m.get());
    if (bn == nullptr || !bn->running_mean.defined()) continue;
    taps_.push_back(net.tap(path));
    bns_.push_back(bn);
  }
  RETORT_CHECK(!taps_.empty(), "BnStatisticsLoss: the network has no BatchNorm2d with running statistics");
}

Tensor BnStatisticsLoss::loss() const {
  Tensor total;
  for (std::size_t i = 0; i < taps_.size(); ++i) {
    const Tensor& x = taps_[i].input();  // [N, C, H, W]
    // The reference's var(1, unbiased=False) over [C, N·H·W]: the statistics BN itself uses.
    Tensor mu = mean(x, {0, 2, 3});
    Tensor var_b = var(x, {0, 2, 3}, 0);
    Tensor term = norm(mu - detach(bns_[i]->running_mean)) + norm(var_b - detach(bns_[i]->running_var));
    total = total.defined() ? total + term : term;
  }
  return total;
}

Tensor total_variation(const Tensor& x) {
  RETORT_CHECK(x.dim() == 4 && x.size(2) >= 2 && x.size(3) >= 2,
               "total_variation: x must be [B, C, H, W] with H, W >= 2, got ", shape_str(x.sizes()));
  const std::int64_t h = x.size(2), w = x.size(3);
  auto part = [&](std::int64_t y0, std::int64_t x0) { return narrow(narrow(x, 2, y0, h - 1), 3, x0, w - 1); };
  Tensor d_w = narrow(x, 3, 0, w - 1) - narrow(x, 3, 1, w - 1);
  Tensor d_h = narrow(x, 2, 0, h - 1) - narrow(x, 2, 1, h - 1);
  Tensor d_anti = part(1, 0) - part(0, 1);
  Tensor d_diag = part(0, 0) - part(1, 1);
  return norm(d_w) + norm(d_h) + norm(d_anti) + norm(d_diag);
}

namespace {

// torch.roll along one dim by `shift` (any sign): the last `shift` entries move to the front.
Tensor roll_dim(const Tensor& x, std::int64_t dim, std::int64_t shift) {
  const std::int64_t n = x.size(dim);
  const std::int64_t s = ((shift % n) + n) % n;
  if (s == 0) return x;
  return cat({narrow(x, dim, n - s, s), narrow(x, dim, 0, n - s)}, dim);
}

}  // namespace

Tensor roll_flip(const Tensor& x, std::int64_t dy, std::int64_t dx, bool flip) {
  RETORT_CHECK(x.dim() == 4, "roll_flip: x must be [B, C, H, W], got ", shape_str(x.sizes()));
  Tensor y = roll_dim(roll_dim(x, 2, dy), 3, dx);
  if (!flip) return y;
  std::vector<std::int64_t> rev(static_cast<std::size_t>(x.size(3)));
  for (std::size_t i = 0; i < rev.size(); ++i) rev[i] = static_cast<std::int64_t>(rev.size() - 1 - i);
  return index_select(y, 3, from_vector(rev, {x.size(3)}).to(x.device()));
}

Tensor deep_inversion(nn::Module& teacher, const Tensor& targets, const std::vector<std::int64_t>& image_shape,
                      const DeepInversionOptions& o, Generator& gen,
                      const std::function<void(const DeepInversionStep&)>& on_step) {
  RETORT_CHECK(targets.dim() == 1 && targets.dtype() == kInt64 && targets.numel() > 0,
               "deep_inversion: targets must be a non-empty int64 [B], got ", shape_str(targets.sizes()));
  RETORT_CHECK(image_shape.size() == 3, "deep_inversion: image_shape must be {C, H, W}");
  RETORT_CHECK(o.iterations > 0 && o.lr > 0 && o.jitter >= 0, "deep_inversion: iterations and lr must be > 0, "
               "jitter >= 0");
  teacher.eval();
  teacher.requires_grad_(false);
  BnStatisticsLoss bn_loss(teacher);
  const std::int64_t b = targets.numel();
  Tensor x = randn({b, image_shape[0], image_shape[1], image_shape[2]}, kFloat32, &gen);
  x.set_requires_grad(true);
  optim::Adam opt({x}, {.lr = o.lr});
  // The jitter draws come from gen too, so a seed fixes the whole synthesis.
  std::mt19937_64 rng(randint(0, std::int64_t{1} << 62, {1}, &gen).to_vector<std::int64_t>()[0]);
  std::uniform_int_distribution<std::int64_t> off(-o.jitter, o.jitter);
  std::bernoulli_distribution coin(0.5);
  for (int it = 1; it <= o.iterations; ++it) {
    const std::int64_t dy = off(rng), dx = off(rng);
    const bool flip = o.flip && coin(rng);
    opt.zero_grad(true);
    Tensor xj = roll_flip(x, dy, dx, flip);
    Tensor logits = teacher(xj);
    Tensor ce = nn::functional::cross_entropy(logits, targets);
    Tensor bn = bn_loss.loss();
    Tensor tv = total_variation(xj);
    Tensor l2 = norm(xj);
    Tensor total = ce + o.r_feature * bn + o.tv * tv + o.l2 * l2;
    total.backward();
    opt.step();
    if (on_step) {
      NoGradGuard ng;
      double correct = sum(eq(argmax(logits, 1), targets)).item<double>();
      on_step({it, total.item<double>(), ce.item<double>(), bn.item<double>(), tv.item<double>(),
               l2.item<double>(), 100.0 * correct / static_cast<double>(b)});
    }
  }
  return detach(x);
}

DaflLoss dafl_generator_loss(const Tensor& t, const Tensor& f, const DaflOptions& o) {
  RETORT_CHECK(t.dim() == 2 && f.dim() >= 1 && f.size(0) == t.size(0), "dafl_generator_loss: logits [B, K] and "
               "features [B, ...] expected, got ", shape_str(t.sizes()), " and ", shape_str(f.sizes()));
  DaflLoss l;
  l.one_hot = nn::functional::cross_entropy(t, argmax(t, 1));
  l.activation = -mean(abs(f));
  Tensor p_mean = mean(softmax(t, 1), {0});
  l.info_entropy = sum(p_mean * log(p_mean)) / std::log(10.0);
  l.total = o.oh * l.one_hot + o.a * l.activation + o.ie * l.info_entropy;
  return l;
}

}  // namespace retort::kd
