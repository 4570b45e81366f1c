// Reference elementwise machinery: layout-preserving maps over one, two or three operands.
//
// Outputs keep the memory layout of a dense input (a channels-last [N,C,H,W] stays channels-last),
// so chains of conv → relu → pool never pay for a layout change. "Dense" means the elements
// exactly fill a contiguous block in some dim order; such operands are walked as flat arrays.
#pragma once
#include <cstdint>

#include "tensor/cpu/iter.h"
#include "tensor/tensor.h"

namespace retort::cpu {

// True when t's elements fill [offset, offset + numel) exactly once (any dim order).
bool is_dense(const Tensor& t);
// True when no two indices of t address the same element (no zero or overlapping strides).
bool non_overlapping(const Tensor& t);
// A new tensor with t's sizes and, when t is dense, t's strides; otherwise packed row-major.
Tensor empty_same_layout(const Tensor& t, DType dtype);
// The strides empty_same_layout gives a result for t (t's own when dense, else packed).
Shape same_layout_strides(const Tensor& t);

// Work above this many elements is split across OpenMP threads.
inline constexpr std::int64_t kParallelGrain = 1 << 15;

// y = f(x) elementwise, y allocated with x's layout. f: (S) -> D.
template <class D, class S, class F>
Tensor map1(const Tensor& x, DType out, F f) {
  Tensor y = empty_same_layout(x, out);
  const S* xp = static_cast<const S*>(x.raw_data());
  D* yp = static_cast<D*>(y.raw_data());
  if (is_dense(x)) {
    const std::int64_t n = x.numel();
#pragma omp parallel for simd if (n > kParallelGrain)
    for (std::int64_t i = 0; i < n; ++i) yp[i] = f(xp[i]);
  } else {
    for_each_offset<2>(x.sizes(), {&y.strides(), &x.strides()},
                       [&](const auto& o) { yp[o[0]] = f(xp[o[1]]); });
  }
  return y;
}

// out = f(a, b) with broadcasting. When a and b are dense with identical sizes and strides the
// result shares their layout and the loop is flat; otherwise the result is packed row-major.
template <class D, class S, class F>
Tensor map2(const Tensor& a, const Tensor& b, DType out, const Shape& shape, F f) {
  const S* ap = static_cast<const S*>(a.raw_data());
  const S* bp = static_cast<const S*>(b.raw_data());
  if (a.sizes() == shape && b.sizes() == shape && a.strides() == b.strides() && is_dense(a)) {
    Tensor y = empty_same_layout(a, out);
    D* yp = static_cast<D*>(y.raw_data());
    const std::int64_t n = y.numel();
#pragma omp parallel for simd if (n > kParallelGrain)
    for (std::int64_t i = 0; i < n; ++i) yp[i] = f(ap[i], bp[i]);
    return y;
  }
  if (a.sizes() == shape && is_dense(a) && b.numel() == 1) {
    Tensor y = empty_same_layout(a, out);
    D* yp = static_cast<D*>(y.raw_data());
    const S bv = bp[0];
    const std::int64_t n = y.numel();
#pragma omp parallel for simd if (n > kParallelGrain)
    for (std::int64_t i = 0; i < n; ++i) yp[i] = f(ap[i], bv);
    return y;
  }
  Tensor y = empty(shape, out, a.device());
  D* yp = static_cast<D*>(y.raw_data());
  Shape sa = broadcast_strides(a.sizes(), a.strides(), shape);
  Shape sb = broadcast_strides(b.sizes(), b.strides(), shape);
  for_each_offset<3>(shape, {&y.strides(), &sa, &sb},
                     [&](const auto& o) { yp[o[0]] = f(ap[o[1]], bp[o[2]]); });
  return y;
}

// a ← f(a, b) in place, b broadcast to a's shape.
template <class S, class F>
void apply2_(const Tensor& a, const Tensor& b, F f) {
  S* ap = static_cast<S*>(a.raw_data());
  const S* bp = static_cast<const S*>(b.raw_data());
  if (a.sizes() == b.sizes() && a.strides() == b.strides() && is_dense(a)) {
    const std::int64_t n = a.numel();
#pragma omp parallel for simd if (n > kParallelGrain)
    for (std::int64_t i = 0; i < n; ++i) ap[i] = f(ap[i], bp[i]);
    return;
  }
  Shape sb = broadcast_strides(b.sizes(), b.strides(), a.sizes());
  if (non_overlapping(a)) {  // e.g. a window of a larger buffer: rows, split across threads
    for_each_row<2>(a.sizes(), {&a.strides(), &sb}, kParallelGrain,
                    [&](const auto& o, std::int64_t len, const auto& s) {
                      for (std::int64_t i = 0; i < len; ++i)
                        ap[o[0] + i * s[0]] = f(ap[o[0] + i * s[0]], bp[o[1] + i * s[1]]);
                    });
    return;
  }
  for_each_offset<2>(a.sizes(), {&a.strides(), &sb},
                     [&](const auto& o) { ap[o[0]] = f(ap[o[0]], bp[o[1]]); });
}

}  // namespace retort::cpu
