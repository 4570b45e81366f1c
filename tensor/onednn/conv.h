// oneDNN convolution fast path (float32, CPU). Same maths and shapes as tensor/conv.h; arguments
// are already checked by the dispatch. Inputs may have any strides. The primitives run in the
// blocked layouts oneDNN picks (Winograd F(4x4,3x3) for 3x3 stride-1 layers with enough
// channels, direct otherwise). Operands are reordered in unless they are deferred blocked results
// already in the wanted layout (blocked.h); y and gx come out deferred when the primitive writes
// a blocked layout (their plain layouts: y packed NCHW, gx x's), gw/gb packed.
#pragma once
#include <oneapi/dnnl/dnnl.hpp>

#include "tensor/conv.h"

namespace retort::onednn {

// x as the forward primitive read it, when that needed a reorder (a blocked copy): the
// backward-weights primitive reads it from here instead of reordering x again, when its layout is
// the same. The buffer is a tensor's storage, so it goes back to the caching allocator.
struct ConvSaved {
  dnnl::memory::desc desc;
  Tensor buffer;
};

// y (relu(y) with relu: a post-op of the primitive); *saved (when non-null) receives the blocked
// copy of x, if one was made.
Tensor conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& bias,
                      const ops::Conv2dParams& p, ops::Conv2dSaved* saved, bool relu = false);
// The requested gradients; a bias gradient is computed only together with the weight gradient.
// saved may be null.
ops::Conv2dGrads conv2d_backward(const Tensor& gy, const Tensor& x, const Tensor& w,
                                 const ops::Conv2dGradMask& mask, const ops::Conv2dParams& p,
                                 const ConvSaved* saved);

}  // namespace retort::onednn
