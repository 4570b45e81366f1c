// Batch normalisation on raw tensors (no graph; autograd/ops/batch_norm.cpp wraps these).
//
// x is [N, C] or [N, C, H, W] (any strides); statistics are per channel c over the m = N·H·W
// values x[n, c, h, w]. weight (γ) and bias (β) are [C] or undefined (γ = 1, β = 0).
//   y = (x − μ_c) / √(σ²_c + eps) · γ_c + β_c
// Outputs have x's layout when x is dense (channels-last stays channels-last).
#pragma once
#include "tensor/tensor.h"

namespace retort::ops {

struct BatchNormTrain {
  Tensor y;
  Tensor mean;  // [C] batch mean μ
  Tensor var;   // [C] batch variance σ², biased (÷ m): what normalised x and what backward needs
};

// Training forward: μ, σ² are the batch statistics. When running_mean / running_var are defined
// they are updated in place:  r_mean ← (1−momentum)·r_mean + momentum·μ,
//                             r_var  ← (1−momentum)·r_var  + momentum·σ²·m/(m−1)  (unbiased).
// Needs m > 1.
BatchNormTrain batch_norm_train(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                const Tensor& running_mean, const Tensor& running_var,
                                double momentum, double eps);

// Eval forward: μ, σ² are running_mean, running_var (both required).
Tensor batch_norm_eval(const Tensor& x, const Tensor& weight, const Tensor& bias,
                       const Tensor& running_mean, const Tensor& running_var, double eps);

struct BatchNormGrads {
  Tensor gx;       // like x
  Tensor gweight;  // [C]  Σ g·x̂
  Tensor gbias;    // [C]  Σ g
};

// Backward for upstream g (x's shape), with x̂ = (x − μ)/√(σ² + eps), s = γ/√(σ² + eps):
//   training (μ, σ² were the batch statistics, so they depend on x):
//     gx = s · (g − mean_c(g) − x̂ · mean_c(g·x̂))
//   eval (μ, σ² the running statistics, constants):  gx = s · g
// gweight and gbias are returned even when weight/bias are undefined (callers drop them).
BatchNormGrads batch_norm_backward(const Tensor& g, const Tensor& x, const Tensor& weight,
                                   const Tensor& mean, const Tensor& var, double eps, bool training);

// y = relu(batch_norm(x)) as one op: the same values and gradients as relu of the ops above. The
// oneDNN path (a float32 x in a blocked layout, i.e. a convolution's result) applies the relu
// inside the normalisation and its mask inside the backward: one pass over the activation less
// each way. Elsewhere the relu is a separate op.
struct BatchNormReluTrain : BatchNormTrain {
  Tensor mask;  // the fused path's relu mask (opaque, for the backward), else undefined
};
BatchNormReluTrain batch_norm_relu_train(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                         const Tensor& running_mean, const Tensor& running_var,
                                         double momentum, double eps);
Tensor batch_norm_relu_eval(const Tensor& x, const Tensor& weight, const Tensor& bias,
                            const Tensor& running_mean, const Tensor& running_var, double eps);
// Training-mode backward for upstream g of y = relu(batch_norm(x)), y and mask from
// batch_norm_relu_train: batch_norm_backward(g · [y > 0], ...), fused when mask is defined and x is
// still in its blocked layout.
BatchNormGrads batch_norm_relu_backward(const Tensor& g, const Tensor& x, const Tensor& y,
                                        const Tensor& mask, const Tensor& weight,
                                        const Tensor& mean, const Tensor& var, double eps);

}  // namespace retort::ops
