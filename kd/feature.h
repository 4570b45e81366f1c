// Feature-based distillation (namespace retort::kd): the student imitates the teacher's
// intermediate feature maps f [N, C, H, W] (or [N, D] for the linear hint). The teacher is
// detached in every loss.
//
// FitNets hint (Romero et al. 2015): a learnable regressor r maps student features to the
// teacher's shape, loss = mse(r(f_s), f_t) (mean over all elements, RepDistiller HintLoss).
// The regressor is created in the dtype and device of its TensorOptions (float32 CPU default).
//   HintRegressor kinds, built from the student and teacher feature shapes (batch dim ignored):
//     Conv1x1: Conv2d(C_s → C_t, 1×1); needs 4-D features with equal H, W.
//     Conv3x3: Conv2d(C_s → C_t, 3×3, padding 1); needs 4-D features with equal H, W.
//     Linear:  flattens f_s [N, ...] to [N, D_s], Linear(D_s → D_t), reshapes to [N, teacher
//              dims...]; any shapes.
//     ConvReg: RepDistiller's regressor (models/util.py ConvReg, what its FitNets results use):
//              a conv chosen by the heights, then BatchNorm2d(C_t) and ReLU:
//                H_s = 2·H_t: Conv2d(C_s → C_t, 3×3, stride 2, padding 1);
//                H_t = 2·H_s: ConvTranspose2d(C_s → C_t, 4×4, stride 2, padding 1), which
//                             doubles H and W (weight [C_s, C_t, 4, 4]);
//                H_s ≥ H_t:   Conv2d(C_s → C_t, (1 + H_s − H_t) × (1 + W_s − W_t));
//              tried in that order, as RepDistiller does; any other pair of heights (a smaller
//              student map that is not half the teacher's) is an error naming both shapes.
//              State-dict keys as RepDistiller's: conv.{weight,bias}, bn.*.
//   Spatial mismatches a kind cannot bridge are errors naming both shapes.
//
// at_loss (Zagoruyko & Komodakis 2017, RepDistiller Attention), p = 2 by default:
//   q = normalize(mean_C f^p) flattened to [N, H·W] (F.normalize, eps 1e-12). When H differ,
//   the larger map is adaptive-avg-pooled to the smaller (H, W) first (RepDistiller does it
//   on the channel maps before the attention, as here). C may differ.
//   RepDistiller (default): loss = mean over N·H·W of (q_s − q_t)².
//   Paper (the paper's eq. 2 without its β/2, as torchdistill ATLoss mode 'paper'):
//     loss = Σ_n ‖q_s,n − q_t,n‖₂ / N, the unsquared L2 distance per sample, averaged.
//
// nst_loss (Huang & Wang 2017, RepDistiller NSTLoss): after the same pooling, each channel map
//   is flattened and L2-normalised: F [N, C, H·W]; with the polynomial kernel
//   k(a, b) = (a·b)² and K(X, Y) [N, C_Y, C_X] = (Y·Xᵀ)²,
//   loss = mean K(F_t, F_t) + mean K(F_s, F_s) − 2·mean K(F_s, F_t)  (full_loss = true,
//   RepDistiller's setting; false drops the constant teacher term, as the paper's gradient).
#pragma once
#include <cstdint>

#include "nn/batchnorm.h"
#include "nn/linear.h"
#include "nn/module.h"
#include "tensor/tensor.h"

namespace retort::kd {

enum class HintKind { Conv1x1, Conv3x3, Linear, ConvReg };

class HintRegressor : public nn::Module {
 public:
  // student_shape, teacher_shape: full feature shapes (e.g. [N, C_s, H, W], [N, C_t, H, W]).
  // Throws "HintRegressor: student feature [..] and teacher feature [..]: <why>".
  HintRegressor(HintKind kind, const Shape& student_shape, const Shape& teacher_shape,
                const TensorOptions& tensor_options = {});

  // f_s [N, student dims...] → [N, teacher dims...].
  Tensor forward(const Tensor& f_s) override;
  std::string type_name() const override { return "HintRegressor"; }

  HintKind kind;
  Shape student_shape, teacher_shape;
  std::shared_ptr<nn::Conv2d> conv;      // conv kinds and ConvReg (but its H_t = 2·H_s case)
  std::shared_ptr<nn::ConvTranspose2d> conv_transpose;  // ConvReg with H_t = 2·H_s, key "conv"
  std::shared_ptr<nn::BatchNorm2d> bn;   // ConvReg
  std::shared_ptr<nn::Linear> linear;    // Linear kind

 private:
  void build_convreg(const Shape& s, const Shape& t, const TensorOptions& tensor_options);
};

// mse(regressor(f_s), f_t); checks the regressor's output against f_t's shape.
Tensor hint_loss(HintRegressor& regressor, const Tensor& f_s, const Tensor& f_t);

enum class AtVariant { RepDistiller, Paper };
struct AtOptions {
  double p = 2.0;  // power of the channel maps, > 0
  AtVariant variant = AtVariant::RepDistiller;
};
// f_s [N, C_s, H_s, W_s], f_t [N, C_t, H_t, W_t]. Scalar.
Tensor at_loss(const Tensor& f_s, const Tensor& f_t, const AtOptions& options = {});

struct NstOptions {
  bool full_loss = true;  // include the constant teacher term mean K(F_t, F_t)
};
// f_s [N, C_s, H_s, W_s], f_t [N, C_t, H_t, W_t]. Scalar.
Tensor nst_loss(const Tensor& f_s, const Tensor& f_t, const NstOptions& options = {});

}  // namespace retort::kd
