// Pooling dispatch: checks arguments, then cuDNN (cuda tensors), oneDNN (float32, enabled,
// non-empty) or the reference kernels. The max-pool backward follows whichever path produced the
// state (workspace, indices, or the cuda path's input and output), not the current setting, so
// toggling the fast path between forward and backward is safe.
#include "tensor/pool.h"

#include "retort_config.h"
#include "tensor/cpu/pool.h"
#if RETORT_WITH_ONEDNN
#include "tensor/onednn/common.h"
#include "tensor/onednn/pool.h"
#endif
#if RETORT_WITH_CUDA
#include "tensor/cuda/ops.h"
#endif

namespace retort::ops {

namespace {

#if RETORT_WITH_ONEDNN
bool use_fast_path(const Tensor& t) {
  return onednn::enabled() && t.dtype() == kFloat32 && t.numel() > 0;
}
#endif

std::string pair_str(const std::array<std::int64_t, 2>& a) {
  return std::to_string(a[0]) + "x" + std::to_string(a[1]);
}

// The cpu always; cuda too when this build has it (cuDNN).
bool supported(const Device& d) { return d.is_cpu() || (RETORT_WITH_CUDA && d.is_cuda()); }
constexpr const char* kDevices = RETORT_WITH_CUDA ? "cpu or cuda" : "cpu";

void check_image(const char* op, const Tensor& x) {
  RETORT_CHECK(x.defined() && x.dim() == 4, op, ": expected input [N,C,H,W], got ",
               x.defined() ? shape_str(x.sizes()) : "undefined");
  RETORT_CHECK(is_floating(x.dtype()) && supported(x.device()), op, ": input ", shape_str(x.sizes()),
               " is ", dtype_name(x.dtype()), " on ", x.device().str(), ", expected a floating ", kDevices,
               " tensor");
}

void check_gradient(const char* op, const Tensor& gy, const Shape& y, const Shape& x) {
  RETORT_CHECK(gy.defined() && gy.sizes() == y, op, ": gradient ",
               gy.defined() ? shape_str(gy.sizes()) : "undefined", " does not match output ",
               shape_str(y), " of input ", shape_str(x));
  RETORT_CHECK(is_floating(gy.dtype()) && supported(gy.device()), op, ": gradient is ",
               dtype_name(gy.dtype()), " on ", gy.device().str(), ", expected a floating ", kDevices,
               " tensor");
}

Shape pooled_sizes(const Shape& x, const Pool2dParams& p) {
  return {x[0], x[1], (x[2] + 2 * p.padding[0] - p.kernel[0]) / p.stride[0] + 1,
          (x[3] + 2 * p.padding[1] - p.kernel[1]) / p.stride[1] + 1};
}

}  // namespace

Shape pool2d_output_shape(const char* op, const Tensor& x, const Pool2dParams& p) {
  check_image(op, x);
  for (int d = 0; d < 2; ++d) {
    RETORT_CHECK(p.kernel[d] >= 1 && p.stride[d] >= 1 && p.padding[d] >= 0, op, ": input ",
                 shape_str(x.sizes()), ": kernel ", pair_str(p.kernel), " and stride ",
                 pair_str(p.stride), " must be >= 1 and padding ", pair_str(p.padding), " >= 0");
    RETORT_CHECK(2 * p.padding[d] <= p.kernel[d], op, ": input ", shape_str(x.sizes()),
                 ": padding ", pair_str(p.padding), " must be at most half of kernel ",
                 pair_str(p.kernel));
    RETORT_CHECK(p.kernel[d] <= x.size(2 + d) + 2 * p.padding[d], op, ": input ",
                 shape_str(x.sizes()), ": kernel ", pair_str(p.kernel),
                 " is larger than the padded input ", x.size(2) + 2 * p.padding[0], "x",
                 x.size(3) + 2 * p.padding[1]);
  }
  return pooled_sizes(x.sizes(), p);
}

MaxPool2dResult max_pool2d_forward(const Tensor& x, const Pool2dParams& p, bool with_state) {
  pool2d_output_shape("max_pool2d", x, p);
  MaxPool2dResult r;
  std::shared_ptr<MaxPool2dState> state;
  if (with_state) state = std::make_shared<MaxPool2dState>(MaxPool2dState{x.sizes(), p, {}, {}, {}, {}});
#if RETORT_WITH_CUDA
  if (x.device().is_cuda()) {
    r.output = cuda::max_pool2d_forward(x, p);
    if (state) {
      state->input = x;
      state->output = r.output;
    }
    r.state = state;
    return r;
  }
#endif
#if RETORT_WITH_ONEDNN
  if (use_fast_path(x)) {
    r.output = onednn::max_pool2d_forward(x, p, state ? &state->workspace : nullptr);
    r.state = state;
    return r;
  }
#endif
  auto ref = cpu::max_pool2d_forward(x, p);
  r.output = ref.output;
  if (state) state->indices = ref.indices;
  r.state = state;
  return r;
}

Tensor max_pool2d_backward(const Tensor& gy, const MaxPool2dState& state) {
  check_gradient("max_pool2d_backward", gy, pooled_sizes(state.input_sizes, state.params),
                 state.input_sizes);
  if (state.output.defined()) {
    RETORT_CHECK(gy.device() == state.output.device() && gy.dtype() == state.output.dtype(),
                 "max_pool2d_backward: gradient ", shape_str(gy.sizes()), " is ", dtype_name(gy.dtype()),
                 " on ", gy.device().str(), ", expected ", dtype_name(state.output.dtype()), " on ",
                 state.output.device().str(), " like the output");
#if RETORT_WITH_CUDA
    return cuda::max_pool2d_backward(gy, state.input, state.output, state.params);
#endif
  }
  RETORT_CHECK(gy.device().is_cpu(), "max_pool2d_backward: gradient ", shape_str(gy.sizes()), " is on ",
               gy.device().str(), " but the forward ran on the cpu");
#if RETORT_WITH_ONEDNN
  if (state.workspace) {
    RETORT_CHECK(gy.dtype() == kFloat32, "max_pool2d_backward: gradient is ",
                 dtype_name(gy.dtype()), ", expected float32 like the input");
    return onednn::max_pool2d_backward(gy, *state.workspace, state.params);
  }
#endif
  RETORT_CHECK(state.indices.defined(),
               "max_pool2d_backward: the forward kept no state for the backward");
  return cpu::max_pool2d_backward(gy, state.indices, state.input_sizes);
}

Tensor avg_pool2d_forward(const Tensor& x, const Pool2dParams& p, bool count_include_pad) {
  pool2d_output_shape("avg_pool2d", x, p);
#if RETORT_WITH_CUDA
  if (x.device().is_cuda()) return cuda::avg_pool2d_forward(x, p, count_include_pad);
#endif
#if RETORT_WITH_ONEDNN
  if (use_fast_path(x)) return onednn::avg_pool2d_forward(x, p, count_include_pad);
#endif
  return cpu::avg_pool2d_forward(x, p, count_include_pad);
}

Tensor avg_pool2d_backward(const Tensor& gy, const Shape& x_sizes, const Pool2dParams& p,
                           bool count_include_pad) {
  const Tensor x_meta = as_strided(empty({1}, gy.dtype()), x_sizes, Shape(x_sizes.size(), 0), 0);
  const Shape y = pool2d_output_shape("avg_pool2d_backward", x_meta, p);
  check_gradient("avg_pool2d_backward", gy, y, x_sizes);
#if RETORT_WITH_CUDA
  if (gy.device().is_cuda()) return cuda::avg_pool2d_backward(gy, x_meta, p, count_include_pad);
#endif
#if RETORT_WITH_ONEDNN
  if (use_fast_path(gy)) return onednn::avg_pool2d_backward(gy, x_sizes, p, count_include_pad);
#endif
  return cpu::avg_pool2d_backward(gy, x_sizes, p, count_include_pad);
}

namespace {
// Kernel = stride = H/OH × W/OW when the output divides the input evenly (then adaptive pooling
// is plain avg pooling and can take its fast path).
bool divides(const Shape& x, std::array<std::int64_t, 2> out) {
  return x[2] % out[0] == 0 && x[3] % out[1] == 0;
}
Pool2dParams even_params(const Shape& x, std::array<std::int64_t, 2> out) {
  Pool2dParams p;
  p.kernel = p.stride = {x[2] / out[0], x[3] / out[1]};
  return p;
}
}  // namespace

Tensor adaptive_avg_pool2d_forward(const Tensor& x, std::array<std::int64_t, 2> out) {
  check_image("adaptive_avg_pool2d", x);
  RETORT_CHECK(out[0] >= 1 && out[1] >= 1, "adaptive_avg_pool2d: input ", shape_str(x.sizes()),
               ": output size ", pair_str(out), " must be >= 1");
  RETORT_CHECK(x.size(2) >= 1 && x.size(3) >= 1, "adaptive_avg_pool2d: input ",
               shape_str(x.sizes()), " has an empty image");
  if (divides(x.sizes(), out)) return avg_pool2d_forward(x, even_params(x.sizes(), out), true);
#if RETORT_WITH_CUDA
  if (x.device().is_cuda()) return cuda::adaptive_avg_pool2d_forward(x, out);
#endif
  return cpu::adaptive_avg_pool2d_forward(x, out);
}

Tensor adaptive_avg_pool2d_backward(const Tensor& gy, const Shape& x_sizes) {
  RETORT_CHECK(gy.defined() && gy.dim() == 4 && x_sizes.size() == 4 && gy.size(0) == x_sizes[0] &&
                   gy.size(1) == x_sizes[1],
               "adaptive_avg_pool2d_backward: gradient ",
               gy.defined() ? shape_str(gy.sizes()) : "undefined", " does not match input ",
               shape_str(x_sizes));
  const std::array<std::int64_t, 2> out{gy.size(2), gy.size(3)};
  if (divides(x_sizes, out))
    return avg_pool2d_backward(gy, x_sizes, even_params(x_sizes, out), true);
  check_gradient("adaptive_avg_pool2d_backward", gy, gy.sizes(), x_sizes);
#if RETORT_WITH_CUDA
  if (gy.device().is_cuda()) return cuda::adaptive_avg_pool2d_backward(gy, x_sizes);
#endif
  return cpu::adaptive_avg_pool2d_backward(gy, x_sizes);
}

}  // namespace retort::ops
