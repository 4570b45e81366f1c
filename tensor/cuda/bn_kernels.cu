// Batch-norm helper kernels (declared in dnn_common.h). The per-channel conversions run one
// thread per channel, in double. The eval backward runs one block per channel for the two sums (each thread
// strides over the channel's N·H·W values, then a shared-memory tree reduction), and a grid-stride
// elementwise kernel for gx.
#include "tensor/cuda/dnn_common.h"
#include "tensor/error.h"

namespace retort::cuda {

namespace {

template <class T>
__global__ void var_from_invstd_kernel(const T* invstd, T* var, std::int64_t C, double eps) {
  for (std::int64_t c = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; c < C;
       c += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const double s = static_cast<double>(invstd[c]);
    var[c] = static_cast<T>(1.0 / (s * s) - eps);
  }
}

template <class T>
__global__ void invstd_from_var_kernel(const T* var, std::int64_t stride, T* invstd, std::int64_t C,
                                       double eps) {
  for (std::int64_t c = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; c < C;
       c += static_cast<std::int64_t>(gridDim.x) * blockDim.x)
    invstd[c] = static_cast<T>(1.0 / sqrt(static_cast<double>(var[c * stride]) + eps));
}

// One block per channel c: gbias[c] = Σ g, gweight[c] = invstd[c] · Σ g·(x − mean[c]).
template <class T>
__global__ void eval_sums_kernel(const T* g, const T* x, const T* mean, const T* invstd, T* gweight, T* gbias,
                                 std::int64_t N, std::int64_t C, std::int64_t HW) {
  __shared__ double sg[kThreads], sgx[kThreads];
  const std::int64_t c = blockIdx.x;
  const double mu = static_cast<double>(mean[c]);
  double a = 0, b = 0;
  for (std::int64_t k = threadIdx.x; k < N * HW; k += blockDim.x) {
    const std::int64_t i = ((k / HW) * C + c) * HW + k % HW;
    const double gv = static_cast<double>(g[i]);
    a += gv;
    b += gv * (static_cast<double>(x[i]) - mu);
  }
  sg[threadIdx.x] = a;
  sgx[threadIdx.x] = b;
  __syncthreads();
  for (unsigned s = blockDim.x / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) {
      sg[threadIdx.x] += sg[threadIdx.x + s];
      sgx[threadIdx.x] += sgx[threadIdx.x + s];
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    gbias[c] = static_cast<T>(sg[0]);
    gweight[c] = static_cast<T>(sgx[0] * static_cast<double>(invstd[c]));
  }
}

// gx = g · γ[c] · invstd[c]; weight null means γ = 1.
template <class T>
__global__ void eval_gx_kernel(const T* g, const T* weight, const T* invstd, T* gx, std::int64_t n,
                               std::int64_t C, std::int64_t HW) {
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const std::int64_t c = (i / HW) % C;
    const T s = weight ? weight[c] * invstd[c] : invstd[c];
    gx[i] = g[i] * s;
  }
}

template <class F>
void by_dtype(DType dt, const char* op, F&& f) {
  if (dt == kFloat32) {
    f(float{});
  } else if (dt == kFloat64) {
    f(double{});
  } else {
    fail(op, ": expected float32 or float64, got ", dtype_name(dt));
  }
}

}  // namespace

Tensor bn_var_from_invstd(const Tensor& invstd, double eps) {
  const char* op = "cuda batch_norm";
  DeviceGuard guard(invstd);
  const Tensor in = invstd.contiguous();
  Tensor var = empty(invstd.sizes(), invstd.dtype(), invstd.device());
  const std::int64_t C = var.numel();
  if (C == 0) return var;
  by_dtype(var.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    var_from_invstd_kernel<T>
        <<<blocks_for(C), kThreads, 0, stream()>>>(ptr<const T>(in), ptr<T>(var), C, eps);
  });
  RETORT_CUDA_LAUNCH(op);
  return var;
}

Tensor bn_invstd_from_var(const Tensor& var, double eps) {
  const char* op = "cuda batch_norm_backward";
  DeviceGuard guard(var);
  Tensor invstd = empty(var.sizes(), var.dtype(), var.device());
  const std::int64_t C = invstd.numel();
  if (C == 0) return invstd;
  by_dtype(var.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    invstd_from_var_kernel<T>
        <<<blocks_for(C), kThreads, 0, stream()>>>(ptr<const T>(var), var.stride(0), ptr<T>(invstd), C, eps);
  });
  RETORT_CUDA_LAUNCH(op);
  return invstd;
}

ops::BatchNormGrads bn_eval_backward(const Tensor& g, const Tensor& x, const Tensor& weight,
                                     const Tensor& mean, const Tensor& var, double eps) {
  const char* op = "cuda batch_norm_backward";
  DeviceGuard guard(x);
  const std::int64_t N = x.size(0), C = x.size(1), HW = C > 0 && N > 0 ? x.numel() / (N * C) : 0;
  const Tensor gc = g.contiguous(), xc = x.contiguous(), mc = mean.contiguous();
  const Tensor wc = weight.defined() ? weight.contiguous() : Tensor();
  const Tensor invstd = bn_invstd_from_var(var, eps);
  ops::BatchNormGrads r{empty(x.sizes(), x.dtype(), x.device()), empty({C}, x.dtype(), x.device()),
                        empty({C}, x.dtype(), x.device())};
  if (C == 0) return r;
  RETORT_CHECK(C <= 2147483647, op, ": input ", shape_str(x.sizes()),
               " has more channels than one grid holds");
  by_dtype(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    // C blocks of kThreads (the shared arrays' size); gridDim.x allows 2^31 − 1 channels.
    eval_sums_kernel<T><<<static_cast<unsigned>(C), kThreads, 0, stream()>>>(
        ptr<const T>(gc), ptr<const T>(xc), ptr<const T>(mc), ptr<const T>(invstd), ptr<T>(r.gweight),
        ptr<T>(r.gbias), N, C, HW);
    RETORT_CUDA_LAUNCH(op);
    const std::int64_t n = r.gx.numel();
    if (n > 0)
      eval_gx_kernel<T><<<blocks_for(n), kThreads, 0, stream()>>>(
          ptr<const T>(gc), wc.defined() ? ptr<const T>(wc) : nullptr, ptr<const T>(invstd), ptr<T>(r.gx), n,
          C, HW);
  });
  RETORT_CUDA_LAUNCH(op);
  return r;
}

}  // namespace retort::cuda
