// oneDNN batch-normalisation fast path (float32). Shapes and formulas as in tensor/batch_norm.h.
//
// x is [N, C] or [N, C, H, W] in any dense layout (NCHW, channels-last, ...); y, g and gx share
// x's layout. weight, bias, mean, var and the gradients of weight/bias are packed [C] tensors;
// weight and bias are always given (ones / zeros when the layer has no affine parameters).
#pragma once
#include "tensor/tensor.h"

namespace retort::onednn {

// y from batch statistics, which are written to mean and var (biased).
void batch_norm_forward_training(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                 const Tensor& y, const Tensor& mean, const Tensor& var, double eps);
// y from the given (running) statistics.
void batch_norm_forward_inference(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                  const Tensor& mean, const Tensor& var, const Tensor& y, double eps);
// gx, gweight, gbias from upstream g; training selects batch-statistics vs constant-statistics
// derivatives.
void batch_norm_backward(const Tensor& g, const Tensor& x, const Tensor& weight, const Tensor& mean,
                         const Tensor& var, const Tensor& gx, const Tensor& gweight,
                         const Tensor& gbias, double eps, bool training);

// The same in oneDNN's blocked layouts (blocked.h), for a 4-D x that is a deferred blocked tensor
// (a convolution's result): computed in x's blocked layout and returned deferred in it, so
// conv → batch norm → activation → conv never reorders. g may come in any layout (it is
// reordered into x's). Undefined results when x is not such a tensor or the fast paths are off;
// the caller then uses the functions above.
Tensor batch_norm_forward_training_blocked(const Tensor& x, const Tensor& weight,
                                           const Tensor& bias, const Tensor& mean,
                                           const Tensor& var, double eps);
Tensor batch_norm_forward_inference_blocked(const Tensor& x, const Tensor& weight,
                                            const Tensor& bias, const Tensor& mean,
                                            const Tensor& var, double eps);
Tensor batch_norm_backward_blocked(const Tensor& g, const Tensor& x, const Tensor& weight,
                                   const Tensor& mean, const Tensor& var, const Tensor& gweight,
                                   const Tensor& gbias, double eps, bool training);

// relu(batch norm) in one primitive, blocked inputs only, undefined results otherwise as above.
// The training forward writes the relu mask (an opaque workspace) to mask; the backward takes the
// gradient of the relu's output and that mask (batch statistics only).
Tensor batch_norm_relu_forward_training_blocked(const Tensor& x, const Tensor& weight,
                                                const Tensor& bias, const Tensor& mean,
                                                const Tensor& var, double eps, Tensor& mask);
Tensor batch_norm_relu_forward_inference_blocked(const Tensor& x, const Tensor& weight,
                                                 const Tensor& bias, const Tensor& mean,
                                                 const Tensor& var, double eps);
Tensor batch_norm_relu_backward_blocked(const Tensor& g, const Tensor& x, const Tensor& mask,
                                        const Tensor& weight, const Tensor& mean,
                                        const Tensor& var, const Tensor& gweight,
                                        const Tensor& gbias, double eps);

}  // namespace retort::onednn
