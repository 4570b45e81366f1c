// Why: the reference copy is a scalar strided loop on one thread. In a ShuffleNetV2 training step
// the channel split, concatenation and shuffle copy every block's activation a few times, and at
// 2 threads that loop left one core idle while it ran. A oneDNN reorder between the two strided
// layouts runs on all OpenMP threads (and on jit kernels where the layouts allow).
#include "tensor/onednn/copy.h"

#include "tensor/onednn/blocked.h"
#include "tensor/onednn/common.h"
#include "tensor/onednn/layout.h"
#include "tensor/onednn/strided.h"

namespace retort::onednn {

namespace {

// Below this a primitive lookup costs more than the loop (and keeps the primitive cache small).
constexpr std::int64_t kMinElements = 1 << 15;

bool positive_strides(const Tensor& t) {
  const Shape s = canonical_strides(t.sizes(), t.strides());
  for (std::int64_t i = 0; i < t.dim(); ++i)
    if (t.size(i) > 1 && s[static_cast<std::size_t>(i)] <= 0) return false;
  return true;
}

}  // namespace

bool copy(const Tensor& dst, const Tensor& src) {
  if (!enabled() || !dst.device().is_cpu() || !src.device().is_cpu() ||
      dst.dtype() != kFloat32 || src.dtype() != kFloat32 || dst.sizes() != src.sizes() ||
      dst.dim() == 0 || dst.dim() > DNNL_MAX_NDIMS || dst.numel() < kMinElements ||
      !positive_strides(dst) || !positive_strides(src))
    return false;
  const dnnl::memory to = memory_of(canonical_desc(dst), dst);
  // bs keeps a blocked src's buffer alive while the reorder reads it.
  if (auto bs = blocked_of(src)) {
    reorder(bs->memory(), to);
  } else {
    reorder(memory_of(canonical_desc(src), src), to);
  }
  stream().wait();
  return true;
}

}  // namespace retort::onednn
