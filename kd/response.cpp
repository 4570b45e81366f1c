// Logit distillation losses, written exactly as the reference Python so values match to
// rounding, and detaching the teacher first (the references compute it under no_grad).
#include "kd/response.h"

#include "autograd/ops/elementwise.h"
#include "autograd/ops/index.h"
#include "autograd/ops/nn_ops.h"
#include "autograd/ops/reduce.h"
#include "autograd/ops/shape.h"
#include "kd/common.h"
#include "tensor/error.h"

namespace retort::kd {
namespace {

void check_logits(const char* op, const Tensor& s, const Tensor& t) {
  check_rank(op, s, 2, "student logits", "[N, K]");
  check_same_shape(op, s, t, "logits");
}

// Reduces per-element losses [N, K] the way kl_div does (BatchMean divides by N).
Tensor reduce_rows(const Tensor& elem, Reduction r) {
  switch (r) {
    case Reduction::None: return sum(elem, {1});
    case Reduction::Sum: return sum(elem);
    case Reduction::Mean: return mean(elem);
    case Reduction::BatchMean: break;
  }
  return sum(elem) / static_cast<double>(elem.size(0));
}

// DIST's pearson_correlation for rows of a and b [R, C]: centred cosine with 1e-8 added to the
// product of norms (not clamped per norm, unlike F::cosine_similarity), giving [R].
Tensor pearson_rows(const Tensor& a, const Tensor& b) {
  Tensor ac = a - mean(a, {1}, true);
  Tensor bc = b - mean(b, {1}, true);
  Tensor na = sqrt(sum(ac * ac, {1}));
  Tensor nb = sqrt(sum(bc * bc, {1}));
  return sum(ac * bc, {1}) / (na * nb + 1e-8);
}

}  // namespace

Tensor kd_loss(const Tensor& s, const Tensor& t_in, const KdOptions& o) {
  check_logits("kd_loss", s, t_in);
  const double T = o.T;
  check_temperature("kd_loss", T);
  Tensor t = detach(t_in);
  Tensor log_ps = log_softmax(s / T, 1);
  Tensor elem;
  if (o.variant == KdVariant::KL) {
    elem = F::kl_div(log_ps, softmax(t / T, 1), Reduction::None);
  } else {
    elem = -(softmax(t / T, 1) * log_ps);
  }
  Tensor loss = reduce_rows(elem, o.reduction);
  return o.scale_T2 ? loss * (T * T) : loss;
}

Tensor logit_mse(const Tensor& s, const Tensor& t, const LogitMseOptions& o) {
  check_same_shape("logit_mse", s, t, "logits");
  RETORT_CHECK(o.reduction != Reduction::BatchMean,
               "logit_mse: reduction BatchMean is not defined; use Mean, Sum or None");
  return F::mse_loss(s, detach(t), o.reduction);
}

Tensor dkd_loss(const Tensor& s, const Tensor& t_in, const Tensor& labels, const DkdOptions& o) {
  check_logits("dkd_loss", s, t_in);
  RETORT_CHECK(s.size(1) >= 2, "dkd_loss: logits ", shape_str(s.sizes()),
               " need at least 2 classes");
  RETORT_CHECK(labels.defined() && labels.dim() == 1 && labels.size(0) == s.size(0) &&
                   labels.dtype() == kInt64,
               "dkd_loss: labels ", labels.defined() ? shape_str(labels.sizes()) : "undefined",
               " must be int64 [N] for logits ", shape_str(s.sizes()));
  check_temperature("dkd_loss", o.T);
  const double T = o.T;
  const double n = static_cast<double>(s.size(0));
  Tensor t = detach(t_in);
  Tensor gt = one_hot(labels, s.size(1), s.dtype());  // validates the label range
  Tensor other = 1.0 - gt;

  // TCKD: collapse each softmax to [p_target, p_rest] (mdistiller's cat_mask), then log.
  auto binary = [&](const Tensor& z) {
    Tensor p = softmax(z / T, 1);
    return cat({sum(p * gt, {1}, true), sum(p * other, {1}, true)}, 1);
  };
  Tensor tckd = F::kl_div(log(binary(s)), binary(t), Reduction::Sum) * (T * T) / n;

  // NCKD: the −1000 shift sends exp of the target logit to 0, i.e. a softmax over the others.
  Tensor q_t = softmax(t / T - gt * 1000.0, 1);
  Tensor log_q_s = log_softmax(s / T - gt * 1000.0, 1);
  Tensor nckd = F::kl_div(log_q_s, q_t, Reduction::Sum) * (T * T) / n;
  return tckd * o.alpha + nckd * o.beta;
}

Tensor dist_loss(const Tensor& s, const Tensor& t_in, const DistOptions& o) {
  check_logits("dist_loss", s, t_in);
  RETORT_CHECK(s.size(0) >= 2 && s.size(1) >= 2, "dist_loss: logits ", shape_str(s.sizes()),
               " need N ≥ 2 and K ≥ 2 (Pearson correlations over both)");
  check_temperature("dist_loss", o.T);
  Tensor y_s = softmax(s / o.T, 1);
  Tensor y_t = softmax(detach(t_in) / o.T, 1);
  const double tau2 = o.T * o.T;
  Tensor inter = (1.0 - mean(pearson_rows(y_s, y_t))) * tau2;
  Tensor intra = (1.0 - mean(pearson_rows(transpose(y_s, 0, 1), transpose(y_t, 0, 1)))) * tau2;
  return inter * o.beta + intra * o.gamma;
}

}  // namespace retort::kd
