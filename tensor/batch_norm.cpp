// Dispatch point for batch normalisation: argument checks, then cuDNN for cuda tensors (packed
// outputs), the oneDNN primitives for dense float32 inputs — in the blocked layout of a deferred
// blocked input (a convolution's result, returned deferred), else in the input's own layout — or
// the reference loops in cpu/. The running-statistics update is done here for the cpu
// paths: oneDNN only reports the batch statistics, and PyTorch's rule (unbiased variance,
// momentum blend) is ours to apply. cuDNN applies that same rule itself.
#include "tensor/batch_norm.h"

#include "retort_config.h"
#include "tensor/cpu/batch_norm.h"
#include "tensor/cpu/elementwise.h"
#include "tensor/elementwise.h"
#if RETORT_WITH_ONEDNN
#include "tensor/onednn/batch_norm.h"
#include "tensor/onednn/common.h"
#endif
#if RETORT_WITH_CUDA
#include "tensor/cuda/ops.h"
#endif

namespace retort::ops {

namespace {

void check_param(const Tensor& x, const Tensor& p, const char* what, const char* op) {
  if (!p.defined()) return;
  RETORT_CHECK(p.dim() == 1 && p.size(0) == x.size(1) && p.dtype() == x.dtype(), op, ": input ",
               shape_str(x.sizes()), " and ", what, " ", shape_str(p.sizes()), " ", dtype_name(p.dtype()),
               ": expected a [", x.size(1), "] ", dtype_name(x.dtype()), " tensor");
  RETORT_CHECK(p.device() == x.device(), op, ": input ", shape_str(x.sizes()), " on ", x.device().str(),
               " and ", what, " ", shape_str(p.sizes()), " on ", p.device().str(), " must be on one device");
}

void check(const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& rm, const Tensor& rv, const char* op) {
  // The cpu always; cuda too when this build has it (cuDNN).
  RETORT_CHECK(x.defined() && (x.device().is_cpu() || (RETORT_WITH_CUDA && x.device().is_cuda())), op,
               ": input must be a defined ", RETORT_WITH_CUDA ? "cpu or cuda" : "cpu", " tensor");
  RETORT_CHECK(x.dim() == 2 || x.dim() == 4, op, ": input ", shape_str(x.sizes()),
               ": expected [N,C] or [N,C,H,W]");
  RETORT_CHECK(is_floating(x.dtype()), op, ": input ", shape_str(x.sizes()), " must be floating, got ",
               dtype_name(x.dtype()));
  check_param(x, w, "weight", op);
  check_param(x, b, "bias", op);
  check_param(x, rm, "running_mean", op);
  check_param(x, rv, "running_var", op);
}

// check() plus the running statistics that eval mode normalises with.
void check_eval(const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& rm, const Tensor& rv,
                const char* op) {
  check(x, w, b, rm, rv, op);
  RETORT_CHECK(rm.defined() && rv.defined(), op, ": input ", shape_str(x.sizes()),
               ": eval mode needs running_mean and running_var");
}

#if RETORT_WITH_ONEDNN
bool fast(const Tensor& x) {
  return onednn::enabled() && x.dtype() == kFloat32 && x.numel() > 0 && cpu::is_dense(x);
}

// The parameter as a packed [C] tensor, or `fill` everywhere when it is undefined.
Tensor packed_or(const Tensor& p, std::int64_t C, double fill) {
  return p.defined() ? p.contiguous() : full({C}, fill, kFloat32);
}

// Whether a and b place their elements identically (strides of size-1 dims address nothing).
bool same_layout(const Tensor& a, const Tensor& b) {
  for (std::int64_t i = 0; i < a.dim(); ++i)
    if (a.size(i) != 1 && a.stride(i) != b.stride(i)) return false;
  return true;
}
#endif

void update_running(const Tensor& r, const Tensor& stat, double momentum, double factor) {
  if (!r.defined()) return;
  RETORT_DISPATCH_FLOATING(r.dtype(), "batch_norm", [&]<class T>() {
    T* rp = r.data<T>();
    const T* sp = stat.data<T>();
    const std::int64_t sr = r.stride(0), ss = stat.stride(0);
    for (std::int64_t c = 0; c < r.size(0); ++c)
      rp[c * sr] = static_cast<T>((1 - momentum) * double(rp[c * sr]) + momentum * factor * double(sp[c * ss]));
  });
}

}  // namespace

namespace {

// The training forward, with relu(y) when `relu`: fused into the oneDNN blocked path (r.mask set),
// else applied after the normalisation.
BatchNormReluTrain train(const Tensor& x, const Tensor& weight, const Tensor& bias,
                         const Tensor& running_mean, const Tensor& running_var, double momentum,
                         double eps, bool relu) {
  const char* op = relu ? "batch_norm_relu" : "batch_norm";
  check(x, weight, bias, running_mean, running_var, op);
  const std::int64_t C = x.size(1), m = C > 0 ? x.numel() / C : 0;
  RETORT_CHECK(m > 1, op, ": input ", shape_str(x.sizes()),
               ": expected more than 1 value per channel when training");
  BatchNormReluTrain r;
#if RETORT_WITH_CUDA
  if (x.device().is_cuda()) {
    static_cast<BatchNormTrain&>(r) =
        cuda::batch_norm_train(x, weight, bias, running_mean, running_var, momentum, eps);
    if (relu) r.y = ops::relu(r.y);
    return r;
  }
#endif
#if RETORT_WITH_ONEDNN
  if (fast(x)) {
    r.mean = empty({C}, kFloat32);
    r.var = empty({C}, kFloat32);
    const Tensor w = packed_or(weight, C, 1), b = packed_or(bias, C, 0);
    r.y = relu ? onednn::batch_norm_relu_forward_training_blocked(x, w, b, r.mean, r.var, eps, r.mask)
               : onednn::batch_norm_forward_training_blocked(x, w, b, r.mean, r.var, eps);
    if (!r.y.defined()) {
      r.y = cpu::empty_same_layout(x, kFloat32);
      onednn::batch_norm_forward_training(x, w, b, r.y, r.mean, r.var, eps);
    }
  }
#endif
  if (!r.y.defined()) {
    static_cast<BatchNormTrain&>(r) = cpu::batch_norm_stats(x);
    r.y = cpu::batch_norm_normalize(x, weight, bias, r.mean, r.var, eps);
  }
  update_running(running_mean, r.mean, momentum, 1.0);
  update_running(running_var, r.var, momentum, double(m) / double(m - 1));
  if (relu && !r.mask.defined()) r.y = ops::relu(r.y);
  return r;
}

}  // namespace

BatchNormTrain batch_norm_train(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                const Tensor& running_mean, const Tensor& running_var,
                                double momentum, double eps) {
  return train(x, weight, bias, running_mean, running_var, momentum, eps, false);
}

BatchNormReluTrain batch_norm_relu_train(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                         const Tensor& running_mean, const Tensor& running_var,
                                         double momentum, double eps) {
  return train(x, weight, bias, running_mean, running_var, momentum, eps, true);
}

Tensor batch_norm_eval(const Tensor& x, const Tensor& weight, const Tensor& bias,
                       const Tensor& running_mean, const Tensor& running_var, double eps) {
  check_eval(x, weight, bias, running_mean, running_var, "batch_norm");
#if RETORT_WITH_CUDA
  if (x.device().is_cuda()) return cuda::batch_norm_eval(x, weight, bias, running_mean, running_var, eps);
#endif
#if RETORT_WITH_ONEDNN
  if (fast(x)) {
    const std::int64_t C = x.size(1);
    const Tensor w = packed_or(weight, C, 1), b = packed_or(bias, C, 0);
    const Tensor rm = running_mean.contiguous(), rv = running_var.contiguous();
    if (Tensor y = onednn::batch_norm_forward_inference_blocked(x, w, b, rm, rv, eps); y.defined())
      return y;
    Tensor y = cpu::empty_same_layout(x, kFloat32);
    onednn::batch_norm_forward_inference(x, w, b, rm, rv, y, eps);
    return y;
  }
#endif
  return cpu::batch_norm_normalize(x, weight, bias, running_mean, running_var, eps);
}

BatchNormGrads batch_norm_backward(const Tensor& g, const Tensor& x, const Tensor& weight,
                                   const Tensor& mean, const Tensor& var, double eps, bool training) {
  check(x, weight, Tensor(), mean, var, "batch_norm_backward");
  RETORT_CHECK(g.defined() && g.sizes() == x.sizes() && g.dtype() == x.dtype(),
               "batch_norm_backward: grad ", g.defined() ? shape_str(g.sizes()) : "undefined",
               " and input ", shape_str(x.sizes()), " must match in shape and dtype");
  RETORT_CHECK(g.device() == x.device(), "batch_norm_backward: grad ", shape_str(g.sizes()), " on ",
               g.device().str(), " and input ", shape_str(x.sizes()), " on ", x.device().str(),
               " must be on one device");
#if RETORT_WITH_CUDA
  if (x.device().is_cuda()) return cuda::batch_norm_backward(g, x, weight, mean, var, eps, training);
#endif
#if RETORT_WITH_ONEDNN
  if (fast(x)) {
    const std::int64_t C = x.size(1);
    const Tensor w = packed_or(weight, C, 1), m = mean.contiguous(), v = var.contiguous();
    BatchNormGrads rb{Tensor(), empty({C}, kFloat32), empty({C}, kFloat32)};
    rb.gx = onednn::batch_norm_backward_blocked(g, x, w, m, v, rb.gweight, rb.gbias, eps, training);
    if (rb.gx.defined()) return rb;
    // oneDNN wants g in x's layout; the upstream gradient usually already is.
    Tensor gl = g;
    if (!same_layout(g, x)) {
      gl = cpu::empty_same_layout(x, kFloat32);
      gl.copy_(g);
    }
    rb.gx = cpu::empty_same_layout(x, kFloat32);
    onednn::batch_norm_backward(gl, x, w, m, v, rb.gx, rb.gweight, rb.gbias, eps, training);
    return rb;
  }
#endif
  return cpu::batch_norm_backward(g, x, weight, mean, var, eps, training);
}

Tensor batch_norm_relu_eval(const Tensor& x, const Tensor& weight, const Tensor& bias,
                            const Tensor& running_mean, const Tensor& running_var, double eps) {
  check_eval(x, weight, bias, running_mean, running_var, "batch_norm_relu");
#if RETORT_WITH_ONEDNN
  if (x.device().is_cpu() && fast(x)) {
    const std::int64_t C = x.size(1);
    const Tensor w = packed_or(weight, C, 1), b = packed_or(bias, C, 0);
    if (Tensor y = onednn::batch_norm_relu_forward_inference_blocked(
            x, w, b, running_mean.contiguous(), running_var.contiguous(), eps);
        y.defined())
      return y;
  }
#endif
  return ops::relu(batch_norm_eval(x, weight, bias, running_mean, running_var, eps));
}

BatchNormGrads batch_norm_relu_backward(const Tensor& g, const Tensor& x, const Tensor& y,
                                        const Tensor& mask, const Tensor& weight,
                                        const Tensor& mean, const Tensor& var, double eps) {
  RETORT_CHECK(g.defined() && y.defined() && g.sizes() == x.sizes() && y.sizes() == x.sizes(),
               "batch_norm_relu_backward: grad ", g.defined() ? shape_str(g.sizes()) : "undefined",
               ", output ", y.defined() ? shape_str(y.sizes()) : "undefined", " and input ",
               shape_str(x.sizes()), " must have one shape");
#if RETORT_WITH_ONEDNN
  if (mask.defined() && x.device().is_cpu() && fast(x) && g.dtype() == kFloat32 && g.device() == x.device()) {
    const std::int64_t C = x.size(1);
    const Tensor w = packed_or(weight, C, 1);
    BatchNormGrads rb{Tensor(), empty({C}, kFloat32), empty({C}, kFloat32)};
    rb.gx = onednn::batch_norm_relu_backward_blocked(g, x, mask, w, mean.contiguous(),
                                                     var.contiguous(), rb.gweight, rb.gbias, eps);
    if (rb.gx.defined()) return rb;
  }
#endif
  return batch_norm_backward(ops::relu_backward(g, y), x, weight, mean, var, eps, true);
}

}  // namespace retort::ops
