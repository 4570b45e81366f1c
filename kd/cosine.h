// Cosine hidden-representation loss of the PyTorch knowledge-distillation tutorial
// ("Knowledge Distillation Tutorial", ModifiedDeepNNCosine / ModifiedLightNNCosine with
// nn.CosineEmbeddingLoss and target 1), namespace retort::kd.
//
// f_s [N, ...] and f_t [N, ...] are flattened to [N, D_s] and [N, D_t]. The teacher is reduced
// by F.avg_pool1d(f_t, k) (default k = 2; on a 2-D tensor torch pools the last dim): windows of
// k = options.pool consecutive features averaged, a trailing remainder dropped,
//   p[n, j] = mean_{i<k} f_t[n, j·k + i],   j < ⌊D_t / k⌋ which must equal D_s.
// Then, with CosineEmbeddingLoss's cosine (EPS = 1e-12 added to each squared norm),
//   cos_n = Σ_d s·p / sqrt((Σ s² + 1e-12)·(Σ p² + 1e-12))
//   loss = mean_n (1 − cos_n).
// The tutorial's 2048 → 1024 teacher and 1024 student is the default. k = 1 compares the
// features as they are. The teacher is detached.
#pragma once
#include <cstdint>

#include "tensor/tensor.h"

namespace retort::kd {

struct CosineOptions {
  std::int64_t pool = 2;  // k, the teacher's avg_pool1d window, ≥ 1
};
// f_s [N, ...] (D_s features), f_t [N, ...] (D_t features, ⌊D_t/pool⌋ = D_s). Scalar.
Tensor cosine_loss(const Tensor& f_s, const Tensor& f_t, const CosineOptions& options = {});

}  // namespace retort::kd
