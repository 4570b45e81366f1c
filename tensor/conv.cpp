// conv2d dispatch: the one place that checks arguments and picks cuDNN (cuda tensors), oneDNN
// (float32, enabled) or the reference kernels. Empty tensors go to the reference kernels, whose
// loops simply do nothing, because oneDNN rejects zero-sized dims (the cuda path handles them
// itself).
#include "tensor/conv.h"

#include "tensor/elementwise.h"

#include "retort_config.h"
#include "tensor/cpu/conv.h"
#if RETORT_WITH_ONEDNN
#include "tensor/onednn/common.h"
#include "tensor/onednn/conv.h"
#endif
#if RETORT_WITH_CUDA
#include "tensor/cuda/ops.h"
#endif

namespace retort::ops {

namespace {

#if RETORT_WITH_ONEDNN
bool use_fast_path(std::initializer_list<const Tensor*> ts) {
  if (!onednn::enabled()) return false;
  for (const Tensor* t : ts)
    if (t->defined() && (t->dtype() != kFloat32 || t->numel() == 0)) return false;
  return true;
}
#endif

std::string pair_str(const std::array<std::int64_t, 2>& a) {
  return std::to_string(a[0]) + "x" + std::to_string(a[1]);
}

// The cpu always; cuda too when this build has it (cuDNN).
bool supported(const Device& d) { return d.is_cpu() || (RETORT_WITH_CUDA && d.is_cuda()); }

}  // namespace

Shape conv2d_output_shape(const Tensor& x, const Tensor& w, const Tensor& bias,
                          const Conv2dParams& p) {
  RETORT_CHECK(x.defined() && w.defined(), "conv2d: input and weight must be defined");
  const std::string shapes =
      "conv2d: input " + shape_str(x.sizes()) + " and weight " + shape_str(w.sizes()) + ": ";
  RETORT_CHECK(x.dim() == 4 && w.dim() == 4, shapes,
               "expected input [N,C,H,W] and weight [O,C/groups,KH,KW]");
  RETORT_CHECK(is_floating(x.dtype()) && x.dtype() == w.dtype(), shapes,
               "expected one floating dtype, got ", dtype_name(x.dtype()), " and ",
               dtype_name(w.dtype()));
  RETORT_CHECK(x.device() == w.device() && supported(x.device()), shapes,
               RETORT_WITH_CUDA ? "expected both on one device, got "
                                : "only cpu tensors are supported, got ",
               x.device().str(), " and ", w.device().str());
  for (int d = 0; d < 2; ++d) {
    RETORT_CHECK(p.stride[d] >= 1 && p.dilation[d] >= 1 && p.padding[d] >= 0, shapes, "stride ",
                 pair_str(p.stride), " and dilation ", pair_str(p.dilation),
                 " must be >= 1 and padding ", pair_str(p.padding), " >= 0");
  }
  const std::int64_t C = x.size(1), O = w.size(0);
  RETORT_CHECK(p.groups >= 1 && O % p.groups == 0, shapes, "groups ", p.groups,
               " must be >= 1 and divide the ", O, " output channels");
  RETORT_CHECK(w.size(1) * p.groups == C, shapes, "input has ", C, " channels but weight expects ",
               w.size(1), " x groups ", p.groups, " = ", w.size(1) * p.groups);
  Shape y{x.size(0), O, 0, 0};
  for (int d = 0; d < 2; ++d) {
    const std::int64_t span = p.dilation[d] * (w.size(2 + d) - 1) + 1;
    const std::int64_t padded = x.size(2 + d) + 2 * p.padding[d];
    RETORT_CHECK(span <= padded, shapes, "kernel ", w.size(2), "x", w.size(3), " (dilation ",
                 pair_str(p.dilation), ") is larger than the padded input ",
                 x.size(2) + 2 * p.padding[0], "x", x.size(3) + 2 * p.padding[1]);
    y[2 + d] = (padded - span) / p.stride[d] + 1;
  }
  if (bias.defined()) {
    RETORT_CHECK(bias.dim() == 1 && bias.size(0) == O, shapes, "bias ", shape_str(bias.sizes()),
                 " must be [", O, "]");
    RETORT_CHECK(bias.dtype() == x.dtype() && bias.device() == x.device(), shapes, "bias is ",
                 dtype_name(bias.dtype()), " on ", bias.device().str(), ", expected ",
                 dtype_name(x.dtype()), " on ", x.device().str());
  }
  return y;
}

Tensor conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dParams& p,
                      Conv2dSaved* saved) {
  conv2d_output_shape(x, w, bias, p);
  if (saved) saved->reset();
#if RETORT_WITH_CUDA
  if (x.device().is_cuda()) return cuda::conv2d_forward(x, w, bias, p);
#endif
#if RETORT_WITH_ONEDNN
  if (use_fast_path({&x, &w, &bias})) return onednn::conv2d_forward(x, w, bias, p, saved);
#endif
  return cpu::conv2d_forward(x, w, bias, p);
}

