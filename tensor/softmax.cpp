// Dispatch point for softmax / log_softmax and their backward: cuDNN for cuda tensors (packed
// output), the oneDNN primitive for dense float32 tensors (any layout, output in the input's
// layout), else the reference loops.
#include "tensor/softmax.h"

#include "retort_config.h"
#include "tensor/cpu/elementwise.h"
#include "tensor/cpu/softmax.h"
#if RETORT_WITH_ONEDNN
#include "tensor/onednn/common.h"
#include "tensor/onednn/softmax.h"
#endif
#if RETORT_WITH_CUDA
#include "tensor/cuda/ops.h"
#endif

namespace retort::ops {

namespace {

int check(const Tensor& x, std::int64_t dim, const char* op) {
  RETORT_CHECK(x.defined(), op, ": undefined input");
  // The cpu always; cuda too when this build has it (cuDNN).
  RETORT_CHECK(x.device().is_cpu() || (RETORT_WITH_CUDA && x.device().is_cuda()), op, ": input ",
               shape_str(x.sizes()), " is on ", x.device().str(), ", expected the cpu");
  RETORT_CHECK(is_floating(x.dtype()), op, ": input ", shape_str(x.sizes()),
               " must be floating, got ", dtype_name(x.dtype()));
  RETORT_CHECK(x.dim() >= 1, op, ": input must be at least 1-D, got a 0-d tensor");
  return wrap_dim(dim, x.dim(), op);
}

#if RETORT_WITH_ONEDNN
bool fast(const Tensor& x) {
  return onednn::enabled() && x.dtype() == kFloat32 && x.numel() > 0 && cpu::is_dense(x);
}

// Whether a and b lay out their elements identically (strides of size-1 dims do not matter).
bool same_layout(const Tensor& a, const Tensor& b) {
  for (std::int64_t i = 0; i < a.dim(); ++i)
    if (a.size(i) != 1 && a.stride(i) != b.stride(i)) return false;
  return true;
}
#endif

Tensor forward(const Tensor& x, std::int64_t dim, bool log) {
  int d = check(x, dim, log ? "log_softmax" : "softmax");
#if RETORT_WITH_CUDA
  if (x.device().is_cuda()) return cuda::softmax(x, d, log);
#endif
#if RETORT_WITH_ONEDNN
  if (fast(x)) {
    Tensor y = cpu::empty_same_layout(x, kFloat32);
    onednn::softmax_forward(x, y, d, log);
    return y;
  }
#endif
  return cpu::softmax(x, d, log);
}

Tensor backward(const Tensor& g, const Tensor& y, std::int64_t dim, bool log) {
  const char* op = log ? "log_softmax_backward" : "softmax_backward";
  int d = check(y, dim, op);
  RETORT_CHECK(g.defined() && g.sizes() == y.sizes() && g.dtype() == y.dtype(), op, ": grad ",
               g.defined() ? shape_str(g.sizes()) : "undefined", " and output ",
               shape_str(y.sizes()), " must match in shape and dtype");
  RETORT_CHECK(g.device() == y.device(), op, ": grad ", shape_str(g.sizes()), " on ", g.device().str(),
               " and output ", shape_str(y.sizes()), " on ", y.device().str(), " must be on one device");
#if RETORT_WITH_CUDA
  if (y.device().is_cuda()) return cuda::softmax_backward(g, y, d, log);
#endif
#if RETORT_WITH_ONEDNN
  if (fast(y)) {
    // oneDNN wants g in y's layout; the upstream gradient usually already is.
    Tensor gl = g;
    if (!same_layout(g, y)) {
      gl = cpu::empty_same_layout(y, kFloat32);
      gl.copy_(g);
    }
    Tensor gx = cpu::empty_same_layout(y, kFloat32);
    onednn::softmax_backward(gl, y, gx, d, log);
    return gx;
  }
#endif
  return cpu::softmax_backward(g, y, d, log);
}

}  // namespace

Tensor softmax(const Tensor& x, std::int64_t dim) { return forward(x, dim, false); }
Tensor log_softmax(const Tensor& x, std::int64_t dim) { return forward(x, dim, true); }
Tensor softmax_backward(const Tensor& g, const Tensor& y, std::int64_t dim) { return backward(g, y, dim, false); }
Tensor log_softmax_backward(const Tensor& g, const Tensor& y, std::int64_t dim) {
  return backward(g, y, dim, true);
}

}  // namespace retort::ops
