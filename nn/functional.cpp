// nn/functional.h: losses written as compositions of differentiable ops so their gradients
// (including label smoothing and ignore_index) come from the graph; similarity and accuracy.
#include "nn/functional.h"

#include <cmath>
#include <limits>
#include <vector>

#include "autograd/ops/elementwise.h"
#include "autograd/ops/index.h"
#include "autograd/ops/nn_ops.h"
#include "autograd/ops/reduce.h"
#include "autograd/ops/shape.h"
#include "tensor/error.h"

namespace retort::nn::functional {

namespace {

Tensor reduce(const char* op, const Tensor& loss, Reduction r) {
  switch (r) {
    case Reduction::None:
      return loss;
    case Reduction::Sum:
      return sum(loss);
    case Reduction::Mean:
      return mean(loss);
    case Reduction::BatchMean:
      break;
  }
  fail(op, ": reduction BatchMean is only defined for kl_div; use Mean, Sum or None");
}

void check_same_shape(const char* op, const Tensor& input, const Tensor& target) {
  RETORT_CHECK(input.sizes() == target.sizes(), op, ": input ", shape_str(input.sizes()),
               " and target ", shape_str(target.sizes()), " must have the same shape");
}

// Validated class targets: the gather index (ignored entries pointed at class 0) and a 0/1
// mask of the samples that count.
struct Targets {
  Tensor index;  // int64 [N, 1]
  Tensor mask;   // [N], dtype of the scores; undefined when nothing is ignored
  double count;  // number of samples that count
};

Targets check_targets(const char* op, const Tensor& scores, const Tensor& target,
                      const CrossEntropyOptions& opt) {
  RETORT_CHECK(scores.dim() == 2 && is_floating(scores.dtype()), op,
               ": expected floating scores [N, C], got ", scores.str());
  RETORT_CHECK(target.dim() == 1 && target.dtype() == kInt64 && target.size(0) == scores.size(0),
               op, ": input ", shape_str(scores.sizes()), " and target ", shape_str(target.sizes()),
               ": target must be int64 [N] with N = ", scores.size(0), ", got ", target.str());
  const std::int64_t n = scores.size(0), c = scores.size(1);
  // Labels are checked on the host: they are few, and a bad one must be reported precisely.
  std::vector<std::int64_t> labels = target.to_vector<std::int64_t>();
  std::vector<double> mask(static_cast<std::size_t>(n), 1.0);
  Targets t;
  t.count = static_cast<double>(n);
  for (std::int64_t i = 0; i < n; ++i) {
    std::int64_t& v = labels[static_cast<std::size_t>(i)];
    if (opt.ignore_index && v == *opt.ignore_index) {
      mask[static_cast<std::size_t>(i)] = 0.0;
      t.count -= 1.0;
      v = 0;
      continue;
    }
    RETORT_CHECK(v >= 0 && v < c, op, ": target ", shape_str(target.sizes()), " has label ", v,
                 " at position ", i, ", outside the class range [0, ", c, ") of input ",
                 shape_str(scores.sizes()));
  }
  t.index = from_vector(labels, {n, 1}).to(scores.device());
  if (t.count < static_cast<double>(n))
    t.mask = from_vector(mask, {n}, scores.dtype()).to(scores.device());
  return t;
}

Tensor masked(const Tensor& per_sample, const Targets& t) {
  return t.mask.defined() ? per_sample * t.mask : per_sample;
}

// Per-sample losses → the requested reduction, Mean counting only non-ignored samples.
Tensor reduce_samples(const char* op, const Tensor& loss, const Targets& t, Reduction r) {
  if (r == Reduction::Mean) return sum(loss) / t.count;
  return reduce(op, loss, r);
}

Tensor picked_nll(const Tensor& log_probs, const Targets& t) {
  return masked(neg(squeeze(gather(log_probs, 1, t.index), 1)), t);
}

}  // namespace

Tensor nll_loss(const Tensor& log_probs, const Tensor& target, const CrossEntropyOptions& opt) {
  Targets t = check_targets("nll_loss", log_probs, target, opt);
  return reduce_samples("nll_loss", picked_nll(log_probs, t), t, opt.reduction);
}

Tensor cross_entropy(const Tensor& logits, const Tensor& target, const CrossEntropyOptions& opt) {
  const double eps = opt.label_smoothing;
  RETORT_CHECK(eps >= 0.0 && eps <= 1.0, "cross_entropy: label_smoothing must be in [0, 1], got ",
               eps);
  Targets t = check_targets("cross_entropy", logits, target, opt);
  Tensor logp = log_softmax(logits, 1);
  Tensor loss = picked_nll(logp, t);
  if (eps > 0.0) {
    // PyTorch: (1 − ε)·nll + (ε/C)·(−Σ_c logp), the smoothing term masked like nll.
    Tensor smooth = masked(neg(sum(logp, {1})), t);
    loss = (1.0 - eps) * loss + (eps / static_cast<double>(logits.size(1))) * smooth;
  }
  return reduce_samples("cross_entropy", loss, t, opt.reduction);
}

Tensor softplus(const Tensor& x) {
  // log(1 + eˣ) = max(x, 0) + log(1 + u) with u = e^(−|x|) ∈ (0, 1]: the exponent is never
  // positive, so nothing overflows. log(1 + u) itself has a relative error of about ε/u (1 + u
  // rounds), losing u entirely for x < −37 in float64; below u = ε^(1/5) it is replaced by its
  // series u − u²/2 + u³/3 − u⁴/4 (relative error u⁴/5). Both sides of the switch then stay
  // within ε^(4/5) (3e-13 in float64): a log1p composed from existing ops, gradients included
  // (the series' derivative 1 − u + u² − u³ is 1/(1 + u) to the same order).
  const Tensor u = exp(-abs(x));
  const double eps = x.dtype() == kFloat64 ? 2.220446049250313e-16 : 1.1920928955078125e-7;
  const Tensor small = lt(u, full({}, std::pow(eps, 0.2), x.dtype(), x.device()));
  const Tensor series = u * (1.0 - u * (0.5 - u * (1.0 / 3.0 - u * 0.25)));
  return relu(x) + where(small, series, log(u + 1.0));
}

Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target, Reduction reduction) {
  check_same_shape("binary_cross_entropy_with_logits", input, target);
  RETORT_CHECK(target.dtype() == input.dtype(), "binary_cross_entropy_with_logits: target ", target.str(),
               " must have the dtype of input ", input.str(), " (probabilities, not class indices)");
  // softplus(x) − y·x: −log σ(x) = softplus(−x) = softplus(x) − x, −log(1 − σ(x)) = softplus(x).
  return reduce("binary_cross_entropy_with_logits", softplus(input) - detach(target) * input, reduction);
}

Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  check_same_shape("mse_loss", input, target);
  Tensor d = input - target;
  return reduce("mse_loss", d * d, reduction);
}

Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  check_same_shape("l1_loss", input, target);
  return reduce("l1_loss", abs(input - target), reduction);
}

Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, Reduction reduction, double beta) {
  check_same_shape("smooth_l1_loss", input, target);
  RETORT_CHECK(beta >= 0.0, "smooth_l1_loss: beta must be non-negative, got ", beta);
  if (beta == 0.0) return l1_loss(input, target, reduction);
  Tensor d = input - target;
  Tensor ad = abs(d);
  Tensor quadratic = lt(ad, full({}, beta, ad.dtype(), ad.device()));
  return reduce("smooth_l1_loss", where(quadratic, (0.5 / beta) * (d * d), ad - 0.5 * beta),
                reduction);
}

