// Adaptive average pooling on the GPU (own kernels: cuDNN pools with one window size, adaptive
// windows differ in size). Output (i, j) of an H×W → OH×OW pooling averages rows
// floor(i·H/OH) … ceil((i+1)·H/OH) − 1 and columns alike, as in tensor/pool.h and PyTorch.
//
// Forward: one thread per output element sums its window (in T, like the cpu reference).
// Backward: one thread per input element gathers gy/|window| from the windows that contain it,
// so no atomics and a deterministic result. Windows containing row h are those i with
// floor(i·H/OH) ≤ h < ceil((i+1)·H/OH); i ranges over floor(h·OH/H) … ceil((h+1)·OH/H) − 1, a
// range that contains all of them, and each candidate is tested exactly.
#include "tensor/cuda/common.h"
#include "tensor/cuda/ops.h"
#include "tensor/error.h"

namespace retort::cuda {

namespace {

__host__ __device__ inline std::int64_t win_start(std::int64_t i, std::int64_t out, std::int64_t in) {
  return (i * in) / out;
}
__host__ __device__ inline std::int64_t win_end(std::int64_t i, std::int64_t out, std::int64_t in) {
  return ((i + 1) * in + out - 1) / out;
}

// x, y packed [planes, H, W] and [planes, OH, OW].
template <class T>
__global__ void adaptive_avg_forward_kernel(const T* x, T* y, std::int64_t n, std::int64_t H, std::int64_t W,
                                            std::int64_t OH, std::int64_t OW) {
  for (std::int64_t idx = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; idx < n;
       idx += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const std::int64_t j = idx % OW, i = (idx / OW) % OH, plane = idx / (OW * OH);
    const std::int64_t h0 = win_start(i, OH, H), h1 = win_end(i, OH, H);
    const std::int64_t w0 = win_start(j, OW, W), w1 = win_end(j, OW, W);
    const T* xp = x + plane * H * W;
    T acc = 0;
    for (std::int64_t h = h0; h < h1; ++h)
      for (std::int64_t w = w0; w < w1; ++w) acc += xp[h * W + w];
    y[idx] = acc / static_cast<T>((h1 - h0) * (w1 - w0));
  }
}

// gy, gx packed [planes, OH, OW] and [planes, H, W].
template <class T>
__global__ void adaptive_avg_backward_kernel(const T* gy, T* gx, std::int64_t n, std::int64_t H,
                                             std::int64_t W, std::int64_t OH, std::int64_t OW) {
  for (std::int64_t idx = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; idx < n;
       idx += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const std::int64_t w = idx % W, h = (idx / W) % H, plane = idx / (W * H);
    const std::int64_t i0 = win_start(h, H, OH), i1 = win_end(h, H, OH);
    const std::int64_t j0 = win_start(w, W, OW), j1 = win_end(w, W, OW);
    const T* gp = gy + plane * OH * OW;
    T acc = 0;
    for (std::int64_t i = i0; i < i1 && i < OH; ++i) {
      const std::int64_t h0 = win_start(i, OH, H), h1 = win_end(i, OH, H);
      if (h < h0 || h >= h1) continue;
      for (std::int64_t j = j0; j < j1 && j < OW; ++j) {
        const std::int64_t w0 = win_start(j, OW, W), w1 = win_end(j, OW, W);
        if (w < w0 || w >= w1) continue;
        acc += gp[i * OW + j] / static_cast<T>((h1 - h0) * (w1 - w0));
      }
    }
    gx[idx] = acc;
  }
}

template <class T>
void launch_forward(const Tensor& x, const Tensor& y) {
  const std::int64_t n = y.numel();
  adaptive_avg_forward_kernel<T><<<blocks_for(n), kThreads, 0, stream()>>>(
      ptr<const T>(x), ptr<T>(y), n, x.size(2), x.size(3), y.size(2), y.size(3));
}

template <class T>
void launch_backward(const Tensor& gy, const Tensor& gx) {
  const std::int64_t n = gx.numel();
  adaptive_avg_backward_kernel<T><<<blocks_for(n), kThreads, 0, stream()>>>(
      ptr<const T>(gy), ptr<T>(gx), n, gx.size(2), gx.size(3), gy.size(2), gy.size(3));
}

}  // namespace

Tensor adaptive_avg_pool2d_forward(const Tensor& x, std::array<std::int64_t, 2> out) {
  const char* op = "cuda adaptive_avg_pool2d";
  check_cuda_tensor(x, op, "input");
  RETORT_CHECK(x.dim() == 4 && out[0] >= 1 && out[1] >= 1 && x.size(2) >= 1 && x.size(3) >= 1, op, ": input ",
               shape_str(x.sizes()), " and output size ", out[0], "x", out[1], " do not fit");
  DeviceGuard guard(x);
  Tensor y = empty({x.size(0), x.size(1), out[0], out[1]}, x.dtype(), x.device());
  if (y.numel() == 0) return y;
  const Tensor xc = x.contiguous();
  if (x.dtype() == kFloat32) {
    launch_forward<float>(xc, y);
  } else if (x.dtype() == kFloat64) {
    launch_forward<double>(xc, y);
  } else {
    fail(op, ": input ", shape_str(x.sizes()), " must be float32 or float64, got ", dtype_name(x.dtype()));
  }
  RETORT_CUDA_LAUNCH(op);
  return y;
}

Tensor adaptive_avg_pool2d_backward(const Tensor& gy, const Shape& x_sizes) {
  const char* op = "cuda adaptive_avg_pool2d_backward";
  check_cuda_tensor(gy, op, "gradient");
  RETORT_CHECK(gy.dim() == 4 && x_sizes.size() == 4 && gy.size(0) == x_sizes[0] && gy.size(1) == x_sizes[1] &&
                   gy.size(2) >= 1 && gy.size(3) >= 1,
               op, ": gradient ", shape_str(gy.sizes()), " does not match input ", shape_str(x_sizes));
  DeviceGuard guard(gy);
  Tensor gx = empty(x_sizes, gy.dtype(), gy.device());
  if (gx.numel() == 0) return gx;
  const Tensor gyc = gy.contiguous();
  if (gy.dtype() == kFloat32) {
    launch_backward<float>(gyc, gx);
  } else if (gy.dtype() == kFloat64) {
    launch_backward<double>(gyc, gx);
  } else {
    fail(op, ": gradient ", shape_str(gy.sizes()), " must be float32 or float64, got ",
         dtype_name(gy.dtype()));
  }
  RETORT_CUDA_LAUNCH(op);
  return gx;
}

}  // namespace retort::cuda
