// Strided iteration for the reference kernels: visit every element of a shape in row-major order
// and keep one running element offset per operand. Plain loops, no vectorisation: these kernels
// are the specification the fast paths are tested against.
#pragma once
#include <array>
#include <cstdint>
#include <vector>

#include "tensor/shape.h"
#include "tensor/tensor.h"

namespace retort::cpu {

// The index ops' walks (cpu reference and cuda kernels alike): x's strides with dim zeroed, so
// the walk over the other dims stays on the row being indexed...
inline Shape zero_dim_stride(Shape s, int dim) {
  s[dim] = 0;
  return s;
}

// ...and strides over x's rank that follow a 1-d index idx along dim only.
inline Shape along_dim_strides(const Tensor& idx, std::int64_t rank, int dim) {
  Shape s(static_cast<std::size_t>(rank), 0);
  s[dim] = idx.dim() == 0 ? 0 : idx.stride(0);
  return s;
}

// Strides of operand `s` (sizes `from`) broadcast to shape `to`: size-1 and missing dims get 0.
inline Shape broadcast_strides(const Shape& from, const Shape& strides, const Shape& to) {
  Shape out(to.size(), 0);
  std::size_t lead = to.size() - from.size();
  for (std::size_t i = 0; i < from.size(); ++i)
    out[lead + i] = (from[i] == 1 && to[lead + i] != 1) ? 0 : strides[i];
  return out;
}

// Calls f(offsets) for each index of `sizes` in row-major order, where offsets[k] is the element
// offset of operand k (given by its strides over `sizes`).
template <std::size_t K, class F>
void for_each_offset(const Shape& sizes, const std::array<const Shape*, K>& strides, F&& f) {
  const std::size_t nd = sizes.size();
  std::int64_t total = shape_numel(sizes);
  if (total == 0) return;
  std::array<std::int64_t, K> off{};
  if (nd == 0) {
    f(off);
    return;
  }
  std::vector<std::int64_t> idx(nd, 0);
  const std::int64_t inner = sizes[nd - 1];
  std::array<std::int64_t, K> inner_stride{};
  for (std::size_t k = 0; k < K; ++k) inner_stride[k] = (*strides[k])[nd - 1];
  for (std::int64_t done = 0; done < total; done += inner) {
    std::array<std::int64_t, K> o = off;
    for (std::int64_t i = 0; i < inner; ++i) {
      f(o);
      for (std::size_t k = 0; k < K; ++k) o[k] += inner_stride[k];
    }
    for (std::size_t d = nd - 1; d-- > 0;) {
      ++idx[d];
      for (std::size_t k = 0; k < K; ++k) off[k] += (*strides[k])[d];
      if (idx[d] < sizes[d]) break;
      for (std::size_t k = 0; k < K; ++k) off[k] -= (*strides[k])[d] * sizes[d];
      idx[d] = 0;
    }
  }
}

// The walk of for_each_offset cut into rows: adjacent dims are merged wherever every operand steps
// across them as one (stride[d] == stride[d + 1]·size[d + 1]; size-1 dims dropped), and
// f(offsets, len, steps) is called once per row of the merged shape, with the operands' offsets at
// the row's start, the row's length and their strides along it. The rows run on OpenMP threads
// when the walk has more than `grain` elements, so f may write only elements no other row reads
// or writes (an operand written in place must not repeat elements).
template <std::size_t K, class F>
void for_each_row(const Shape& sizes, const std::array<const Shape*, K>& strides,
                  std::int64_t grain, F&& f) {
  if (shape_numel(sizes) == 0) return;
  std::vector<std::int64_t> sz;
  std::vector<std::array<std::int64_t, K>> st;
  for (std::size_t d = 0; d < sizes.size(); ++d) {
    if (sizes[d] == 1) continue;
    std::array<std::int64_t, K> s{};
    bool merge = !sz.empty();
    for (std::size_t k = 0; k < K; ++k) {
      s[k] = (*strides[k])[d];
      merge = merge && st.back()[k] == s[k] * sizes[d];
    }
    if (merge) {
      sz.back() *= sizes[d];
      st.back() = s;
    } else {
      sz.push_back(sizes[d]);
      st.push_back(s);
    }
  }
  if (sz.empty()) {
    f(std::array<std::int64_t, K>{}, std::int64_t{1}, std::array<std::int64_t, K>{});
    return;
  }
  const std::int64_t len = sz.back(), rows = shape_numel(Shape(sz.begin(), sz.end() - 1));
  const auto m = static_cast<std::int64_t>(sz.size());
#pragma omp parallel for if (rows > 1 && rows * len > grain)
  for (std::int64_t r = 0; r < rows; ++r) {
    std::array<std::int64_t, K> off{};
    std::int64_t rest = r;
    for (std::int64_t d = m - 2; d >= 0; --d) {
      const std::int64_t i = rest % sz[d];
      rest /= sz[d];
      for (std::size_t k = 0; k < K; ++k) off[k] += i * st[d][k];
    }
    f(off, len, st.back());
  }
}

}  // namespace retort::cpu