Tensor kl_div(const Tensor& input, const Tensor& target, Reduction reduction, bool log_target) {
  check_same_shape("kl_div", input, target);
  Tensor loss;
  if (log_target) {
    loss = exp(target) * (target - input);
  } else {
    // p·log p with 0·log 0 = 0: log is taken of p where p > 0 and of 1 elsewhere, so neither the
    // value nor the gradient sees log 0.
    Tensor positive = gt(target, zeros({}, target.dtype(), target.device()));
    Tensor safe = where(positive, target, ones({}, target.dtype(), target.device()));
    loss = target * log(safe) - target * input;
  }
  if (reduction == Reduction::BatchMean) {
    double n = input.dim() == 0 ? 1.0 : static_cast<double>(input.size(0));
    return sum(loss) / n;
  }
  return reduce("kl_div", loss, reduction);
}

Tensor cosine_similarity(const Tensor& a_in, const Tensor& b_in, std::int64_t dim, double eps) {
  Shape s = broadcast_shapes(a_in.sizes(), b_in.sizes(), "cosine_similarity");
  Tensor a = a_in.sizes() == s ? a_in : expand(a_in, s);
  Tensor b = b_in.sizes() == s ? b_in : expand(b_in, s);
  std::int64_t d = wrap_dim(dim, static_cast<std::int64_t>(s.size()), "cosine_similarity");
  const double inf = std::numeric_limits<double>::infinity();
  // Clamping the squared norms at eps² (not the norms) keeps sqrt's gradient finite for a zero
  // vector while giving the same values as max(‖a‖, eps).
  Tensor na = sqrt(clamp(sum(a * a, {d}), eps * eps, inf));
  Tensor nb = sqrt(clamp(sum(b * b, {d}), eps * eps, inf));
  return sum(a * b, {d}) / (na * nb);
}

std::int64_t count_correct(const Tensor& logits, const Tensor& target) {
  RETORT_CHECK(logits.dim() == 2 && target.dim() == 1 && target.size(0) == logits.size(0),
               "accuracy: logits ", shape_str(logits.sizes()), " and target ",
               shape_str(target.sizes()), ": expected [N, C] and [N]");
  std::vector<std::int64_t> pred = argmax(logits, 1).to_vector<std::int64_t>();
  std::vector<std::int64_t> want = target.to_vector<std::int64_t>();
  std::int64_t correct = 0;
  for (std::size_t i = 0; i < pred.size(); ++i) correct += pred[i] == want[i];
  return correct;
}

double accuracy(const Tensor& logits, const Tensor& target) {
  std::int64_t n = logits.dim() >= 1 ? logits.size(0) : 0;
  RETORT_CHECK(n > 0, "accuracy: empty batch ", shape_str(logits.sizes()));
  return static_cast<double>(count_correct(logits, target)) / static_cast<double>(n);
}

}  // namespace retort::nn::functional
