// Matrix products on cuBLAS: one cublasGemmStridedBatchedEx per call.
//
// Retort's matrices are row-major, cuBLAS's column-major. A row-major [R, C] matrix with row
// stride ld is, read column-major, its transpose [C, R] with leading dimension ld. So the
// row-major product C = A·B is computed as the column-major Cᵀ = Bᵀ·Aᵀ: cuBLAS's first operand is
// B, its second A, m = N, n = M, and C comes out packed row-major [M, N] (ldc = N).
//
// An operand needs no copy when each matrix is either row-major (unit column stride: op N, ld =
// row stride) or column-major, i.e. a transposed view (unit row stride: op T, ld = column
// stride), with a leading dimension cuBLAS accepts; its batch stride may be anything ≥ 0,
// including 0 for a broadcast operand. Anything else is packed first.
//
// float32 runs with CUBLAS_COMPUTE_32F (exact float accumulation) unless set_allow_tf32(true), then
// CUBLAS_COMPUTE_32F_FAST_TF32; the handle's math mode is set to match on every call, so nothing
// else sharing the handle can switch TF32 on behind the caller's back. float64 uses
// CUBLAS_COMPUTE_64F.
#include <algorithm>
#include <climits>

#include "tensor/cuda/common.h"
#include "tensor/cuda/cuda_backend.h"
#include "tensor/cuda/ops.h"
#include "tensor/error.h"
#include "tensor/views.h"

namespace retort::cuda {

namespace {

// One operand as cuBLAS reads it: op(X) of the column-major view is the row-major matrix's
// transpose.
struct Operand {
  Tensor keep;  // the tensor whose memory is read (t itself, or a packed copy)
  cublasOperation_t op = CUBLAS_OP_N;
  std::int64_t ld = 1;
  std::int64_t batch_stride = 0;
};

// Whether t [B, R, C] can be read in place; fills o when it can.
bool describe_in_place(const Tensor& t, Operand& o) {
  const std::int64_t B = t.size(0), R = t.size(1), C = t.size(2);
  const std::int64_t bs = t.stride(0), rs = t.stride(1), cs = t.stride(2);
  if (B > 1 && bs < 0) return false;
  o.keep = t;
  o.batch_stride = B > 1 ? bs : 0;
  // Row-major: consecutive columns adjacent; the leading dimension is the row stride (any value
  // ≥ C when there is a single row, where it addresses nothing).
  if ((cs == 1 || C == 1) && (R == 1 || rs >= std::max<std::int64_t>(1, C))) {
    o.op = CUBLAS_OP_N;
    o.ld = R == 1 ? std::max<std::int64_t>(1, C) : rs;
    return true;
  }
  // Column-major (a transposed view): consecutive rows adjacent.
  if ((rs == 1 || R == 1) && (C == 1 || cs >= std::max<std::int64_t>(1, R))) {
    o.op = CUBLAS_OP_T;
    o.ld = C == 1 ? std::max<std::int64_t>(1, R) : cs;
    return true;
  }
  return false;
}

Operand describe(const Tensor& t) {
  Operand o;
  if (describe_in_place(t, o)) return o;
  const bool packed = describe_in_place(t.contiguous(), o);
  RETORT_CHECK(packed, "bmm: internal: a packed operand ", shape_str(t.sizes()),
               " is not a valid GEMM operand");
  return o;
}

int as_int(std::int64_t v, const Tensor& a, const Tensor& b, const char* what) {
  RETORT_CHECK(v <= INT_MAX, "bmm: a ", shape_str(a.sizes()), " and b ", shape_str(b.sizes()), ": ", what,
               " ", v, " exceeds cuBLAS's 32-bit limit");
  return static_cast<int>(v);
}

}  // namespace

Tensor bmm(const Tensor& a, const Tensor& b) {
  check_cuda_tensor(a, "bmm", "a");
  check_cuda_tensor(b, "bmm", "b");
  RETORT_CHECK(a.dim() == 3 && b.dim() == 3 && a.size(0) == b.size(0) && a.size(2) == b.size(1), "bmm: a ",
               shape_str(a.sizes()), " and b ", shape_str(b.sizes()), ": expected [B,M,K] and [B,K,N]");
  RETORT_CHECK(a.dtype() == b.dtype() && (a.dtype() == kFloat32 || a.dtype() == kFloat64), "bmm: a ",
               shape_str(a.sizes()), " ", dtype_name(a.dtype()), " and b ", shape_str(b.sizes()), " ",
               dtype_name(b.dtype()), ": cuBLAS takes one dtype, float32 or float64");
  DeviceGuard guard(a);
  const std::int64_t B = a.size(0), M = a.size(1), K = a.size(2), N = b.size(2);
  Tensor c = empty({B, M, N}, a.dtype(), a.device());
  if (c.numel() == 0) return c;
  if (K == 0) {  // an empty sum: cuBLAS's k = 0 case is left to nobody's interpretation
    RETORT_CUDA(cudaMemsetAsync(c.raw_data(), 0, static_cast<std::size_t>(c.numel()) * dtype_size(c.dtype()),
                                stream()),
                "bmm");
    return c;
  }
  const Operand ob = describe(b), oa = describe(a);  // cuBLAS's first operand is b (see top)
  const int m = as_int(N, a, b, "N"), n = as_int(M, a, b, "M"), k = as_int(K, a, b, "K");
  const int lda = as_int(ob.ld, a, b, "leading dimension"), ldb = as_int(oa.ld, a, b, "leading dimension");
  const int batch = as_int(B, a, b, "batch");

  const bool dbl = a.dtype() == kFloat64;
  const bool tf32 = !dbl && allow_tf32();
  RETORT_CUDA(cublasSetMathMode(cublas(), tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH), "bmm");
  const cudaDataType_t type = dbl ? CUDA_R_64F : CUDA_R_32F;
  const cublasComputeType_t compute =
      dbl ? CUBLAS_COMPUTE_64F : (tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F);
  const float f1 = 1.f, f0 = 0.f;
  const double d1 = 1.0, d0 = 0.0;
  const void* alpha = dbl ? static_cast<const void*>(&d1) : &f1;
  const void* beta = dbl ? static_cast<const void*>(&d0) : &f0;
  RETORT_CUDA(
      cublasGemmStridedBatchedEx(cublas(), ob.op, oa.op, m, n, k, alpha, ob.keep.raw_data(), type, lda,
                                 ob.batch_stride, oa.keep.raw_data(), type, ldb, oa.batch_stride, beta,
                                 c.raw_data(), type, m, M * N, batch, compute, CUBLAS_GEMM_DEFAULT),
      "bmm");
  return c;
}

Tensor matmul2d(const Tensor& a, const Tensor& b) {
  check_cuda_tensor(a, "matmul", "a");
  check_cuda_tensor(b, "matmul", "b");
  RETORT_CHECK(a.dim() == 2 && b.dim() == 2 && a.size(1) == b.size(0), "matmul: a ", shape_str(a.sizes()),
               " and b ", shape_str(b.sizes()), ": expected [M,K] and [K,N]");
  Tensor c = bmm(ops::unsqueeze(a, 0), ops::unsqueeze(b, 0));
  return ops::view(c, {a.size(0), b.size(1)});
}

}  // namespace retort::cuda
