// Layout helpers for the elementwise maps (see elementwise.h).
#include "tensor/cpu/elementwise.h"

#include <algorithm>
#include <numeric>
#include <vector>

namespace retort::cpu {

namespace {

// t's dims of size > 1, by increasing stride.
std::vector<std::size_t> dims_by_stride(const Tensor& t) {
  const auto& st = t.strides();
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < t.sizes().size(); ++i)
    if (t.sizes()[i] != 1) order.push_back(i);
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return st[a] < st[b]; });
  return order;
}

}  // namespace

bool is_dense(const Tensor& t) {
  if (t.is_contiguous()) return true;
  const auto& sz = t.sizes();
  const auto& st = t.strides();
  std::int64_t expect = 1;
  for (auto d : dims_by_stride(t)) {
    if (st[d] != expect) return false;
    expect *= sz[d];
  }
  return true;
}

bool non_overlapping(const Tensor& t) {
  const auto& sz = t.sizes();
  const auto& st = t.strides();
  std::int64_t extent = 1;  // 1 + the largest offset of the dims so far: the next stride's minimum
  for (auto d : dims_by_stride(t)) {
    if (st[d] < extent) return false;
    extent += st[d] * (sz[d] - 1);
  }
  return true;
}

Shape same_layout_strides(const Tensor& t) {
  if (t.is_contiguous() || !is_dense(t)) return contiguous_strides(t.sizes());
  // Size-1 dims may carry any stride in t; give them a harmless in-range one.
  Shape st = t.strides();
  for (std::size_t i = 0; i < st.size(); ++i)
    if (t.sizes()[i] == 1) st[i] = 1;
  return st;
}

Tensor empty_same_layout(const Tensor& t, DType dtype) {
  if (t.is_contiguous() || !is_dense(t)) return empty(t.sizes(), dtype, t.device());
  return as_strided(empty({t.numel()}, dtype, t.device()), t.sizes(), same_layout_strides(t), 0);
}

}  // namespace retort::cpu
