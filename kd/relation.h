// Relation-based distillation losses (namespace retort::kd): they compare how samples relate to
// each other inside a batch, so student and teacher features may have different widths.
// Features f are [N, ...] (e.g. [N, C, H, W] or [N, D]) and are flattened to [N, D]; student and
// teacher need the same N only. The teacher is detached.
//
// sp_loss (Tung & Mori 2019, RepDistiller Similarity): G = f·fᵀ [N, N], each row L2-normalised
//   (F.normalize, eps 1e-12); loss = ‖G_s − G_t‖²_F / N².
//
// rkd_loss (Park et al. 2019, RepDistiller RKDLoss):
//   distance: d_ij = ‖f_i − f_j‖ computed as sqrt(max(‖f_i‖² + ‖f_j‖² − 2f_i·f_j, 1e-12)) with
//     the diagonal set to 0; d /= mean of the positive entries (the off-diagonal); loss_d =
//     smooth_l1(d_s, d_t) (β = 1, mean over N²). The 1e-12 clamp keeps sqrt away from 0, where
//     its derivative is infinite; the diagonal is then masked (value and gradient 0), as the
//     reference does.
//   angle: e_ij = normalize(f_j − f_i) [N, N, D] (zero vector for i = j, as torch's clamp_min
//     in F.normalize; no gradient flows there because those angles are 0 for student and teacher
//     alike, so smooth_l1 passes back exactly 0); a_ijk = e_ij·e_ik [N, N, N]; loss_a = smooth_l1(a_s,
//     a_t) (mean over N³, the degenerate i = j / i = k triplets included as in the reference).
//   loss = w_d·loss_d + w_a·loss_a, defaults w_d = 25, w_a = 50 (RepDistiller).
//
// pkt_loss (Passalis & Tefas 2018, RepDistiller PKT cosine_similarity_loss), eps = 1e-7
//   (options.eps):
//   u = f / (‖f‖ + eps) per row; P = (u·uᵀ + 1)/2 with rows divided by their sums;
//   loss = mean_ij P_t·log((P_t + eps)/(P_s + eps))   (mean over N², as the reference).
//
// cc_loss (Peng et al. 2019, correlation congruence), features flattened to [N, D]. Three
//   published computations share the name; options.variant picks one:
//   RepDistiller (default: the CIFAR-100 benchmark's implementation, class Correlation, used with
//     linear embeddings of both penultimate features): δ = |f_s − f_t| (same D required),
//     loss = mean_n Σ_d δ_n·δ_{n+1} over consecutive samples n = 0..N−2. No kernel: setting
//     gamma or order with this variant is an error.
//   TorchDistill (torchdistill CCKDLoss, gaussian kernel, reduction batchmean):
//     C_ij = e^{−2γ}·Σ_{p=0..P} (2γ)^p/p!·(f_i·f_j)^p on the raw (un-normalised) f, the order-P
//     Taylor expansion of the Gaussian RBF; loss = ‖C_s − C_t‖_F / N² (torch.dist: the norm, not
//     its square). γ = 0.4, P = 2 unless set (torchdistill's CIFAR/ImageNet configs).
//   Paper: the same kernel on u = f/‖f‖ per row (the expansion is exact in form for unit
//     vectors); loss = ‖C_s − C_t‖²_F / N². Same γ, P defaults.
#pragma once
#include <cstdint>
#include <optional>

#include "tensor/tensor.h"

namespace retort::kd {

// f_s [N, ...], f_t [N, ...]. Scalar.
Tensor sp_loss(const Tensor& f_s, const Tensor& f_t);

struct RkdOptions {
  double w_d = 25.0;  // distance term weight
  double w_a = 50.0;  // angle term weight
  double eps = 1e-12; // clamp of the squared distance before sqrt
};
// f_s [N, ...], f_t [N, ...], N ≥ 2. Scalar.
Tensor rkd_loss(const Tensor& f_s, const Tensor& f_t, const RkdOptions& options = {});

struct PktOptions {
  double eps = 1e-7;  // added to the norms and to both probabilities
};
// f_s [N, ...], f_t [N, ...]. Scalar.
Tensor pkt_loss(const Tensor& f_s, const Tensor& f_t, const PktOptions& options = {});

enum class CcVariant { RepDistiller, TorchDistill, Paper };
struct CcOptions {
  CcVariant variant = CcVariant::RepDistiller;
  std::optional<double> gamma;        // γ > 0 of the kernel variants (unset: 0.4)
  std::optional<std::int64_t> order;  // P ≥ 0, the Taylor order of the kernel variants (unset: 2)
};
// f_s [N, ...], f_t [N, ...] (RepDistiller variant: same shape, N ≥ 2). Scalar.
Tensor cc_loss(const Tensor& f_s, const Tensor& f_t, const CcOptions& options = {});

}  // namespace retort::kd
