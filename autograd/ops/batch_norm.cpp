// Differentiable batch normalisation. The raw op updates the running statistics (in place, not
// recorded: they are buffers, not graph values) and returns the batch statistics, which the
// backward reuses instead of recomputing them from x.
#include "autograd/node.h"
#include "autograd/ops/elementwise.h"
#include "autograd/ops/nn_ops.h"
#include "tensor/batch_norm.h"

namespace retort {

using autograd::Grads;
using autograd::record;

Tensor batch_norm(const Tensor& x, const Tensor& weight, const Tensor& bias,
                  const Tensor& running_mean, const Tensor& running_var, bool training,
                  double momentum, double eps) {
  Tensor y, mean, var;
  if (training) {
    auto f = ops::batch_norm_train(x, weight, bias, running_mean, running_var, momentum, eps);
    y = f.y;
    mean = f.mean;
    var = f.var;
  } else {
    y = ops::batch_norm_eval(x, weight, bias, running_mean, running_var, eps);
  }
  // Nothing to record; record() still runs anomaly mode's check of y and returns it unchanged.
  if (!autograd::needs_grad({x, weight, bias})) return record("batch_norm", {x, weight, bias}, y, nullptr);
  if (!training) {
    // Eval statistics are the buffers at this moment; copies keep backward right if a later
    // training step updates them first.
    mean = running_mean.clone();
    var = running_var.clone();
  }
  const bool need_w = weight.defined() && weight.requires_grad();
  const bool need_b = bias.defined() && bias.requires_grad();
  return record("batch_norm", {x, weight, bias}, y,
                [x, weight, mean, var, eps, training, need_w, need_b](const Tensor& g) {
                  auto r = ops::batch_norm_backward(g, x, weight, mean, var, eps, training);
                  return Grads{r.gx, need_w ? r.gweight : Tensor(), need_b ? r.gbias : Tensor()};
                });
}

Tensor batch_norm_relu(const Tensor& x, const Tensor& weight, const Tensor& bias,
                       const Tensor& running_mean, const Tensor& running_var, bool training,
                       double momentum, double eps) {
  const bool grad = autograd::needs_grad({x, weight, bias});
  if (!training) {
    // The fused eval forward has no backward of its own: with a graph, the two recorded ops.
    if (grad) return relu(batch_norm(x, weight, bias, running_mean, running_var, false, momentum, eps));
    return record("batch_norm_relu", {x, weight, bias},
                  ops::batch_norm_relu_eval(x, weight, bias, running_mean, running_var, eps), nullptr);
  }
  auto f = ops::batch_norm_relu_train(x, weight, bias, running_mean, running_var, momentum, eps);
  if (!grad) return record("batch_norm_relu", {x, weight, bias}, f.y, nullptr);
  const bool need_w = weight.defined() && weight.requires_grad();
  const bool need_b = bias.defined() && bias.requires_grad();
  // y is kept for the unfused backward (x may have left its blocked layout by then).
  return record("batch_norm_relu", {x, weight, bias}, f.y,
                [x, y = autograd::saved_output(f.y), mask = f.mask, weight, mean = f.mean,
                 var = f.var, eps, need_w, need_b](const Tensor& g) {
                  auto r = ops::batch_norm_relu_backward(g, x, y, mask, weight, mean, var, eps);
                  return Grads{r.gx, need_w ? r.gweight : Tensor(), need_b ? r.gbias : Tensor()};
                });
}

}  // namespace retort
