// oneDNN int8 convolution and matmul (see int8.h). The output scales are compile-time attributes
// of the primitive (oneDNN 2.6 has no int8 convolution with run-time scales on x64, and its matmul
// with them falls back from the brgemm kernel to a slower gemm), so each layer keeps its own
// primitives, one per input shape, with its weights reordered once into the layout each chose
// (Int8Layer::prepared). oneDNN 2.6 adds the bias before the output scale
// (dst = scale·(Σ src·wei + bias)), while Int8Layer adds it after, so the bias is given as
// bias/scale.
#include "tensor/onednn/int8.h"

#include <map>
#include <mutex>
#include <string>

#include "tensor/onednn/common.h"
#include "tensor/views.h"

namespace retort::onednn {
namespace {

using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;

struct Plan {
  dnnl::primitive prim;
  dnnl::memory weights;
};

struct Prepared {
  std::mutex mu;
  std::vector<float> bias_over_scale;
  dnnl::memory bias;
  std::map<std::string, Plan> plans;  // by input shape
};

dnnl::primitive_attr int8_attr(const ops::Int8Layer& l) {
  dnnl::primitive_attr attr;
  attr.set_output_scales(1 << 1, l.scale);
  if (l.relu) {
    dnnl::post_ops po;
    po.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
    attr.set_post_ops(po);
  }
  return attr;
}

Prepared& prepared(const ops::Int8Layer& l, const dnnl::memory::desc& bias_desc) {
  if (!l.prepared) {
    auto p = std::make_shared<Prepared>();
    for (std::size_t o = 0; o < l.bias.size(); ++o) p->bias_over_scale.push_back(l.bias[o] / l.scale[o]);
    p->bias = dnnl::memory(bias_desc, engine(), p->bias_over_scale.data());
    l.prepared = p;
  }
  return *std::static_pointer_cast<Prepared>(l.prepared);
}

// The layer's weights (layout `user`) reordered into the primitive's layout `want`.
dnnl::memory reordered_weights(const ops::Int8Layer& l, const dnnl::memory::desc& user,
                               const dnnl::memory::desc& want) {
  dnnl::memory src(user, engine(), const_cast<std::int8_t*>(l.weight.data()));
  dnnl::memory dst(want, engine());
  dnnl::reorder(src, dst).execute(stream(), src, dst);
  stream().wait();
  return dst;
}

}  // namespace

Tensor int8_conv2d(const std::vector<std::uint8_t>& x, std::int64_t n, std::int64_t h, std::int64_t w,
                   const ops::Int8Layer& l) {
  const std::int64_t oh = (h - l.kernel_h) / l.stride_h + 1, ow = (w - l.kernel_w) / l.stride_w + 1;
  dnnl::memory::desc src({n, l.in_channels, h, w}, dt::u8, tag::nhwc);
  dnnl::memory::desc bia({l.out_channels}, dt::f32, tag::x);
  dnnl::memory::desc dst_nhwc({n, l.out_channels, oh, ow}, dt::f32, tag::nhwc);
  Prepared& p = prepared(l, bia);
  std::lock_guard<std::mutex> lock(p.mu);
  std::string key;
  for (auto v : {n, h, w}) key_add(key, v);
  auto it = p.plans.find(key);
  if (it == p.plans.end()) {
    try {
      dnnl::memory::desc wei({l.out_channels, l.in_channels, l.kernel_h, l.kernel_w}, dt::s8, tag::any);
      dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
                                        src, wei, bia, dst_nhwc, {l.stride_h, l.stride_w}, {0, 0}, {0, 0});
      dnnl::convolution_forward::primitive_desc pd(d, int8_attr(l), engine());
      dnnl::memory::desc user({l.out_channels, l.in_channels, l.kernel_h, l.kernel_w}, dt::s8, tag::oihw);
      it = p.plans.emplace(key, Plan{dnnl::convolution_forward(pd), reordered_weights(l, user, pd.weights_desc())})
               .first;
    } catch (const dnnl::error&) {
      return Tensor();
    }
  }
  const Plan& plan = it->second;
  // Written channels-last and returned as its NCHW view (strides of NHWC): the next layer's
  // quantize_u8 reads that layout directly and oneDNN's pooling takes it as it is.
  Tensor y = empty({n, oh, ow, l.out_channels});
  dnnl::memory out(dst_nhwc, engine(), y.data<float>());
  dnnl::memory in(src, engine(), const_cast<std::uint8_t*>(x.data()));
  plan.prim.execute(stream(), {{DNNL_ARG_SRC, in}, {DNNL_ARG_WEIGHTS, plan.weights}, {DNNL_ARG_BIAS, p.bias},
                               {DNNL_ARG_DST, out}});
  stream().wait();
  return ops::permute(y, {0, 3, 1, 2});
}

Tensor int8_linear(const std::vector<std::uint8_t>& x, std::int64_t m, const ops::Int8Layer& l) {
  const std::int64_t k = l.in_channels, oc = l.out_channels;
  dnnl::memory::desc src({m, k}, dt::u8, tag::ab);
  dnnl::memory::desc bia({1, oc}, dt::f32, tag::ab);
  dnnl::memory::desc dst({m, oc}, dt::f32, tag::ab);
  Prepared& p = prepared(l, bia);
  std::lock_guard<std::mutex> lock(p.mu);
  std::string key;
  key_add(key, m);
  auto it = p.plans.find(key);
  if (it == p.plans.end()) {
    try {
      dnnl::memory::desc wei({k, oc}, dt::s8, tag::any);
      dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src, wei, bia, dst), int8_attr(l), engine());
      // The layer's [OC, K] row-major weight is the [K, OC] matrix in column-major ("ba") order.
      dnnl::memory::desc user({k, oc}, dt::s8, tag::ba);
      it = p.plans.emplace(key, Plan{dnnl::matmul(pd), reordered_weights(l, user, pd.weights_desc())}).first;
    } catch (const dnnl::error&) {
      return Tensor();
    }
  }
  const Plan& plan = it->second;
  Tensor y = empty({m, oc});
  dnnl::memory out(dst, engine(), y.data<float>());
  dnnl::memory in(src, engine(), const_cast<std::uint8_t*>(x.data()));
  plan.prim.execute(stream(), {{DNNL_ARG_SRC, in}, {DNNL_ARG_WEIGHTS, plan.weights}, {DNNL_ARG_BIAS, p.bias},
                               {DNNL_ARG_DST, out}});
  stream().wait();
  return y;
}

}  // namespace retort::onednn
