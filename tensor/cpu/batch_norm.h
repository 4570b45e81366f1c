// Reference batch-norm kernels: per-channel loops over any strides, accumulation in double. The
// oneDNN fast path is tested against these. Shapes and formulas as in tensor/batch_norm.h;
// arguments are already checked; weight/bias may be undefined (γ = 1, β = 0).
#pragma once
#include "tensor/batch_norm.h"

namespace retort::cpu {

// Per-channel batch mean and biased variance of x [N, C(, H, W)] → {mean [C], var [C]}.
ops::BatchNormTrain batch_norm_stats(const Tensor& x);

// y = (x − mean_c)/√(var_c + eps)·γ_c + β_c; y (and gx below) has x's layout when x is dense.
Tensor batch_norm_normalize(const Tensor& x, const Tensor& weight, const Tensor& bias,
                            const Tensor& mean, const Tensor& var, double eps);

ops::BatchNormGrads batch_norm_backward(const Tensor& g, const Tensor& x, const Tensor& weight,
                                        const Tensor& mean, const Tensor& var, double eps, bool training);

}  // namespace retort::cpu
