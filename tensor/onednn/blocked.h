// Results kept in oneDNN's blocked layouts. A convolution picks a blocked layout such as nChw16c
// (N, C/16, H, W, 16 channels innermost) for its output; reordering that to NCHW and back again
// for the next convolution cost a quarter of a TeacherNet training step. So the fast paths return
// such a result as a *deferred* tensor: an ordinary [N, C, H, W] tensor with plain strides whose
// storage holds the blocked copy only (Storage's AltLayout). A fast path that can consume the
// blocked layout (convolution, eltwise activations, max pooling, in both directions) reads it
// directly; anything else reads data() as usual, which writes the plain bytes once and drops the
// blocked copy, so every other op, view and in-place write sees ordinary memory.
#pragma once
#include <memory>

#include <oneapi/dnnl/dnnl.hpp>

#include "tensor/onednn/layout.h"

namespace retort::onednn {

struct Blocked final : AltLayout {
  dnnl::memory::desc desc;  // the blocked layout of buffer's bytes
  Tensor buffer;            // flat float32, desc.get_size() bytes
  Shape sizes, strides;     // the plain tensor the contents belong to
  void materialize(void* plain) const override;
  dnnl::memory memory() const;  // a memory over buffer in desc (no copy)
};

// A flat float32 tensor big enough for layout d (padding included), for a primitive to write.
Tensor blocked_buffer(const dnnl::memory::desc& d);
// A tensor of sizes/strides (a dense plain layout) whose contents are buffer, laid out as d.
Tensor deferred(const Shape& sizes, const Shape& strides, const dnnl::memory::desc& d,
                const Tensor& buffer);
// t's blocked copy when t is a deferred tensor whose plain bytes are still unwritten, viewed
// whole (offset 0, the sizes and strides it was made with); else null. Never writes plain bytes.
std::shared_ptr<const Blocked> blocked_of(const Tensor& t);
// A memory over t's contents in layout want: its blocked copy when that is already in want,
// else t's plain memory (reading data(), which writes the plain bytes), reordered into slot s
// when want differs from it. t must be dense.
dnnl::memory in_layout(const Tensor& t, const dnnl::memory::desc& want, Slot s);

// A result of a primitive that writes layout d, for a tensor of `sizes`: a plain tensor with d's
// strides when d is plain, else a deferred tensor with `strides` over a new blocked buffer.
// mem is where the primitive writes.
struct Result {
  Tensor tensor;
  dnnl::memory mem;
};
Result result_in(const dnnl::memory::desc& d, const Shape& sizes, const Shape& strides);

}  // namespace retort::onednn
