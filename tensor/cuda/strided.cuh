// The one strided elementwise loop of the CUDA backend (included by the .cu sources only).
//
// K operands walk the same shape, each with its own element strides (0 on broadcast dims). The
// host side (make_offsets) drops size-1 dims and merges neighbouring dims that are contiguous in
// every operand, so a packed or plainly sliced tensor becomes one or two dims; merging keeps the
// row-major order, so the linear index i a functor receives is the element's row-major position
// in the original shape (random.cu draws from it). When every operand is packed over one dim the
// kernel skips the index arithmetic altogether.
//
// A functor is a device-callable struct:  void operator()(std::int64_t i, const std::int64_t (&o)[K])
// where o[k] is operand k's element offset (relative to its first element).
#pragma once
#include <array>
#include <cstdint>

#include "tensor/cuda/common.h"
#include "tensor/error.h"

namespace retort::cuda {

template <int K>
struct Offsets {
  int dim = 0;
  std::int64_t sizes[kMaxDims] = {};
  std::int64_t strides[K][kMaxDims] = {};

  // Element offsets of the element at row-major index i (64-bit throughout: a tensor may hold
  // more than 2^31 elements). Host-callable so the index math can be checked without a GPU.
  __host__ __device__ void at(std::int64_t i, std::int64_t (&o)[K]) const {
    for (int k = 0; k < K; ++k) o[k] = 0;
    for (int d = dim - 1; d > 0; --d) {
      const std::int64_t c = i % sizes[d];
      i /= sizes[d];
      for (int k = 0; k < K; ++k) o[k] += c * strides[k][d];
    }
    if (dim > 0) {
      for (int k = 0; k < K; ++k) o[k] += i * strides[k][0];
    }
  }

  // True when every operand is packed row-major over the (merged) shape: offset = index.
  bool packed() const {
    if (dim == 0) return true;
    if (dim > 1) return false;
    for (int k = 0; k < K; ++k)
      if (strides[k][0] != 1) return false;
    return true;
  }
};

// Strides of x broadcast to `shape` (x's sizes must broadcast to it: the tensor layer checked).
inline Shape broadcast_strides_to(const Tensor& x, const Shape& shape, const char* op) {
  const std::size_t nd = shape.size(), xd = x.sizes().size();
  RETORT_CHECK(xd <= nd, op, ": ", shape_str(x.sizes()), " does not broadcast to ", shape_str(shape));
  Shape out(nd, 0);
  for (std::size_t i = 0; i < xd; ++i) {
    const std::size_t d = nd - xd + i;
    const std::int64_t xs = x.sizes()[i];
    RETORT_CHECK(xs == shape[d] || xs == 1, op, ": ", shape_str(x.sizes()), " does not broadcast to ",
                 shape_str(shape));
    out[d] = xs == 1 ? 0 : x.strides()[i];
  }
  return out;
}

// The merged description of K operands with the given strides over `shape`.
template <int K>
Offsets<K> make_offsets(const Shape& shape, const std::array<Shape, K>& strides, const char* op) {
  Shape sz;
  std::array<Shape, K> st;
  for (std::size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;  // any stride: index 0 only
    if (!sz.empty()) {
      bool merge = true;
      for (int k = 0; k < K; ++k) merge = merge && st[k].back() == strides[k][d] * shape[d];
      if (merge) {
        sz.back() *= shape[d];
        for (int k = 0; k < K; ++k) st[k].back() = strides[k][d];
        continue;
      }
    }
    sz.push_back(shape[d]);
    for (int k = 0; k < K; ++k) st[k].push_back(strides[k][d]);
  }
  RETORT_CHECK(sz.size() <= static_cast<std::size_t>(kMaxDims), op, ": the cuda backend handles up to ",
               kMaxDims, " non-mergeable dims, got ", shape_str(shape));
  Offsets<K> off;
  off.dim = static_cast<int>(sz.size());
  for (int d = 0; d < off.dim; ++d) {
    off.sizes[d] = sz[d];
    for (int k = 0; k < K; ++k) off.strides[k][d] = st[k][d];
  }
  return off;
}

template <int K, class F>
__global__ void packed_kernel(std::int64_t n, F f) {
  const std::int64_t step = static_cast<std::int64_t>(blockDim.x) * gridDim.x;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step) {
    std::int64_t o[K];
#pragma unroll
    for (int k = 0; k < K; ++k) o[k] = i;
    f(i, o);
  }
}

template <int K, class F>
__global__ void strided_kernel(std::int64_t n, Offsets<K> off, F f) {
  const std::int64_t step = static_cast<std::int64_t>(blockDim.x) * gridDim.x;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step) {
    std::int64_t o[K];
    off.at(i, o);
    f(i, o);
  }
}

// Runs f over the n = numel(shape) elements described by off on the backend's stream (the caller
// holds a DeviceGuard for the operands' device).
template <int K, class F>
void launch(const Offsets<K>& off, std::int64_t n, const F& f, const char* op) {
  if (n <= 0) return;
  if (off.packed()) {
    packed_kernel<K><<<blocks_for(n), kThreads, 0, stream()>>>(n, f);
  } else {
    strided_kernel<K><<<blocks_for(n), kThreads, 0, stream()>>>(n, off, f);
  }
  RETORT_CUDA_LAUNCH(op);
}

// The same for K operands given as tensors whose strides already fit `shape` (own strides for
// outputs, broadcast strides for inputs).
template <int K, class F>
void for_each(const Shape& shape, const std::array<Shape, K>& strides, const F& f, const char* op) {
  launch<K>(make_offsets<K>(shape, strides, op), shape_numel(shape), f, op);
}

}  // namespace retort::cuda