// The fusion saves one full pass over y (the activation is applied as y is written); elsewhere
// it is the composite, which is also what the fused kernel is tested against.
Tensor conv2d_relu_forward(const Tensor& x, const Tensor& w, const Tensor& bias,
                           const Conv2dParams& p, Conv2dSaved* saved) {
  conv2d_output_shape(x, w, bias, p);
  if (saved) saved->reset();
#if RETORT_WITH_ONEDNN
  if (x.device().is_cpu() && use_fast_path({&x, &w, &bias}))
    return onednn::conv2d_forward(x, w, bias, p, saved, true);
#endif
  return ops::relu(ops::conv2d_forward(x, w, bias, p, saved));
}

Conv2dGrads conv2d_backward(const Tensor& gy, const Tensor& x, const Tensor& w,
                            const Conv2dGradMask& mask, const Conv2dParams& p,
                            const Conv2dSaved& saved) {
  const Shape y = conv2d_output_shape(x, w, Tensor(), p);
  RETORT_CHECK(gy.defined() && gy.sizes() == y, "conv2d_backward: gradient ",
               gy.defined() ? shape_str(gy.sizes()) : "undefined", " does not match output ",
               shape_str(y), " of input ", shape_str(x.sizes()), " and weight ",
               shape_str(w.sizes()));
  RETORT_CHECK(gy.dtype() == x.dtype() && gy.device() == x.device(), "conv2d_backward: gradient ",
               shape_str(gy.sizes()), " is ", dtype_name(gy.dtype()), " on ", gy.device().str(),
               ", expected ", dtype_name(x.dtype()), " on ", x.device().str(), " like input ",
               shape_str(x.sizes()));
#if RETORT_WITH_CUDA
  if (gy.device().is_cuda()) {
    Conv2dGrads r;
    if (mask.input) r.input = cuda::conv2d_backward_data(gy, w, x.sizes(), p);
    if (mask.weight) r.weight = cuda::conv2d_backward_weight(gy, x, w.sizes(), p);
    if (mask.bias) r.bias = cuda::conv2d_backward_bias(gy);
    return r;
  }
#endif
#if RETORT_WITH_ONEDNN
  if (use_fast_path({&gy, &x, &w})) {
    // oneDNN computes the bias gradient only inside the weight-gradient primitive.
    Conv2dGrads r = onednn::conv2d_backward(
        gy, x, w, {mask.input, mask.weight, mask.bias && mask.weight}, p, saved.get());
    if (mask.bias && !mask.weight) r.bias = cpu::conv2d_backward_bias(gy);
    return r;
  }
#endif
  Conv2dGrads r;
  if (mask.input) r.input = cpu::conv2d_backward_data(gy, w, x.sizes(), p);
  if (mask.weight) r.weight = cpu::conv2d_backward_weight(gy, x, w.sizes(), p);
  if (mask.bias) r.bias = cpu::conv2d_backward_bias(gy);
  return r;
}

Tensor conv2d_backward_data(const Tensor& gy, const Tensor& w, const Shape& x_sizes,
                            const Conv2dParams& p) {
  // Only x's shape is read: a strided placeholder of that shape (on w's device, to pass the device
  // checks) stands in for it.
  Tensor x = as_strided(empty({1}, w.dtype(), w.device()), x_sizes, Shape(x_sizes.size(), 0), 0);
  return conv2d_backward(gy, x, w, {true, false, false}, p).input;
}

Tensor conv2d_backward_weight(const Tensor& gy, const Tensor& x, const Shape& w_sizes,
                              const Conv2dParams& p) {
  Tensor w = as_strided(empty({1}, x.dtype(), x.device()), w_sizes, Shape(w_sizes.size(), 0), 0);
  return conv2d_backward(gy, x, w, {false, true, false}, p).weight;
}

Tensor conv2d_backward_bias(const Tensor& gy) {
  RETORT_CHECK(gy.defined() && gy.dim() == 4,
               "conv2d_backward_bias: expected gradient [N,O,OH,OW], got ",
               gy.defined() ? shape_str(gy.sizes()) : "undefined");
  RETORT_CHECK(is_floating(gy.dtype()) && supported(gy.device()),
               "conv2d_backward_bias: expected a floating ", RETORT_WITH_CUDA ? "cpu or cuda" : "cpu",
               " gradient, got ", dtype_name(gy.dtype()), " on ", gy.device().str());
#if RETORT_WITH_CUDA
  if (gy.device().is_cuda()) return cuda::conv2d_backward_bias(gy);
#endif
  return cpu::conv2d_backward_bias(gy);
}

}  // namespace retort::ops
