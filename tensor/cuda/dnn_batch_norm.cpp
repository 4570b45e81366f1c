// Batch normalisation on cuDNN (CUDNN_BATCHNORM_SPATIAL: statistics per channel over N·H·W; for
// [N, C] inputs, seen as [N, C, 1, 1], CUDNN_BATCHNORM_PER_ACTIVATION, the same maths when H = W = 1
// and the mode cuDNN's fully-connected kernels are built for — PyTorch makes the same choice),
// mapped onto the tensor layer's contract (tensor/batch_norm.h):
//   - cuDNN's training forward saves the batch mean and 1/√(σ² + eps); the layer returns the
//     biased variance σ², so it is recovered as 1/invstd² − eps (bn_kernels.cu), and the backward
//     turns the layer's σ² back into 1/√(σ² + eps) for cuDNN.
//   - cuDNN updates the running statistics itself: r ← (1 − f)·r + f·stat with f =
//     exponentialAverageFactor = momentum, using the unbiased variance σ²·m/(m − 1) for
//     running_var — the layer's rule. A running statistic that is not packed is updated through a
//     packed copy written back afterwards; when only one of the two is given, the other gets a
//     scratch buffer (cuDNN takes both or neither).
//   - undefined weight/bias are ones/zeros.
//   - The eval-mode backward (running statistics are constants) is not a cuDNN operation; it runs
//     on bn_kernels.cu.
// Data tensors are packed NCHW; results are packed with x's sizes.
#include "tensor/batch_norm.h"
#include "tensor/cuda/dnn_common.h"
#include "tensor/cuda/ops.h"
#include "tensor/error.h"

// Legacy cuDNN API on purpose; see dnn_common.h.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace retort::cuda {

namespace {

// The buffer cuDNN updates for a running statistic: r itself when packed, a packed copy when not,
// zeros when r is undefined but its partner is defined, undefined when both are undefined.
Tensor running_buffer(const Tensor& r, const Tensor& partner, std::int64_t C, const Tensor& x,
                      const char* op) {
  if (r.defined()) return r.contiguous();
  if (!partner.defined()) return Tensor();
  Tensor scratch = empty({C}, x.dtype(), x.device());
  zero_(scratch, op);
  return scratch;
}

void* data_or_null(const Tensor& t) { return t.defined() ? t.raw_data() : nullptr; }

cudnnBatchNormMode_t mode_of(const Tensor& x) {
  return x.dim() == 2 ? CUDNN_BATCHNORM_PER_ACTIVATION : CUDNN_BATCHNORM_SPATIAL;
}

void check_operands(const Tensor& x, const Tensor& w, const Tensor& b, const char* op) {
  check_cuda_tensor(x, op, "input");
  if (w.defined()) check_cuda_tensor(w, op, "weight");
  if (b.defined()) check_cuda_tensor(b, op, "bias");
}

}  // namespace

ops::BatchNormTrain batch_norm_train(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                     const Tensor& running_mean, const Tensor& running_var, double momentum,
                                     double eps) {
  const char* op = "cuda batch_norm";
  check_operands(x, weight, bias, op);
  DeviceGuard guard(x);
  const DType dt = x.dtype();
  const Dims4 s = nchw_of(x);
  const std::int64_t C = s[1];
  ops::BatchNormTrain r{empty(x.sizes(), dt, x.device()), empty({C}, dt, x.device()), Tensor()};
  const Tensor xc = x.contiguous();
  const Tensor w = param_or(weight, C, 1.0, x), b = param_or(bias, C, 0.0, x);
  const Tensor rm = running_buffer(running_mean, running_var, C, x, op);
  const Tensor rv = running_buffer(running_var, running_mean, C, x, op);
  Tensor invstd = empty({C}, dt, x.device());
  const TensorDesc xd(dt, s, op), pd(dt, {1, C, 1, 1}, op);
  const Blend blend(dt);
  RETORT_CUDA(cudnnBatchNormalizationForwardTraining(
                  cudnn(), mode_of(x), blend.one(), blend.zero(), xd.get(), xc.raw_data(), xd.get(),
                  r.y.raw_data(), pd.get(), w.raw_data(), b.raw_data(), momentum, data_or_null(rm),
                  data_or_null(rv), eps, r.mean.raw_data(), invstd.raw_data()),
              op);
  if (running_mean.defined() && !rm.same(running_mean)) cuda::copy_(running_mean, rm);
  if (running_var.defined() && !rv.same(running_var)) cuda::copy_(running_var, rv);
  r.var = bn_var_from_invstd(invstd, eps);
  return r;
}

