// Response-based (logit) distillation losses (namespace retort::kd). Student logits s and
// teacher logits t are [N, K] (N samples, K classes); labels are int64 [N] in [0, K). Every loss
// detaches the teacher: gradients reach the student only, even when t requires grad.
//
// Calling convention (every loss in kd/): loss(student, teacher[, labels], options), where the
// options struct holds every knob, the temperature is always `options.T` (its first field) and a
// reduction is always `options.reduction`, so kd_loss(s, t, {.T = 2}) reads like
// dkd_loss(s, t, y, {.T = 2}). Defaults are those of the reference implementation named below.
//
// kd_loss (Hinton et al. 2015; reference RepDistiller DistillKL, default T = 4 as its
// train_student.py), with p_t = softmax(t/T), p_s = softmax(s/T) along K:
//   KL variant:            ℓ_n = Σ_k p_t·(log p_t − log p_s)
//   SoftCrossEntropy:      ℓ_n = −Σ_k p_t·log p_s        (= KL + H(p_t): same gradient)
//   loss = T² · reduce(ℓ)  (T² keeps the gradient scale independent of T; scale_T2 = false drops
//   it). reduce: BatchMean Σℓ/N (default; RepDistiller DistillKL, mdistiller kd_loss), Sum,
//   Mean Σℓ/(N·K) (torch kl_div's 'mean', which the references avoid), None ℓ [N].
//   Gradient (KL, BatchMean, scaled): ∂loss/∂s = T·(p_s − p_t)/N.
//
// logit_mse (Ba & Caruana 2014, "Do Deep Nets Really Need to be Deep?"; regression on logits):
//   mse(s, t) with options.reduction Mean (default, over N·K, as F.mse_loss), Sum or None.
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
// dist_loss (Huang et al. 2022, DIST; reference the authors' DIST_KD code, class DIST), with
//   τ = options.T and y = softmax(z/τ) [N, K],
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
  double T = 4.0;  // temperature, > 0
  Reduction reduction = Reduction::BatchMean;
  bool scale_T2 = true;
  KdVariant variant = KdVariant::KL;
};

// s, t [N, K]. Scalar unless reduction is None ([N]).
Tensor kd_loss(const Tensor& student_logits, const Tensor& teacher_logits,
               const KdOptions& options = {});

struct LogitMseOptions {
  Reduction reduction = Reduction::Mean;  // Mean, Sum or None (BatchMean is an error)
};
// s, t [N, K] (any equal shapes). Scalar unless reduction is None (the shape of s).
Tensor logit_mse(const Tensor& student_logits, const Tensor& teacher_logits,
                 const LogitMseOptions& options = {});

struct DkdOptions {
  double T = 4.0;      // temperature, > 0
  double alpha = 1.0;  // TCKD weight
  double beta = 8.0;   // NCKD weight
};
// s, t [N, K] with K ≥ 2; labels int64 [N]. Scalar.
Tensor dkd_loss(const Tensor& student_logits, const Tensor& teacher_logits, const Tensor& labels,
                const DkdOptions& options = {});

struct DistOptions {
  double T = 1.0;      // temperature τ, > 0
  double beta = 1.0;   // inter-class weight
  double gamma = 1.0;  // intra-class weight
};
// s, t [N, K] with N ≥ 2 and K ≥ 2 (a Pearson correlation needs two values). Scalar.
Tensor dist_loss(const Tensor& student_logits, const Tensor& teacher_logits,
                 const DistOptions& options = {});

}  // namespace retort::kd
