// Memory descriptors for strided tensors, shared by the matmul, softmax and batch-norm fast paths.
//
// A size-1 dim can carry any stride (PyTorch-style views and empty_same_layout give them
// different ones) without changing where any element lives. oneDNN, however, compares strides
// when it matches layouts and when two descs must be equal (src/dst of softmax, data/diff of
// batch norm), so every operand goes through canonical_strides first: a size-1 dim gets the
// span of the dims after it, which is exactly the stride a packed layout would give it.
#pragma once
#include <algorithm>

#include "tensor/onednn/common.h"

namespace retort::onednn {

inline Shape canonical_strides(const Shape& sizes, const Shape& strides) {
  Shape out = strides;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    if (sizes[i] != 1) continue;
    std::int64_t span = 1;
    for (std::size_t j = i + 1; j < sizes.size(); ++j)
      if (sizes[j] != 1) span = std::max(span, strides[j] * sizes[j]);
    out[i] = span;
  }
  return out;
}

// float32 desc of sizes with (already canonical) strides.
inline dnnl::memory::desc strided_desc(const Shape& sizes, const Shape& strides) {
  return dnnl::memory::desc(dims_of(sizes), dnnl::memory::data_type::f32, dims_of(strides));
}

// desc of t as it lies in memory, with canonical strides.
inline dnnl::memory::desc canonical_desc(const Tensor& t) {
  return strided_desc(t.sizes(), canonical_strides(t.sizes(), t.strides()));
}

// Appends t's sizes and canonical strides to a cache key.
inline void key_add_layout(std::string& key, const Tensor& t) {
  key_add(key, t.sizes());
  key_add(key, canonical_strides(t.sizes(), t.strides()));
}

}  // namespace retort::onednn