Tensor batch_norm_eval(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& running_mean,
                       const Tensor& running_var, double eps) {
  const char* op = "cuda batch_norm";
  check_operands(x, weight, bias, op);
  check_cuda_tensor(running_mean, op, "running_mean");
  check_cuda_tensor(running_var, op, "running_var");
  DeviceGuard guard(x);
  const DType dt = x.dtype();
  const Dims4 s = nchw_of(x);
  const std::int64_t C = s[1];
  Tensor y = empty(x.sizes(), dt, x.device());
  if (y.numel() == 0) return y;  // cuDNN rejects empty dims
  const Tensor xc = x.contiguous(), rm = running_mean.contiguous(), rv = running_var.contiguous();
  const Tensor w = param_or(weight, C, 1.0, x), b = param_or(bias, C, 0.0, x);
  const TensorDesc xd(dt, s, op), pd(dt, {1, C, 1, 1}, op);
  const Blend blend(dt);
  RETORT_CUDA(cudnnBatchNormalizationForwardInference(
                  cudnn(), mode_of(x), blend.one(), blend.zero(), xd.get(), xc.raw_data(), xd.get(),
                  y.raw_data(), pd.get(), w.raw_data(), b.raw_data(), rm.raw_data(), rv.raw_data(), eps),
              op);
  return y;
}

ops::BatchNormGrads batch_norm_backward(const Tensor& g, const Tensor& x, const Tensor& weight,
                                        const Tensor& mean, const Tensor& var, double eps, bool training) {
  const char* op = "cuda batch_norm_backward";
  check_operands(x, weight, Tensor(), op);
  check_cuda_tensor(g, op, "gradient");
  check_cuda_tensor(mean, op, "mean");
  check_cuda_tensor(var, op, "var");
  DeviceGuard guard(x);
  if (!training) return bn_eval_backward(g, x, weight, mean, var, eps);
  const DType dt = x.dtype();
  const Dims4 s = nchw_of(x);
  const std::int64_t C = s[1];
  ops::BatchNormGrads r{empty(x.sizes(), dt, x.device()), empty({C}, dt, x.device()),
                        empty({C}, dt, x.device())};
  if (x.numel() == 0) {  // no values: empty sums (cuDNN rejects empty dims)
    zero_(r.gweight, op);
    zero_(r.gbias, op);
    return r;
  }
  const Tensor gc = g.contiguous(), xc = x.contiguous(), mc = mean.contiguous();
  const Tensor w = param_or(weight, C, 1.0, x);
  const Tensor invstd = bn_invstd_from_var(var, eps);
  const TensorDesc xd(dt, s, op), pd(dt, {1, C, 1, 1}, op);
  const Blend blend(dt);
  RETORT_CUDA(cudnnBatchNormalizationBackward(
                  cudnn(), mode_of(x), blend.one(), blend.zero(), blend.one(), blend.zero(), xd.get(),
                  xc.raw_data(), xd.get(), gc.raw_data(), xd.get(), r.gx.raw_data(), pd.get(), w.raw_data(),
                  r.gweight.raw_data(), r.gbias.raw_data(), eps, mc.raw_data(), invstd.raw_data()),
              op);
  return r;
}

}  // namespace retort::cuda

#pragma GCC diagnostic pop
