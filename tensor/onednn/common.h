// Shared oneDNN state for the CPU fast paths: one engine and stream, tensor ↔ memory wrapping,
// and a primitive cache keyed by a string built from the op's shapes/strides/attributes, so a
// training loop creates each primitive once and then only executes it.
//
// Fast paths take float32 CPU tensors. A tensor is wrapped without copying when its strides can be
// described by a oneDNN memory::desc (any dense strided layout: NCHW, channels-last, ...).
#pragma once
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include <oneapi/dnnl/dnnl.hpp>

#include "tensor/tensor.h"

namespace retort::onednn {

dnnl::engine& engine();
dnnl::stream& stream();

// Whether the fast paths are enabled (RETORT_ONEDNN=0 in the environment, or set_enabled(false),
// routes every op to the reference kernels; tests use this to compare the two).
bool enabled();
void set_enabled(bool on);

dnnl::memory::dims dims_of(const Shape& s);
// Describes t exactly as it lies in memory (its sizes and strides), float32.
dnnl::memory::desc desc_of(const Tensor& t);
// A memory object viewing t's data (no copy).
dnnl::memory memory_of(const Tensor& t);
dnnl::memory memory_of(const dnnl::memory::desc& d, const Tensor& t);

// Appends shapes/strides to a cache key.
void key_add(std::string& key, const Shape& s);
void key_add(std::string& key, std::int64_t v);

// Process-wide cache of built objects (primitive descs, primitives). get_or_create returns the
// cached value for key, or builds it with make() once.
template <class T>
T& cached(const std::string& key, const std::function<T()>& make) {
  static std::mutex mu;
  static std::unordered_map<std::string, std::unique_ptr<T>> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(key);
  if (it == cache.end()) it = cache.emplace(key, std::make_unique<T>(make())).first;
  return *it->second;
}

// Scratch memory for a primitive desc's workspace or a reordered buffer, reused per key.
dnnl::memory scratch(const std::string& key, const dnnl::memory::desc& d);

}  // namespace retort::onednn
