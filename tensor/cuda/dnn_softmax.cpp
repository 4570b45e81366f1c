// Softmax and log-softmax on cuDNN. A packed x of any rank, softmax over dim d, is the NCHW tensor
// [outer, C, inner, 1] (outer = Π sizes before d, C = sizes[d], inner = Π sizes after d) with
// CUDNN_SOFTMAX_MODE_CHANNEL, which normalises over C for every (n, h, w). CUDNN_SOFTMAX_ACCURATE
// subtracts the max first; CUDNN_SOFTMAX_LOG computes s − max − log Σ exp(s − max) directly (never
// log of a softmax that underflowed), and its backward takes the log-softmax output as y:
//   softmax:      gx = y · (g − Σ_C g·y)          log_softmax:  gx = g − exp(y) · Σ_C g
// Large tensors go in chunks of whole outer rows below cuDNN's 32-bit element limit.
#include <algorithm>
#include <climits>

#include "tensor/cuda/dnn_common.h"
#include "tensor/cuda/ops.h"
#include "tensor/error.h"

// Legacy cuDNN API on purpose; see dnn_common.h.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace retort::cuda {

namespace {

struct Split {
  std::int64_t outer = 1, C = 1, inner = 1;
  std::int64_t rows_per_chunk = 1;  // outer rows per cuDNN call
};

Split split(const Shape& s, std::int64_t dim, const char* op) {
  const std::int64_t nd = static_cast<std::int64_t>(s.size());
  RETORT_CHECK(dim >= 0 && dim < nd, op, ": internal: dim ", dim, " out of range for ", shape_str(s));
  Split r;
  for (std::int64_t i = 0; i < dim; ++i) r.outer *= s[i];
  r.C = s[dim];
  for (std::int64_t i = dim + 1; i < nd; ++i) r.inner *= s[i];
  const std::int64_t row = r.C * r.inner;
  RETORT_CHECK(row <= INT_MAX, op, ": a softmax slice of ", shape_str(s), " along dim ", dim,
               " has more elements than cuDNN's 32-bit indexing allows");
  r.rows_per_chunk = row > 0 ? std::max<std::int64_t>(1, INT_MAX / row) : 1;
  return r;
}

cudnnSoftmaxAlgorithm_t algo(bool log) { return log ? CUDNN_SOFTMAX_LOG : CUDNN_SOFTMAX_ACCURATE; }

void* row_ptr(const Tensor& t, std::int64_t row, const Split& sp) {
  return static_cast<char*>(t.raw_data()) +
         row * sp.C * sp.inner * static_cast<std::int64_t>(dtype_size(t.dtype()));
}

}  // namespace

Tensor softmax(const Tensor& x, std::int64_t dim, bool log) {
  const char* op = log ? "cuda log_softmax" : "cuda softmax";
  check_cuda_tensor(x, op, "input");
  DeviceGuard guard(x);
  const Tensor xc = x.contiguous();
  Tensor y = empty(x.sizes(), x.dtype(), x.device());
  if (y.numel() == 0) return y;
  const Split sp = split(x.sizes(), dim, op);
  const Blend blend(x.dtype());
  for (std::int64_t r = 0; r < sp.outer; r += sp.rows_per_chunk) {
    const TensorDesc d(x.dtype(), {std::min(sp.rows_per_chunk, sp.outer - r), sp.C, sp.inner, 1}, op);
    RETORT_CUDA(cudnnSoftmaxForward(cudnn(), algo(log), CUDNN_SOFTMAX_MODE_CHANNEL, blend.one(), d.get(),
                                    row_ptr(xc, r, sp), blend.zero(), d.get(), row_ptr(y, r, sp)),
                op);
  }
  return y;
}

Tensor softmax_backward(const Tensor& g, const Tensor& y, std::int64_t dim, bool log) {
  const char* op = log ? "cuda log_softmax_backward" : "cuda softmax_backward";
  check_cuda_tensor(g, op, "grad");
  check_cuda_tensor(y, op, "output");
  RETORT_CHECK(g.sizes() == y.sizes() && g.dtype() == y.dtype() && g.device() == y.device(), op, ": grad ",
               shape_str(g.sizes()), " on ", g.device().str(), " and output ", shape_str(y.sizes()), " on ",
               y.device().str(), " must match in shape, dtype and device");
  DeviceGuard guard(y);
  const Tensor gc = g.contiguous(), yc = y.contiguous();
  Tensor gx = empty(y.sizes(), y.dtype(), y.device());
  if (gx.numel() == 0) return gx;
  const Split sp = split(y.sizes(), dim, op);
  const Blend blend(y.dtype());
  for (std::int64_t r = 0; r < sp.outer; r += sp.rows_per_chunk) {
    const TensorDesc d(y.dtype(), {std::min(sp.rows_per_chunk, sp.outer - r), sp.C, sp.inner, 1}, op);
    RETORT_CUDA(cudnnSoftmaxBackward(cudnn(), algo(log), CUDNN_SOFTMAX_MODE_CHANNEL, blend.one(), d.get(),
                                     row_ptr(yc, r, sp), d.get(), row_ptr(gc, r, sp), blend.zero(), d.get(),
                                     row_ptr(gx, r, sp)),
                op);
  }
  return gx;
}

}  // namespace retort::cuda

#pragma GCC diagnostic pop
