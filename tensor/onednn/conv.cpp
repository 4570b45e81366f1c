// Convolution on oneDNN. Each direction (forward, backward-data, backward-weights) has a plan —
// primitive desc + primitive — cached by shapes and params, created with format_tag::any so
// oneDNN picks its fastest (blocked) layouts; user tensors are wrapped with their real strides and
// reordered only when they differ. Winograd is used where it wins on this kind of machine (3x3,
// stride 1, many channels: about 2x the direct kernels, even after the layout reorders it needs);
// the direction's plan falls back to direct convolution when oneDNN has no Winograd kernel.
// Backward-weights of such a layer goes to our own Winograd kernel (winograd.h) when it applies.
#include "tensor/onednn/conv.h"

#include <unordered_map>

#include "tensor/cpu/elementwise.h"
#include "tensor/onednn/blocked.h"
#include "tensor/onednn/conv_dw.h"
#include "tensor/onednn/strided.h"
#include "tensor/onednn/winograd.h"

namespace retort::onednn {

namespace {

using dnnl::memory;
using Args = std::unordered_map<int, memory>;
namespace dn = dnnl;

// The convolution in oneDNN's terms. oneDNN counts dilation from 0 and wants the right padding
// that makes its output size formula give the floor-mode size (negative when the last input
// rows are never read, which oneDNN accepts).
struct Geometry {
  memory::dims src, wei, bias, dst, strides, dilates, pad_l, pad_r;
  bool winograd = false;
};

Geometry geometry(const Shape& x, const Shape& w, const ops::Conv2dParams& p) {
  Geometry g;
  const std::int64_t G = p.groups, O = w[0];
  Shape y{x[0], O, 0, 0};
  for (int d = 0; d < 2; ++d) {
    const std::int64_t span = p.dilation[d] * (w[2 + d] - 1) + 1;
    y[2 + d] = (x[2 + d] + 2 * p.padding[d] - span) / p.stride[d] + 1;
    g.strides.push_back(p.stride[d]);
    g.dilates.push_back(p.dilation[d] - 1);
    g.pad_l.push_back(p.padding[d]);
    g.pad_r.push_back((y[2 + d] - 1) * p.stride[d] + span - x[2 + d] - p.padding[d]);
  }
  g.src = dims_of(x);
  g.dst = dims_of(y);
  g.bias = {O};
  g.wei = G == 1 ? dims_of(w) : memory::dims{G, O / G, w[1], w[2], w[3]};
  // Winograd F(4x4,3x3) beats the direct kernels by ~2x once both channel counts fill a 16-lane
  // block a few times over. It still wins with a single 4x4 output tile per image (vgg's 512-channel
  // 4x4 stages: a train step 15-20% faster); a 2x2 map would waste most of its 6x6 tile.
  g.winograd = w[2] == 3 && w[3] == 3 && G == 1 && p.stride == std::array<std::int64_t, 2>{1, 1} &&
               p.dilation == std::array<std::int64_t, 2>{1, 1} && x[1] >= 32 && O >= 32 &&
               y[2] >= 4 && y[3] >= 4;
  return g;
}

memory::desc any(const memory::dims& d) {
  return memory::desc(d, memory::data_type::f32, memory::format_tag::any);
}

std::string plan_key(const char* dir, const Tensor& x, const Tensor& w, bool bias,
                     const ops::Conv2dParams& p) {
  std::string key = std::string("conv2d:") + dir;
  key_add(key, x.sizes());
  key_add(key, w.sizes());
  for (int d = 0; d < 2; ++d) {
    key_add(key, p.stride[d]);
    key_add(key, p.padding[d]);
    key_add(key, p.dilation[d]);
  }
  key_add(key, p.groups);
  key_add(key, bias ? 1 : 0);
  return key;
}

// make(algorithm) with Winograd when the geometry asks for it and oneDNN has it, else direct.
template <class F>
auto with_algorithm(const Geometry& g, F make) {
  if (g.winograd) {
    try {
      return make(dn::algorithm::convolution_winograd);
    } catch (const dn::error&) {
    }
  }
  return make(dn::algorithm::convolution_direct);
}

dn::convolution_forward::primitive_desc forward_pd(const Geometry& g, dn::algorithm a, bool bias,
                                                   bool relu = false) {
  using F = dn::convolution_forward;
  auto prop = dn::prop_kind::forward_training;
  auto d = bias ? F::desc(prop, a, any(g.src), any(g.wei), any(g.bias), any(g.dst), g.strides,
                          g.dilates, g.pad_l, g.pad_r)
                : F::desc(prop, a, any(g.src), any(g.wei), any(g.dst), g.strides, g.dilates,
                          g.pad_l, g.pad_r);
  dn::primitive_attr attr;
  if (relu) {
    dn::post_ops ops;
    ops.append_eltwise(1.f, dn::algorithm::eltwise_relu, 0.f, 0.f);
    attr.set_post_ops(ops);
  }
  return F::primitive_desc(d, attr, engine());
}

struct ForwardPlan {
  dn::convolution_forward::primitive_desc pd;
  dn::convolution_forward prim;
};
struct DataPlan {
  dn::convolution_backward_data::primitive_desc pd;
  dn::convolution_backward_data prim;
};
struct WeightsPlan {
  dn::convolution_backward_weights::primitive_desc pd;
  dn::convolution_backward_weights prim;
};

// w as it lies in memory; grouped weights [O, C/G, KH, KW] are viewed as [G, O/G, C/G, KH, KW].
memory weights_memory(const Tensor& w, const Geometry& g, std::int64_t groups) {
  Shape st = canonical_strides(w.sizes(), w.strides());
  if (groups > 1) st.insert(st.begin(), st[0] * (w.size(0) / groups));
  return memory(memory::desc(g.wei, memory::data_type::f32, dims_of(st)), engine(), w.raw_data());
}

}  // namespace

Tensor conv2d_forward(const Tensor& x_in, const Tensor& w_in, const Tensor& bias,
                      const ops::Conv2dParams& p, ops::Conv2dSaved* saved, bool relu) {
  std::lock_guard<std::mutex> lock(scratch_mutex());
  Tensor w = dense_or_packed(w_in);
  Tensor b = bias.defined() ? bias.contiguous() : Tensor();
  const Geometry g = geometry(x_in.sizes(), w.sizes(), p);
  auto& plan = cached<ForwardPlan>(plan_key(relu ? "fwd_relu" : "fwd", x_in, w, b.defined(), p), [&] {
    auto pd =
        with_algorithm(g, [&](dn::algorithm a) { return forward_pd(g, a, b.defined(), relu); });
    return ForwardPlan{pd, dn::convolution_forward(pd)};
  });
  const Shape ysz(g.dst.begin(), g.dst.end());
  Result y = result_in(plan.pd.dst_desc(), ysz, contiguous_strides(ysz));
  // x in the primitive's layout: a blocked result of the previous layer as it is, x itself when
  // its plain layout is the one, else a reordered copy the backward can reuse. (bx and x keep
  // the memory xm views alive until the primitive has run.)
  const memory::desc want = plan.pd.src_desc();
  auto bx = blocked_of(x_in);
  if (bx && bx->desc != want) bx = nullptr;
  const Tensor x = bx ? Tensor() : readable_or_packed(x_in);
  memory xm = bx ? bx->memory() : memory(canonical_desc(x), engine(), x.raw_data());
  if (bx && saved) *saved = std::make_shared<ConvSaved>(ConvSaved{want, bx->buffer});
  if (!bx && xm.get_desc() != want) {
    if (saved) {
      Tensor buffer = blocked_buffer(want);
      memory copy(want, engine(), buffer.raw_data());
      reorder(xm, copy);
      xm = copy;
      *saved = std::make_shared<ConvSaved>(ConvSaved{want, buffer});
    } else {
      xm = in_layout(xm, want, Slot::Src);
    }
  }
  Args args{{DNNL_ARG_SRC, xm},
            {DNNL_ARG_WEIGHTS,
             in_layout(weights_memory(w, g, p.groups), plan.pd.weights_desc(), Slot::Weights)},
            {DNNL_ARG_DST, y.mem}};
  if (b.defined())
    args.emplace(DNNL_ARG_BIAS, in_layout(b, plan.pd.bias_desc(), Slot::DiffWeights));
  plan.prim.execute(stream(), args);
  stream().wait();
  return y.tensor;
}

ops::Conv2dGrads conv2d_backward(const Tensor& gy_in, const Tensor& x_in, const Tensor& w_in,
                                 const ops::Conv2dGradMask& mask, const ops::Conv2dParams& p,
                                 const ConvSaved* saved) {
  std::lock_guard<std::mutex> lock(scratch_mutex());
  const Geometry g = geometry(x_in.sizes(), w_in.sizes(), p);
  // Operands wrapped below must outlive the primitives' execution, hence named (gy_blocked keeps
  // gy's blocked copy alive even if gy's plain bytes get written meanwhile).
  const Tensor gy = readable_or_packed(gy_in);
  const auto gy_blocked = blocked_of(gy);
  ops::Conv2dGrads r;
  // gy in the backward-data layout, kept so backward-weights can reuse it when its layout agrees.
  memory gy_data;
  if (mask.input) {
    Tensor w = dense_or_packed(w_in);
    auto& plan = cached<DataPlan>(plan_key("bwd_data", x_in, w, false, p), [&] {
      auto pd = with_algorithm(g, [&](dn::algorithm a) {
        dn::convolution_backward_data::desc d(a, any(g.src), any(g.wei), any(g.dst), g.strides,
                                              g.dilates, g.pad_l, g.pad_r);
        return dn::convolution_backward_data::primitive_desc(d, engine(), forward_pd(g, a, false));
      });
      return DataPlan{pd, dn::convolution_backward_data(pd)};
    });
    Result gx = result_in(plan.pd.diff_src_desc(), x_in.sizes(), cpu::same_layout_strides(x_in));
    gy_data = in_layout(gy, plan.pd.diff_dst_desc(), Slot::DiffDst);
    plan.prim.execute(stream(),
                      {{DNNL_ARG_DIFF_DST, gy_data},
                       {DNNL_ARG_WEIGHTS, in_layout(weights_memory(w, g, p.groups),
                                                    plan.pd.weights_desc(), Slot::Weights)},
                       {DNNL_ARG_DIFF_SRC, gx.mem}});
    r.input = gx.tensor;
  }
  if (mask.weight && g.winograd && winograd_weights_supported(x_in.sizes(), w_in.sizes(), p)) {
    // Our Winograd backward-weights (winograd.h: 1.3x oneDNN's kernel on the teacher's layers)
    // reads x and gy in nChw16c, as the Winograd forward and backward-data primitives leave them.
    const memory::desc x16(g.src, memory::data_type::f32, memory::format_tag::nChw16c);
    const memory::desc gy16(g.dst, memory::data_type::f32, memory::format_tag::nChw16c);
    memory gym = gy_data && gy_data.get_desc() == gy16 ? gy_data
                                                       : in_layout(gy, gy16, Slot::DiffDst2);
    const Tensor x = saved && saved->desc == x16 ? Tensor() : readable_or_packed(x_in);
    memory xm = x.defined() ? in_layout(x, x16, Slot::Src)
                            : memory(saved->desc, engine(), saved->buffer.raw_data());
    r.weight = empty(w_in.sizes());
    if (mask.bias) r.bias = empty({w_in.size(0)});
    winograd_backward_weights(static_cast<const float*>(xm.get_data_handle()),
                              static_cast<const float*>(gym.get_data_handle()), x_in.sizes(),
                              w_in.size(0), r.weight.data<float>(),
                              mask.bias ? r.bias.data<float>() : nullptr);
  } else if (mask.weight) {
    auto& plan = cached<WeightsPlan>(plan_key("bwd_weights", x_in, w_in, mask.bias, p), [&] {
      auto pd = with_algorithm(g, [&](dn::algorithm a) {
        using B = dn::convolution_backward_weights;
        auto d = mask.bias ? B::desc(a, any(g.src), any(g.wei), any(g.bias), any(g.dst), g.strides,
                                     g.dilates, g.pad_l, g.pad_r)
                           : B::desc(a, any(g.src), any(g.wei), any(g.dst), g.strides, g.dilates,
                                     g.pad_l, g.pad_r);
        return B::primitive_desc(d, engine(), forward_pd(g, a, mask.bias));
      });
      return WeightsPlan{pd, dn::convolution_backward_weights(pd)};
    });
    const bool depthwise = p.groups > 1 && p.groups == x_in.size(1) && p.groups == w_in.size(0);
    if (depthwise && runs_on_gemm(plan.pd)) {
      // x's own bytes (not a scratch slot: the padded copy goes into one).
      const auto bx = saved ? nullptr : blocked_of(x_in);
      const Tensor xp = saved || bx ? Tensor() : readable_or_packed(x_in);
      const memory xsrc = saved ? memory(saved->desc, engine(), saved->buffer.raw_data())
                          : bx  ? bx->memory()
                                : memory(canonical_desc(xp), engine(), xp.raw_data());
      Tensor gw = empty(w_in.sizes()), gb = mask.bias ? empty({w_in.size(0)}) : Tensor();
      if (depthwise_weights_padded(xsrc, gy, x_in.sizes(), w_in.sizes(), p, gw, gb)) {
        r.weight = gw;
        r.bias = gb;
        return r;
      }
    }
    const memory::desc want = plan.pd.diff_dst_desc();
    memory gym = gy_data && gy_data.get_desc() == want
                     ? gy_data
                     : in_layout(gy, want, Slot::DiffDst2);
    r.weight = empty(w_in.sizes());
    memory gw_user = weights_memory(r.weight, g, p.groups);
    memory gwm = gw_user.get_desc() == plan.pd.diff_weights_desc()
                     ? gw_user
                     : slot_memory(Slot::DiffWeights, plan.pd.diff_weights_desc());
    const Tensor x =
        saved && saved->desc == plan.pd.src_desc() ? Tensor() : readable_or_packed(x_in);
    memory xm = x.defined() ? in_layout(x, plan.pd.src_desc(), Slot::Src)
                            : memory(saved->desc, engine(), saved->buffer.raw_data());
    Args args{{DNNL_ARG_DIFF_DST, gym}, {DNNL_ARG_SRC, xm}, {DNNL_ARG_DIFF_WEIGHTS, gwm}};
    if (mask.bias) {
      r.bias = empty({w_in.size(0)});
      args.emplace(DNNL_ARG_DIFF_BIAS, memory(plan.pd.diff_bias_desc(), engine(), r.bias.raw_data()));
    }
    plan.prim.execute(stream(), args);
    if (gwm.get_data_handle() != gw_user.get_data_handle()) reorder(gwm, gw_user);
  }
  stream().wait();
  return r;
}

}  // namespace retort::onednn
