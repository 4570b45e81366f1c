// Layout plumbing for the convolution and pooling fast paths: moving tensors in and out of the
// blocked layouts (nChw16c, OIhw16i16o, ...) oneDNN's fastest kernels pick, with cached reorder
// primitives and reusable scratch buffers, so a training step allocates nothing for them.
#pragma once
#include <optional>

#include "tensor/onednn/common.h"

namespace retort::onednn {

// A string that identifies d (sizes, data type, strides or blocking), for cache keys.
std::string desc_key(const dnnl::memory::desc& d);

// The element strides of d when it is a plain strided layout (no inner blocks, no padding), such
// as nchw or nhwc; nullopt for blocked layouts.
std::optional<Shape> plain_strides(const dnnl::memory::desc& d);

// t when its elements fill one dense block (any dim order, e.g. NCHW or NHWC), else a packed copy:
// oneDNN primitives take such tensors in place.
Tensor dense_or_packed(const Tensor& t);
// t when a strided oneDNN desc (canonical_desc) reads it in place, that is no element is addressed
// twice (a channel slice, a strided view of a gradient), else a packed copy. For operands that
// are reordered into a primitive's layout anyway: the reorder reads the view, with no copy first.
Tensor readable_or_packed(const Tensor& t);

// A new float32 tensor of `sizes` laid out with `strides` (a dense permutation of the dims).
Tensor empty_strided(const Shape& sizes, const Shape& strides);

// A new float32 tensor of `sizes` whose dims are nested in the same order as like's (so an NHWC
// `like` gives an NHWC result even when the sizes differ); packed when like is not dense.
Tensor empty_ordered_like(const Tensor& like, const Shape& sizes);
// The strides empty_ordered_like gives.
Shape ordered_strides(const Tensor& like, const Shape& sizes);

// Copies src into dst (same logical dims, any layouts) with a cached reorder primitive.
void reorder(const dnnl::memory& src, const dnnl::memory& dst);

// Grow-only scratch buffers. Slot k holds one intermediate (a blocked copy of an operand) during
// one primitive call; distinct operands of one call use distinct slots. Callers hold
// scratch_mutex() while they use the slots.
enum class Slot { Src, Weights, Dst, DiffDst, DiffDst2, DiffSrc, DiffWeights, Count };
dnnl::memory slot_memory(Slot s, const dnnl::memory::desc& d);
std::mutex& scratch_mutex();

// `user` (a memory over a tensor) in layout `want`: user itself when the layouts match, else a
// reordered copy in slot s.
dnnl::memory in_layout(const dnnl::memory& user, const dnnl::memory::desc& want, Slot s);

}  // namespace retort::onednn
