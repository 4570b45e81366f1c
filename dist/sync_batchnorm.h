// Synchronised batch normalisation (namespace retort::dist): BatchNorm whose training statistics
// are those of the global batch — every rank's samples — instead of the rank's own, so a
// data-parallel run normalises exactly as one process with the whole batch would. Per channel c,
// over the M = Σ_r N_r·(spatial) positions of all ranks (two passes, two collectives):
//   mean_c = (Σ_r Σ x) / M,   var_c = (Σ_r Σ (x − mean_c)²) / M   (biased, for normalising)
//   y = (x − mean_c) / √(var_c + eps) · weight_c + bias_c
// and the running statistics updated as nn::BatchNorm does with mean_c and the unbiased
// var_c·M/(M − 1). Eval with running statistics is local (no communication). Composite: the
// gradient flows through all_reduce_sum below, whose backward sums the incoming gradients over
// the ranks — which, with DataParallel's average, gives the gradient of the global-batch loss.
//
// Use it in place of nn::BatchNorm1d/2d when building the model; same parameters, buffers and
// state-dict keys, so checkpoints load into either. Every rank must call forward the same number
// of times (each is two collectives).
#pragma once
#include <cstdint>
#include <optional>

#include "dist/process_group.h"
#include "nn/batchnorm.h"

namespace retort::dist {

// Σ over the ranks of x (any shape, the same on every rank), recorded for autograd: the backward
// of y = Σ_r x_r on rank r is Σ_r' ∂L_r'/∂y, an all_reduce (sum) of the gradients.
Tensor all_reduce_sum(ProcessGroup& pg, const Tensor& x);

class SyncBatchNorm : public nn::BatchNormBase {
 public:
  explicit SyncBatchNorm(std::int64_t num_features, ProcessGroup& pg = ProcessGroup::world(), double eps = 1e-5,
                         std::optional<double> momentum = 0.1, bool affine = true, bool track_running_stats = true)
      : BatchNormBase(num_features, eps, momentum, affine, track_running_stats), pg_(pg) {}
  // x [N, C] or [N, C, *] → same shape.
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "SyncBatchNorm"; }

 private:
  ProcessGroup& pg_;
};

}  // namespace retort::dist
