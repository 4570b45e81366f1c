// Relation losses. Each follows its reference's arithmetic order (clamps, eps placement, means
// over the full matrices including the diagonal) so values match PyTorch to rounding.
#include "kd/relation.h"

#include <cmath>
#include <limits>

#include "autograd/ops/elementwise.h"
#include "autograd/ops/nn_ops.h"
#include "autograd/ops/reduce.h"
#include "autograd/ops/shape.h"
#include "kd/common.h"
#include "nn/functional.h"
#include "tensor/error.h"

namespace retort::kd {
namespace {

// RepDistiller's pdist: Euclidean distances [N, N], the diagonal forced to 0. The squared
// distance is clamped to eps before sqrt (never sqrt(0)), then the diagonal mask removes both
// the clamped value and its gradient.
Tensor pdist(const Tensor& e, double eps) {
  Tensor sq = sum(e * e, {1});
  Tensor prod = matmul(e, transpose(e, 0, 1));
  Tensor d2 = unsqueeze(sq, 1) + unsqueeze(sq, 0) - prod * 2.0;
  Tensor d = sqrt(clamp(d2, eps, std::numeric_limits<double>::infinity()));
  return d * (1.0 - eye_like(e.size(0), e));
}

// d / mean(d[d > 0]); the count is data, not graph.
Tensor normalise_by_positive_mean(const Tensor& d) {
  Tensor count = sum(gt(d, zeros({}, d.dtype(), d.device())));
  return d / (sum(d) / count);
}

// Cosines of the difference vectors: a[i, j, k] = normalize(f_j − f_i)·normalize(f_k − f_i).
Tensor triplet_angles(const Tensor& f) {
  Tensor diff = unsqueeze(f, 0) - unsqueeze(f, 1);  // [N, N, D], diff[i, j] = f_j − f_i
  Tensor e = l2_normalize(diff, 2);
  return reshape(bmm(e, transpose(e, 1, 2)), {-1});
}

// The Taylor-expanded RBF correlation matrix of rows of u [N, D].
Tensor cc_matrix(const Tensor& u, double gamma, std::int64_t order) {
  Tensor dot = matmul(u, transpose(u, 0, 1));
  Tensor c = ones(dot.sizes(), dot.dtype(), dot.device());
  double coef = 1.0;
  for (std::int64_t p = 1; p <= order; ++p) {
    coef *= 2.0 * gamma / static_cast<double>(p);
    c = c + pow(dot, static_cast<double>(p)) * coef;
  }
  return c * std::exp(-2.0 * gamma);
}

}  // namespace

Tensor sp_loss(const Tensor& f_s, const Tensor& f_t) {
  check_same_batch("sp_loss", f_s, f_t);
  auto gram = [](const Tensor& f) {
    Tensor x = flatten_batch(f);
    return l2_normalize(matmul(x, transpose(x, 0, 1)), 1);
  };
  Tensor diff = gram(detach(f_t)) - gram(f_s);
  const double n = static_cast<double>(f_s.size(0));
  return sum(diff * diff) / (n * n);
}

Tensor rkd_loss(const Tensor& f_s, const Tensor& f_t, const RkdOptions& o) {
  check_same_batch("rkd_loss", f_s, f_t);
  RETORT_CHECK(f_s.size(0) >= 2, "rkd_loss: features ", shape_str(f_s.sizes()),
               " need N ≥ 2 (distances between samples)");
  Tensor s = flatten_batch(f_s);
  Tensor t = flatten_batch(detach(f_t));
  Tensor d_s = normalise_by_positive_mean(pdist(s, o.eps));
  Tensor d_t = normalise_by_positive_mean(pdist(t, o.eps));
  Tensor loss_d = F::smooth_l1_loss(d_s, d_t);
  Tensor loss_a = F::smooth_l1_loss(triplet_angles(s), triplet_angles(t));
  return loss_d * o.w_d + loss_a * o.w_a;
}

Tensor pkt_loss(const Tensor& f_s, const Tensor& f_t, const PktOptions& o) {
  check_same_batch("pkt_loss", f_s, f_t);
  const double eps = o.eps;
  RETORT_CHECK(std::isfinite(eps) && eps >= 0.0, "pkt_loss: eps must be finite and ≥ 0, got ",
               eps);
  auto probs = [eps](const Tensor& f) {
    Tensor x = flatten_batch(f);
    Tensor u = x / (sqrt(sum(x * x, {1}, true)) + eps);
    Tensor sim = (matmul(u, transpose(u, 0, 1)) + 1.0) / 2.0;
    return sim / sum(sim, {1}, true);
  };
  Tensor p_s = probs(f_s);
  Tensor p_t = probs(detach(f_t));
  return mean(p_t * log((p_t + eps) / (p_s + eps)));
}

Tensor cc_loss(const Tensor& f_s, const Tensor& f_t, const CcOptions& o) {
  check_same_batch("cc_loss", f_s, f_t);
  Tensor s = flatten_batch(f_s);
  Tensor t = flatten_batch(detach(f_t));
  if (o.variant == CcVariant::RepDistiller) {
    RETORT_CHECK(!o.gamma && !o.order, "cc_loss: the RepDistiller variant has no kernel, so "
                 "gamma and order do not apply; unset them or choose the TorchDistill or Paper "
                 "variant");
    RETORT_CHECK(s.sizes() == t.sizes() && s.size(0) >= 2, "cc_loss: student features ",
                 shape_str(f_s.sizes()), " and teacher features ", shape_str(f_t.sizes()),
                 " must have the same shape with N ≥ 2 for the RepDistiller variant");
    Tensor delta = abs(s - t);
    const std::int64_t n = s.size(0);
    return mean(sum(narrow(delta, 0, 0, n - 1) * narrow(delta, 0, 1, n - 1), {1}));
  }
  const double gamma = o.gamma.value_or(0.4);
  const std::int64_t order = o.order.value_or(2);
  RETORT_CHECK(std::isfinite(gamma) && gamma > 0.0, "cc_loss: gamma must be finite and > 0, got ",
               gamma);
  RETORT_CHECK(order >= 0, "cc_loss: Taylor order must be ≥ 0, got ", order);
  const double n = static_cast<double>(s.size(0));
  if (o.variant == CcVariant::Paper) {
    s = l2_normalize(s, 1);
    t = l2_normalize(t, 1);
  }
  Tensor diff = cc_matrix(s, gamma, order) - cc_matrix(t, gamma, order);
  Tensor sq = sum(diff * diff);
  return (o.variant == CcVariant::Paper ? sq : sqrt(sq)) / (n * n);
}

}  // namespace retort::kd
