// Reference matrix products. Each output element is one dot product accumulated in double, so
// float32 results are at least as accurate as the fast path's and the comparison tolerance in
// the tests only has to absorb oneDNN's rounding.
#include "tensor/cpu/linalg.h"

#include "tensor/cpu/iter.h"

namespace retort::cpu {

namespace {

template <class T>
void matmul_2d(const T* a, std::int64_t sam, std::int64_t sak, const T* b, std::int64_t sbk,
               std::int64_t sbn, T* y, std::int64_t M, std::int64_t K, std::int64_t N) {
#pragma omp parallel for if (M * N * K > (1 << 18))
  for (std::int64_t m = 0; m < M; ++m)
    for (std::int64_t n = 0; n < N; ++n) {
      double acc = 0;
      for (std::int64_t k = 0; k < K; ++k) acc += double(a[m * sam + k * sak]) * double(b[k * sbk + n * sbn]);
      y[m * N + n] = static_cast<T>(acc);
    }
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  const std::int64_t na = a.dim(), nb = b.dim();
  const std::int64_t M = a.size(na - 2), K = a.size(na - 1), N = b.size(nb - 1);
  Shape batch_a(a.sizes().begin(), a.sizes().end() - 2);
  Shape batch_b(b.sizes().begin(), b.sizes().end() - 2);
  Shape batch = broadcast_shapes(batch_a, batch_b, "matmul");
  Shape out = batch;
  out.push_back(M);
  out.push_back(N);
  Tensor y = empty(out, a.dtype(), a.device());
  // Per-matrix offsets: a batch index walks a and b with their broadcast batch strides and y in
  // steps of one M×N matrix.
  Shape sa = broadcast_strides(batch_a, Shape(a.strides().begin(), a.strides().end() - 2), batch);
  Shape sb = broadcast_strides(batch_b, Shape(b.strides().begin(), b.strides().end() - 2), batch);
  Shape sy = contiguous_strides(batch);
  for (auto& s : sy) s *= M * N;
  dispatch_floating(a.dtype(), "matmul", [&]<class T>() {
    const T* ap = a.data<T>();
    const T* bp = b.data<T>();
    T* yp = y.data<T>();
    for_each_offset<3>(batch, {&sa, &sb, &sy}, [&](const auto& o) {
      matmul_2d<T>(ap + o[0], a.stride(na - 2), a.stride(na - 1), bp + o[1], b.stride(nb - 2),
                   b.stride(nb - 1), yp + o[2], M, K, N);
    });
  });
  return y;
}

Tensor linear(const Tensor& x, const Tensor& w, const Tensor& bias) {
  // x·wᵀ: w read through transposed strides, no copy.
  Tensor wt = as_strided(w, {w.size(1), w.size(0)}, {w.stride(1), w.stride(0)}, w.offset());
  Tensor y = matmul(x, wt);
  if (!bias.defined()) return y;
  const std::int64_t M = y.size(0), OUT = y.size(1);
  dispatch_floating(y.dtype(), "linear", [&]<class T>() {
    T* yp = y.data<T>();
    const T* bp = bias.data<T>();
    const std::int64_t sb = bias.stride(0);
    for (std::int64_t m = 0; m < M; ++m)
      for (std::int64_t o = 0; o < OUT; ++o) yp[m * OUT + o] += bp[o * sb];
  });
  return y;
}

Tensor sum_rows(const Tensor& x) {
  const std::int64_t M = x.size(0), N = x.size(1);
  Tensor s = zeros({N}, x.dtype(), x.device());
  dispatch_floating(x.dtype(), "sum_rows", [&]<class T>() {
    const T* xp = x.data<T>();
    T* sp = s.data<T>();
    const std::int64_t sm = x.stride(0), sn = x.stride(1);
    // Row-major sweep: for a packed x the inner loop is contiguous in both x and s.
    for (std::int64_t m = 0; m < M; ++m)
      for (std::int64_t n = 0; n < N; ++n) sp[n] += xp[m * sm + n * sn];
  });
  return s;
}

}  // namespace retort::cpu
