// Primitives are cached by x's layout, eps and mode. The affine parameters go in as separate scale
// and shift (oneDNN 2.6's use_scale | use_shift), so γ, β and their gradients are plain [C]
// tensors, no packing into a [2, C] buffer.
#include "tensor/onednn/batch_norm.h"

#include "tensor/onednn/common.h"
#include "tensor/onednn/strided.h"

namespace retort::onednn {

namespace {

using dnnl::normalization_flags;
using Fwd = dnnl::batch_normalization_forward;
using Bwd = dnnl::batch_normalization_backward;

struct BnPrim {
  dnnl::memory::desc data, stat;
  dnnl::primitive prim;
};

normalization_flags flags(bool global_stats) {
  auto f = normalization_flags::use_scale | normalization_flags::use_shift;
  return global_stats ? f | normalization_flags::use_global_stats : f;
}

Fwd::primitive_desc forward_pd(const dnnl::memory::desc& data, double eps, dnnl::prop_kind prop, bool global) {
  return Fwd::primitive_desc(Fwd::desc(prop, data, static_cast<float>(eps), flags(global)), engine());
}

std::string key_of(const char* what, const Tensor& x, double eps) {
  std::string key = what;
  key_add_layout(key, x);
  key += std::to_string(eps);
  return key;
}

dnnl::memory::desc stat_desc(std::int64_t C) {
  return dnnl::memory::desc({C}, dnnl::memory::data_type::f32, dnnl::memory::format_tag::a);
}

// Forward primitive for one mode: training (batch stats out) or inference (given stats in).
BnPrim& forward_prim(const Tensor& x, double eps, bool training) {
  return cached<BnPrim>(key_of(training ? "bn_fwd_train:" : "bn_fwd_eval:", x, eps), [&] {
    BnPrim r;
    r.data = canonical_desc(x);
    r.stat = stat_desc(x.size(1));
    r.prim = Fwd(forward_pd(r.data, eps, training ? dnnl::prop_kind::forward_training
                                                  : dnnl::prop_kind::forward_inference, !training));
    return r;
  });
}

}  // namespace

void batch_norm_forward_training(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                 const Tensor& y, const Tensor& mean, const Tensor& var, double eps) {
  BnPrim& p = forward_prim(x, eps, true);
  p.prim.execute(stream(), {{DNNL_ARG_SRC, memory_of(p.data, x)},
                            {DNNL_ARG_DST, memory_of(p.data, y)},
                            {DNNL_ARG_SCALE, memory_of(p.stat, weight)},
                            {DNNL_ARG_SHIFT, memory_of(p.stat, bias)},
                            {DNNL_ARG_MEAN, memory_of(p.stat, mean)},
                            {DNNL_ARG_VARIANCE, memory_of(p.stat, var)}});
  stream().wait();
}

void batch_norm_forward_inference(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                  const Tensor& mean, const Tensor& var, const Tensor& y, double eps) {
  BnPrim& p = forward_prim(x, eps, false);
  p.prim.execute(stream(), {{DNNL_ARG_SRC, memory_of(p.data, x)},
                            {DNNL_ARG_DST, memory_of(p.data, y)},
                            {DNNL_ARG_SCALE, memory_of(p.stat, weight)},
                            {DNNL_ARG_SHIFT, memory_of(p.stat, bias)},
                            {DNNL_ARG_MEAN, memory_of(p.stat, mean)},
                            {DNNL_ARG_VARIANCE, memory_of(p.stat, var)}});
  stream().wait();
}

void batch_norm_backward(const Tensor& g, const Tensor& x, const Tensor& weight, const Tensor& mean,
                         const Tensor& var, const Tensor& gx, const Tensor& gweight,
                         const Tensor& gbias, double eps, bool training) {
  auto& p = cached<BnPrim>(key_of(training ? "bn_bwd_train:" : "bn_bwd_eval:", x, eps), [&] {
    BnPrim r;
    r.data = canonical_desc(x);
    r.stat = stat_desc(x.size(1));
    // With constant statistics (eval) the derivative drops the batch-statistics terms; oneDNN
    // expresses that as use_global_stats on both the hint and the backward primitive.
    auto hint = forward_pd(r.data, eps, dnnl::prop_kind::forward_training, !training);
    r.prim = Bwd(Bwd::primitive_desc(
        Bwd::desc(dnnl::prop_kind::backward, r.data, r.data, static_cast<float>(eps), flags(!training)),
        engine(), hint));
    return r;
  });
  // oneDNN 2.6 insists on a shift argument whenever use_shift is set, although the gradients do
  // not depend on it.
  Tensor shift = zeros({x.size(1)}, kFloat32);
  p.prim.execute(stream(), {{DNNL_ARG_SRC, memory_of(p.data, x)},
                            {DNNL_ARG_DIFF_DST, memory_of(p.data, g)},
                            {DNNL_ARG_SCALE, memory_of(p.stat, weight)},
                            {DNNL_ARG_SHIFT, memory_of(p.stat, shift)},
                            {DNNL_ARG_MEAN, memory_of(p.stat, mean)},
                            {DNNL_ARG_VARIANCE, memory_of(p.stat, var)},
                            {DNNL_ARG_DIFF_SRC, memory_of(p.data, gx)},
                            {DNNL_ARG_DIFF_SCALE, memory_of(p.stat, gweight)},
                            {DNNL_ARG_DIFF_SHIFT, memory_of(p.stat, gbias)}});
  stream().wait();
}

}  // namespace retort::onednn
