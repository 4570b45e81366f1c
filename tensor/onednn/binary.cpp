// oneDNN binary add on blocked layouts (see binary.h). Without it a residual sum read both
// branches' plain bytes, which reordered both blocked results to NCHW, and its plain result was
// reordered back to the blocked layout by the next convolution: in a resnet8x4 step about a
// tenth of the oneDNN time went to those reorders. The padding channels of the blocked layouts
// are zero in both operands, so they stay zero in the sum.
#include "tensor/onednn/binary.h"

#include "tensor/cpu/elementwise.h"
#include "tensor/onednn/blocked.h"
#include "tensor/onednn/layout.h"

namespace retort::onednn {

namespace {

bool operand_ok(const Tensor& t) {
  return t.defined() && t.device().is_cpu() && t.dtype() == kFloat32 && cpu::is_dense(t);
}

dnnl::binary& add_prim(const dnnl::memory::desc& md) {
  return cached<dnnl::binary>("binary_add:" + desc_key(md), [&] {
    return dnnl::binary(dnnl::binary::primitive_desc(
        dnnl::binary::desc(dnnl::algorithm::binary_add, md, md, md), engine()));
  });
}

}  // namespace

Tensor add_blocked(const Tensor& a, const Tensor& b) {
  if (!enabled() || !operand_ok(a) || !operand_ok(b) || a.sizes() != b.sizes() || a.dim() != 4)
    return Tensor();
  auto ba = blocked_of(a);
  auto bb = blocked_of(b);
  if (!ba && !bb) return Tensor();
  const dnnl::memory::desc md = ba ? ba->desc : bb->desc;
  // The operand that is not in md is reordered into a scratch slot; the lock guards the slot.
  std::lock_guard<std::mutex> lock(scratch_mutex());
  const dnnl::memory am = in_layout(a, md, Slot::Src);
  const dnnl::memory bm = in_layout(b, md, Slot::DiffDst);
  Tensor buffer = blocked_buffer(md);
  Tensor y = deferred(a.sizes(), cpu::same_layout_strides(a), md, buffer);
  add_prim(md).execute(stream(), {{DNNL_ARG_SRC_0, am},
                                  {DNNL_ARG_SRC_1, bm},
                                  {DNNL_ARG_DST, dnnl::memory(md, engine(), buffer.raw_data())}});
  stream().wait();
  return y;
}

}  // namespace retort::onednn
