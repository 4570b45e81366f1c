// oneDNN fast path of Tensor::copy_ (tensor/tensor.cpp) for large float32 copies between strided
// CPU tensors of one shape: cat into its slices, contiguous() of permuted views (channel shuffle),
// narrow views made dense for a convolution.
#pragma once
#include "tensor/tensor.h"

namespace retort::onednn {

// dst ← src as one oneDNN reorder, when both are float32 CPU tensors of the same sizes (no
// broadcasting), every stride of a non-trivial dim is positive, and there are enough elements
// to pay for a primitive; a deferred blocked src is read in its blocked layout, without writing
// its plain bytes first. Returns false, having written nothing, when it does not apply.
bool copy(const Tensor& dst, const Tensor& src);

}  // namespace retort::onednn
