// Response-based (logit) distillation losses (namespace retort::kd). Student logits s and
// teacher logits t are [N, K] (N samples, K classes); labels are int64 [N] in [0, K). Every loss
// detaches the teacher: gradients reach the student only, even when t requires grad.
//
// kd_loss (Hinton et al. 2015), with p_t = softmax(t/T), p_s = softmax(s/T) along K:
//   KL variant:            ℓ_n = Σ_k p_t·(log p_t − log p_s)
//   SoftCrossEntropy:      ℓ_n = −Σ_k p_t·log p_s        (= KL + H(p_t): same gradient)
//   loss = T² · reduce(ℓ)  (T² keeps the gradient scale independent of T; scale_T2 = false drops
//   it). reduce: BatchMean Σℓ/N (default; RepDistiller DistillKL, mdistiller kd_loss), Sum,
//   Mean Σℓ/(N·K) (torch kl_div's 'mean', which the references avoid), None ℓ [N].
//   Gradient (KL, BatchMean, scaled): ∂loss/∂s = T·(p_s − p_t)/N.
//
// logit_mse (Ba & Caruana 2014): mse(s, t) with the given reduction (default Mean over N·K).
//
// dkd_loss (Zhao et al. 2022, mdistiller's dkd_loss), g = gt label of each row:
//   b = [p_g, 1 − p_g] (binary target/non-target probabilities at temperature T)
//   TCKD = T²·Σ_n KL(b_t ‖ b_s)/N,  with log b_s = log of the summed softmax (as mdistiller)
//   NCKD = T²·Σ_n KL(q_t ‖ q_s)/N,  q = softmax(z/T − 1000·onehot(g)): the softmax over the
//          non-target classes, made by mdistiller's masking trick (the target logit is pushed
//          down by 1000 after dividing by T, so its probability underflows to 0)
//   loss = α·TCKD + β·NCKD, defaults α = 1, β = 8, T = 4 (mdistiller's CIFAR config). The
//   paper's default-free form is the same; mdistiller's warm-up factor is left to the caller.
//
// dist_loss (Huang et al. 2022, DIST, the official code): y = softmax(z/τ) [N, K],
//   pearson(a, b) = cos(a − mean a, b − mean b) with cos(u, v) = Σuv / (‖u‖·‖v‖ + 1e-8)
//   inter = 1 − mean_n pearson(y_s[n,:], y_t[n,:])   (relation between classes, per sample)
//   intra = 1 − mean_k pearson(y_s[:,k], y_t[:,k])   (relation between samples, per class)
//   loss = τ²·(β·inter + γ·intra), defaults β = γ = τ = 1.
#pragma once
#include <cstdint>

#include "nn/functional.h"
#include "tensor/tensor.h"

namespace retort::kd {

using nn::functional::Reduction;

enum class KdVariant { KL, SoftCrossEntropy };

struct KdOptions {
  Reduction reduction = Reduction::BatchMean;
  bool scale_T2 = true;
  KdVariant variant = KdVariant::KL;
};

// s, t [N, K]; T > 0. Scalar unless reduction is None ([N]).
Tensor kd_loss(const Tensor& student_logits, const Tensor& teacher_logits, double T = 4.0,
               const KdOptions& options = {});

// s, t [N, K] (any equal shapes); mse with reduction Mean (default), Sum or None.
Tensor logit_mse(const Tensor& student_logits, const Tensor& teacher_logits,
                 Reduction reduction = Reduction::Mean);

struct DkdOptions {
  double alpha = 1.0;  // TCKD weight
  double beta = 8.0;   // NCKD weight
  double T = 4.0;
};
// s, t [N, K] with K ≥ 2; labels int64 [N]. Scalar.
Tensor dkd_loss(const Tensor& student_logits, const Tensor& teacher_logits, const Tensor& labels,
                const DkdOptions& options = {});

struct DistOptions {
  double beta = 1.0;   // inter-class weight
  double gamma = 1.0;  // intra-class weight
  double tau = 1.0;
};
// s, t [N, K] with N ≥ 2 and K ≥ 2 (a Pearson correlation needs two values). Scalar.
Tensor dist_loss(const Tensor& student_logits, const Tensor& teacher_logits,
                 const DistOptions& options = {});

}  // namespace retort::kd
