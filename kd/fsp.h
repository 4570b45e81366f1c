// FSP: flow of solution procedure (Yim et al. 2017), as RepDistiller's FSP criterion
// (namespace retort::kd).
//
// For two feature maps of the same network, F1 [N, C1, H, W] and F2 [N, C2, H, W] (when the
// heights differ the larger map is first adaptive-avg-pooled to the smaller one's (H, W)):
//   G(F1, F2)[n, i, j] = Σ_{h,w} F1[n, i, h, w]·F2[n, j, h, w] / (H·W)      → [N, C1, C2]
// (RepDistiller computes the transpose [N, C2, C1]; the loss below is the same.)
//
// fsp_loss takes the student's and the teacher's lists of L ≥ 2 feature maps, forms the FSP
// matrix of each consecutive pair (f[l], f[l+1]), l = 0..L−2, and
//   ℓ_l = mean over N·C1·C2 of (G_s,l − G_t,l)²      (RepDistiller FSP.compute_loss)
//   loss = Σ_l ℓ_l   (pairs = Sum, default: RepDistiller returns the list ℓ and its
//   train_student.py sums it)   or   mean_l ℓ_l   (pairs = Mean).
// Student and teacher FSP matrices must have equal shapes (same N and channel counts at each
// position). The teacher maps are detached.
#pragma once
#include <vector>

#include "tensor/tensor.h"

namespace retort::kd {

// f1 [N, C1, H1, W1], f2 [N, C2, H2, W2] → [N, C1, C2].
Tensor fsp_matrix(const Tensor& f1, const Tensor& f2);

enum class PairReduction { Sum, Mean };
struct FspOptions {
  PairReduction pairs = PairReduction::Sum;  // how the L − 1 pair losses are combined
};
// f_s, f_t: L ≥ 2 maps each, [N, C_l, H_l, W_l]. Scalar.
Tensor fsp_loss(const std::vector<Tensor>& f_s, const std::vector<Tensor>& f_t,
                const FspOptions& options = {});

}  // namespace retort::kd
