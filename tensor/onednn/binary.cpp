// oneDNN binary add on blocked layouts (see binary.h). Without it a residual sum read both
// branches' plain bytes, which reordered both blocked results to NCHW, and its plain result was
// reordered back to the blocked layout by the next convolution: in a resnet8x4 step about a
// tenth of the oneDNN time went to those reorders. The padding channels of the blocked layouts
// are zero in both operands, so they stay zero in the sum (and in its relu).
#include "tensor/onednn/binary.h"

#include <string>

#include "tensor/cpu/elementwise.h"
#include "tensor/onednn/blocked.h"
#include "tensor/onednn/layout.h"

namespace retort::onednn {

namespace {

bool operand_ok(const Tensor& t) {
  return t.defined() && t.device().is_cpu() && t.dtype() == kFloat32 && cpu::is_dense(t);
}

dnnl::binary& add_prim(const dnnl::memory::desc& md, bool relu) {
  const std::string key = std::string(relu ? "binary_add_relu:" : "binary_add:") + desc_key(md);
  return cached<dnnl::binary>(key, [&] {
    dnnl::primitive_attr attr;
    if (relu) {
      dnnl::post_ops ops;
      ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
      attr.set_post_ops(ops);
    }
    return dnnl::binary(dnnl::binary::primitive_desc(
        dnnl::binary::desc(dnnl::algorithm::binary_add, md, md, md), attr, engine()));
  });
}

}  // namespace

Tensor add_blocked(const Tensor& a, const Tensor& b, bool relu) {
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
  const dnnl::memory ym(md, engine(), buffer.raw_data());
  add_prim(md, relu).execute(stream(), {{DNNL_ARG_SRC_0, am}, {DNNL_ARG_SRC_1, bm}, {DNNL_ARG_DST, ym}});
  stream().wait();
  return y;
}

}  // namespace retort::onednn
