// VID: variational information distillation (Ahn et al. 2019), as RepDistiller's VIDLoss
// (namespace retort::kd).
//
// The student predicts a Gaussian over the teacher's feature: mean μ = r(f_s) from a regressor
//   r = Conv1x1(C_s → C_mid) → ReLU → Conv1x1(C_mid → C_mid) → ReLU → Conv1x1(C_mid → C_t)
// (no biases), and a per-channel variance σ²_c = softplus(α_c) + eps from a learnable
// log-scale α [C_t]. With f_t [N, C_t, H, W] (the map with the larger height is first
// adaptive-avg-pooled to the other's (H, W), before the regressor, as RepDistiller):
//   loss = mean over N·C_t·H·W of 0.5·((μ − f_t)²/σ² + log σ²)
// (the negative log-likelihood without its constant 0.5·log 2π, RepDistiller's neg_log_prob).
// α is initialised to log(exp(init_pred_var − eps) − 1) so that σ² = init_pred_var at start.
// Defaults init_pred_var = 5, eps = 1e-5 (RepDistiller). The teacher is detached; gradients
// reach f_s, the regressor weights and α. The regressor and α are created in the dtype and
// device of the TensorOptions (float32 CPU by default).
//
// State-dict keys match RepDistiller's VIDLoss: regressor.{0,2,4}.weight, log_scale.
#pragma once
#include <cstdint>
#include <memory>

#include "nn/basic.h"
#include "nn/module.h"
#include "tensor/tensor.h"

namespace retort::kd {

struct VidOptions {
  double init_pred_var = 5.0;  // σ² at start, > eps
  double eps = 1e-5;           // variance floor, > 0
};

class VIDRegressor : public nn::Module {
 public:
  VIDRegressor(std::int64_t student_channels, std::int64_t mid_channels,
               std::int64_t teacher_channels, const VidOptions& options = {},
               const TensorOptions& tensor_options = {});

  // f_s [N, C_s, H, W] → μ [N, C_t, H, W].
  Tensor forward(const Tensor& f_s) override;
  // σ² [C_t] = softplus(α) + eps.
  Tensor variance() const;
  std::string type_name() const override { return "VIDRegressor"; }

  std::int64_t student_channels, mid_channels, teacher_channels;
  double eps;
  std::shared_ptr<nn::Sequential> regressor;
  Tensor log_scale;  // α [C_t]
};

// softplus(x) = log(1 + exp(x)), overflow-free, from differentiable ops.
Tensor softplus(const Tensor& x);

// f_s [N, C_s, H_s, W_s], f_t [N, C_t, H_t, W_t]. Scalar.
Tensor vid_loss(VIDRegressor& regressor, const Tensor& f_s, const Tensor& f_t);

}  // namespace retort::kd
