// Dispatch point for the matrix products: argument checks, then cuBLAS for cuda tensors, the
// oneDNN matmul (float32, enabled, non-empty) or the reference loops in cpu/linalg.cpp.
#include "tensor/linalg.h"

#include <algorithm>

#include "retort_config.h"
#include "tensor/cpu/linalg.h"
#include "tensor/views.h"
#if RETORT_WITH_ONEDNN
#include "tensor/onednn/common.h"
#include "tensor/onednn/matmul.h"
#endif
#if RETORT_WITH_CUDA
#include "tensor/cuda/ops.h"
#endif

namespace retort::ops {

namespace {

void check_operands(const Tensor& a, const Tensor& b, const char* op, const char* na, const char* nb) {
  RETORT_CHECK(a.defined() && b.defined(), op, ": undefined operand");
  // The cpu always; cuda too when this build has it (cuBLAS).
  const bool supported = a.device().is_cpu() || (RETORT_WITH_CUDA && a.device().is_cuda());
  RETORT_CHECK(a.device() == b.device() && supported, op, ": ", na, " ", shape_str(a.sizes()), " on ",
               a.device().str(), " and ", nb, " ", shape_str(b.sizes()), " on ", b.device().str(),
               RETORT_WITH_CUDA ? " must be on one device" : " must be on the cpu");
  RETORT_CHECK(a.dtype() == b.dtype() && is_floating(a.dtype()), op, ": ", na, " ",
               shape_str(a.sizes()), " ", dtype_name(a.dtype()), " and ", nb, " ",
               shape_str(b.sizes()), " ", dtype_name(b.dtype()), " need one floating dtype");
}

#if RETORT_WITH_ONEDNN
// oneDNN takes float32 and no empty dims (an empty K would leave dst unwritten).
bool use_fast(const Tensor& t, std::int64_t out_numel, std::int64_t k) {
  return onednn::enabled() && t.dtype() == kFloat32 && out_numel > 0 && k > 0;
}
#endif

#if RETORT_WITH_ONEDNN || RETORT_WITH_CUDA
// t with leading size-1 dims added up to rank nd (a view; their strides are irrelevant).
Tensor pad_rank(const Tensor& t, std::size_t nd) {
  Shape sizes(nd - t.sizes().size(), 1), strides(nd - t.sizes().size(), 0);
  sizes.insert(sizes.end(), t.sizes().begin(), t.sizes().end());
  strides.insert(strides.end(), t.strides().begin(), t.strides().end());
  return as_strided(t, sizes, strides, t.offset());
}
#endif

#if RETORT_WITH_CUDA
// cuBLAS takes one batch dim: both operands are broadcast to the batch shape (stride-0 views)
// and the batch dims merged, which is a view whenever the strides allow (a broadcast operand of a
// single batch dim keeps batch stride 0, read once per product) and a packed copy otherwise.
Tensor cuda_product(const Tensor& a, const Tensor& b, const Shape& out) {
  const std::size_t nd = out.size();
  if (nd == 2) return cuda::matmul2d(a, b);
  const Shape batch(out.begin(), out.end() - 2);
  const std::int64_t B = shape_numel(batch), M = out[nd - 2], N = out[nd - 1], K = a.size(-1);
  auto flat = [&](const Tensor& t, std::int64_t rows, std::int64_t cols) {
    Shape s = batch;
    s.push_back(rows);
    s.push_back(cols);
    return reshape(expand(pad_rank(t, nd), s), {B, rows, cols});
  };
  return view(cuda::bmm(flat(a, M, K), flat(b, K, N)), out);
}
#endif

// The product once shapes are known good; out is the result shape.
Tensor product(const Tensor& a, const Tensor& b, const Shape& out) {
#if RETORT_WITH_CUDA
  if (a.device().is_cuda()) return cuda_product(a, b, out);
#endif
#if RETORT_WITH_ONEDNN
  if (use_fast(a, shape_numel(out), a.size(-1))) {
    Tensor y = empty(out, a.dtype());
    onednn::matmul(pad_rank(a, out.size()), pad_rank(b, out.size()), Tensor(), y);
    return y;
  }
#endif
  return cpu::matmul(a, b);
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  check_operands(a, b, "matmul", "a", "b");
  RETORT_CHECK(a.dim() >= 2 && b.dim() >= 2, "matmul: a ", shape_str(a.sizes()), " and b ",
               shape_str(b.sizes()), ": both operands must be at least 2-D");
  RETORT_CHECK(a.size(-1) == b.size(-2), "matmul: a ", shape_str(a.sizes()), " and b ",
               shape_str(b.sizes()), ": inner dimensions differ (", a.size(-1), " vs ", b.size(-2), ")");
  const std::int64_t M = a.size(-2), K = a.size(-1), N = b.size(-1);
  // A batch of rows times one matrix is a single bigger GEMM: fold the batch into M.
  if (b.dim() == 2 && a.dim() > 2) {
    Shape out(a.sizes().begin(), a.sizes().end() - 1);
    const std::int64_t rows = shape_numel(out);
    out.push_back(N);
    return view(product(reshape(a, {rows, K}), b, {rows, N}), out);
  }
  Shape batch_a(a.sizes().begin(), a.sizes().end() - 2), batch_b(b.sizes().begin(), b.sizes().end() - 2);
  for (std::size_t i = 1; i <= std::min(batch_a.size(), batch_b.size()); ++i) {
    std::int64_t da = batch_a[batch_a.size() - i], db = batch_b[batch_b.size() - i];
    RETORT_CHECK(da == db || da == 1 || db == 1, "matmul: a ", shape_str(a.sizes()), " and b ",
                 shape_str(b.sizes()), ": batch dims do not broadcast");
  }
  Shape batch = broadcast_shapes(batch_a, batch_b, "matmul");
  batch.push_back(M);
  batch.push_back(N);
  return product(a, b, batch);
}

Tensor bmm(const Tensor& a, const Tensor& b) {
  check_operands(a, b, "bmm", "a", "b");
  RETORT_CHECK(a.dim() == 3 && b.dim() == 3 && a.size(0) == b.size(0) && a.size(2) == b.size(1),
               "bmm: a ", shape_str(a.sizes()), " and b ", shape_str(b.sizes()),
               ": expected [B,M,K] and [B,K,N]");
  return product(a, b, {a.size(0), a.size(1), b.size(2)});
}

Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b) {
  check_operands(x, w, "linear", "input", "weight");
  RETORT_CHECK(x.dim() >= 1 && w.dim() == 2 && x.size(-1) == w.size(1), "linear: input ",
               shape_str(x.sizes()), " and weight ", shape_str(w.sizes()),
               ": expected input [..., IN] and weight [OUT, IN]");
  const std::int64_t IN = w.size(1), OUT = w.size(0);
  if (b.defined())
    RETORT_CHECK(b.dtype() == x.dtype() && b.dim() == 1 && b.size(0) == OUT, "linear: weight ",
                 shape_str(w.sizes()), " and bias ", shape_str(b.sizes()), " ", dtype_name(b.dtype()),
                 ": expected a bias [", OUT, "] of the weight's dtype");
  if (b.defined())
    RETORT_CHECK(b.device() == x.device(), "linear: input ", shape_str(x.sizes()), " on ", x.device().str(),
                 " and bias ", shape_str(b.sizes()), " on ", b.device().str(), " must be on one device");
  Shape out(x.sizes().begin(), x.sizes().end() - 1);
  out.push_back(OUT);
  const std::int64_t M = shape_numel(Shape(x.sizes().begin(), x.sizes().end() - 1));
  Tensor x2 = reshape(x, {M, IN});
#if RETORT_WITH_CUDA
  if (x.device().is_cuda()) {
    Tensor y = cuda::matmul2d(x2, transpose(w, 0, 1));
    if (b.defined() && y.numel() > 0) cuda::binary_(cuda::Binary::Add, y, b);
    return view(y, out);
  }
#endif
#if RETORT_WITH_ONEDNN
  if (use_fast(x, M * OUT, IN)) {
    Tensor y = empty({M, OUT}, x.dtype());
    onednn::matmul(x2, transpose(w, 0, 1), b, y);
    return view(y, out);
  }
#endif
  return view(cpu::linear(x2, w, b), out);
}

LinearGrads linear_backward(const Tensor& gy, const Tensor& x, const Tensor& w, bool need_gb) {
  RETORT_CHECK(gy.defined() && gy.dim() >= 1, "linear_backward: undefined or 0-d gradient");
  const std::int64_t OUT = gy.size(-1);
  const std::int64_t rows = shape_numel(Shape(gy.sizes().begin(), gy.sizes().end() - 1));
  Tensor g2 = reshape(gy, {rows, OUT});
  LinearGrads r;
  if (w.defined()) {
    check_operands(gy, w, "linear_backward", "grad", "weight");
    Shape gx_shape(gy.sizes().begin(), gy.sizes().end() - 1);
    gx_shape.push_back(w.size(1));
    r.gx = view(matmul(g2, w), gx_shape);
  }
  if (x.defined()) {
    check_operands(gy, x, "linear_backward", "grad", "input");
    RETORT_CHECK(x.numel() == rows * x.size(-1), "linear_backward: grad ", shape_str(gy.sizes()),
                 " and input ", shape_str(x.sizes()), ": leading dims differ");
    r.gw = matmul(transpose(g2, 0, 1), reshape(x, {rows, x.size(-1)}));
  }
  if (need_gb) {
#if RETORT_WITH_CUDA
    if (g2.device().is_cuda()) {
      r.gb = cuda::reduce(cuda::Reduce::Sum, g2, {0}, false, 0, "linear_backward");
      return r;
    }
#endif
    r.gb = cpu::sum_rows(g2);
  }
  return r;
}

}  // namespace retort::ops
