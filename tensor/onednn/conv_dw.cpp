// Explicitly padded depthwise backward-weights (see conv_dw.h). The padded copy of x is a zeroed
// scratch slot whose interior is written by one reorder into a sub-memory, so a step allocates
// nothing; the primitive is cached per geometry like the other convolution plans.
#include "tensor/onednn/conv_dw.h"

#include <cstring>
#include <string>

#include "tensor/onednn/blocked.h"
#include "tensor/onednn/layout.h"

namespace retort::onednn {

namespace {

using dnnl::memory;
using B = dnnl::convolution_backward_weights;

memory::desc any(const memory::dims& d) {
  return memory::desc(d, memory::data_type::f32, memory::format_tag::any);
}

struct PaddedPlan {
  memory::dims padded_src;
  B::primitive_desc pd;
  B prim;
  bool usable = false;
};

PaddedPlan& plan_for(const Shape& xs, const Shape& ws, const ops::Conv2dParams& p, bool bias) {
  std::string key = "conv2d:dw_padded_bwd_weights";
  key_add(key, xs);
  key_add(key, ws);
  for (int d = 0; d < 2; ++d) {
    key_add(key, p.stride[d]);
    key_add(key, p.padding[d]);
  }
  key_add(key, bias ? 1 : 0);
  return cached<PaddedPlan>(key, [&] {
    const std::int64_t N = xs[0], C = xs[1], KH = ws[2], KW = ws[3];
    const std::int64_t H = xs[2] + 2 * p.padding[0], W = xs[3] + 2 * p.padding[1];
    const std::int64_t OH = (H - KH) / p.stride[0] + 1, OW = (W - KW) / p.stride[1] + 1;
    const memory::dims src{N, C, H, W}, wei{C, 1, 1, KH, KW}, dst{N, C, OH, OW};
    const memory::dims strides{p.stride[0], p.stride[1]}, zero{0, 0}, none{0, 0};
    // Right padding that makes oneDNN's size formula give the floor-mode size.
    const memory::dims pad_r{(OH - 1) * p.stride[0] + KH - H, (OW - 1) * p.stride[1] + KW - W};
    using F = dnnl::convolution_forward;
    auto alg = dnnl::algorithm::convolution_direct;
    auto fwd = bias ? F::desc(dnnl::prop_kind::forward_training, alg, any(src), any(wei), any({C}),
                              any(dst), strides, none, zero, pad_r)
                    : F::desc(dnnl::prop_kind::forward_training, alg, any(src), any(wei), any(dst),
                              strides, none, zero, pad_r);
    auto d = bias ? B::desc(alg, any(src), any(wei), any({C}), any(dst), strides, none, zero, pad_r)
                  : B::desc(alg, any(src), any(wei), any(dst), strides, none, zero, pad_r);
    B::primitive_desc pd(d, engine(), F::primitive_desc(fwd, engine()));
    PaddedPlan plan{src, pd, B(pd)};
    plan.usable = !runs_on_gemm(pd);
    return plan;
  });
}

}  // namespace

bool runs_on_gemm(const dnnl::primitive_desc_base& pd) {
  return std::string(pd.impl_info_str()).find("gemm") != std::string::npos;
}

bool depthwise_weights_padded(const memory& x, const Tensor& gy, const Shape& xs, const Shape& ws,
                              const ops::Conv2dParams& p, const Tensor& gw, const Tensor& gb) {
  if (p.padding[0] == 0 && p.padding[1] == 0) return false;
  if (p.dilation[0] != 1 || p.dilation[1] != 1) return false;
  PaddedPlan& plan = plan_for(xs, ws, p, gb.defined());
  if (!plan.usable) return false;
  // x into the middle of a zeroed padded buffer.
  const memory::desc src = plan.pd.src_desc();
  memory xpad = slot_memory(Slot::Src, src);
  std::memset(xpad.get_data_handle(), 0, src.get_size());
  const memory::desc inner = src.submemory_desc(dims_of(xs), {0, 0, p.padding[0], p.padding[1]});
  reorder(x, memory(inner, engine(), xpad.get_data_handle()));
  const Tensor gyd = readable_or_packed(gy);
  const memory gym = in_layout(gyd, plan.pd.diff_dst_desc(), Slot::DiffDst2);
  const memory gw_user(memory::desc({xs[1], 1, 1, ws[2], ws[3]}, memory::data_type::f32,
                                    memory::format_tag::goihw),
                       engine(), gw.raw_data());
  const bool direct = gw_user.get_desc() == plan.pd.diff_weights_desc();
  const memory gwm = direct ? gw_user : slot_memory(Slot::DiffWeights, plan.pd.diff_weights_desc());
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, xpad}, {DNNL_ARG_DIFF_DST, gym},
                                       {DNNL_ARG_DIFF_WEIGHTS, gwm}};
  if (gb.defined())
    args.emplace(DNNL_ARG_DIFF_BIAS, memory(plan.pd.diff_bias_desc(), engine(), gb.raw_data()));
  plan.prim.execute(stream(), args);
  if (!direct) reorder(gwm, gw_user);
  stream().wait();
  return true;
}

}  // namespace retort::onednn
