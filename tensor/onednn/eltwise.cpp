// oneDNN eltwise fast path (see eltwise.h). An elementwise map does not care about dim order, so
// operands that share one dense layout are handed to oneDNN as flat 1-D arrays of numel floats:
// one primitive per (kind, numel) serves NCHW, channels-last and every other dense layout alike.
// The activations whose derivative is a function of the output use the *_use_dst_for_bwd
// algorithms, so backward needs only y (the input can be freed after the forward).
#include "tensor/onednn/eltwise.h"

#include "tensor/cpu/elementwise.h"
#include "tensor/onednn/blocked.h"

namespace retort::onednn {

namespace {

using dnnl::algorithm;

algorithm alg_of(Eltwise k) {
  switch (k) {
    case Eltwise::Relu: return algorithm::eltwise_relu_use_dst_for_bwd;
    case Eltwise::Sigmoid: return algorithm::eltwise_logistic_use_dst_for_bwd;
    case Eltwise::Tanh: return algorithm::eltwise_tanh_use_dst_for_bwd;
    case Eltwise::Exp: return algorithm::eltwise_exp_use_dst_for_bwd;
    case Eltwise::Log: return algorithm::eltwise_log;
    case Eltwise::Sqrt: return algorithm::eltwise_sqrt_use_dst_for_bwd;
    case Eltwise::Abs: return algorithm::eltwise_abs;
  }
  return algorithm::eltwise_relu;
}

// Backward reads the forward output for the *_use_dst_for_bwd kinds, else the input.
bool uses_dst(Eltwise k) { return k != Eltwise::Log && k != Eltwise::Abs; }

// Every operand float32, dense, of one shape, with identical element placement (strides of size-1
// dims may differ: they address nothing).
bool flat_compatible(std::initializer_list<const Tensor*> ts) {
  const Tensor& first = **ts.begin();
  for (const Tensor* t : ts) {
    if (!t->defined() || t->dtype() != kFloat32 || !t->device().is_cpu()) return false;
    if (t->sizes() != first.sizes() || !cpu::is_dense(*t)) return false;
    for (std::int64_t i = 0; i < t->dim(); ++i)
      if (t->size(i) != 1 && t->stride(i) != first.stride(i)) return false;
  }
  return first.numel() > 0;
}

dnnl::memory::desc flat_desc(std::int64_t n) {
  return dnnl::memory::desc({n}, dnnl::memory::data_type::f32, dnnl::memory::format_tag::a);
}

dnnl::eltwise_forward::primitive_desc forward_pd(Eltwise k, const dnnl::memory::desc& md) {
  using F = dnnl::eltwise_forward;
  return F::primitive_desc(F::desc(dnnl::prop_kind::forward_training, alg_of(k), md, 0.f, 0.f),
                           engine());
}

std::string key_of(const char* what, Eltwise k, const dnnl::memory::desc& md) {
  std::string key = what;
  key_add(key, static_cast<std::int64_t>(k));
  return key + desc_key(md);
}

// The primitives for one kind and one layout md (flat, or a blocked layout), created once.
dnnl::eltwise_forward& forward_prim(Eltwise k, const dnnl::memory::desc& md) {
  return cached<dnnl::eltwise_forward>(key_of("eltwise_fwd:", k, md),
                                       [&] { return dnnl::eltwise_forward(forward_pd(k, md)); });
}

dnnl::eltwise_backward& backward_prim(Eltwise k, const dnnl::memory::desc& md) {
  return cached<dnnl::eltwise_backward>(key_of("eltwise_bwd:", k, md), [&] {
    using B = dnnl::eltwise_backward;
    return B(B::primitive_desc(B::desc(alg_of(k), md, md, 0.f, 0.f), engine(), forward_pd(k, md)));
  });
}

void run_forward(Eltwise k, const dnnl::memory& x, const dnnl::memory& y) {
  forward_prim(k, x.get_desc()).execute(stream(), {{DNNL_ARG_SRC, x}, {DNNL_ARG_DST, y}});
  stream().wait();
}

void run_backward(Eltwise k, const dnnl::memory& g, const dnnl::memory& saved,
                  const dnnl::memory& gx) {
  backward_prim(k, g.get_desc())
      .execute(stream(), {{uses_dst(k) ? DNNL_ARG_DST : DNNL_ARG_SRC, saved},
                          {DNNL_ARG_DIFF_DST, g},
                          {DNNL_ARG_DIFF_SRC, gx}});
  stream().wait();
}

}  // namespace

bool eltwise_forward(Eltwise k, const Tensor& x, const Tensor& y) {
  if (!enabled() || !flat_compatible({&x, &y})) return false;
  const auto md = flat_desc(x.numel());
  run_forward(k, memory_of(md, x), memory_of(md, y));
  return true;
}

bool eltwise_backward(Eltwise k, const Tensor& g, const Tensor& saved, const Tensor& gx) {
  if (!enabled() || !flat_compatible({&g, &saved, &gx})) return false;
  const auto md = flat_desc(g.numel());
  run_backward(k, memory_of(md, g), memory_of(md, saved), memory_of(md, gx));
  return true;
}

Tensor eltwise_forward_blocked(Eltwise k, const Tensor& x) {
  auto bx = enabled() ? blocked_of(x) : nullptr;
  if (!bx) return Tensor();
  Tensor buffer = blocked_buffer(bx->desc);
  Tensor y = deferred(x.sizes(), x.strides(), bx->desc, buffer);
  run_forward(k, bx->memory(), dnnl::memory(bx->desc, engine(), buffer.raw_data()));
  return y;
}

Tensor eltwise_backward_blocked(Eltwise k, const Tensor& g, const Tensor& saved) {
  auto bg = enabled() ? blocked_of(g) : nullptr;
  auto bs = bg ? blocked_of(saved) : nullptr;
  if (!bs || bg->desc != bs->desc) return Tensor();
  Tensor buffer = blocked_buffer(bs->desc);
  Tensor gx = deferred(saved.sizes(), saved.strides(), bs->desc, buffer);
  run_backward(k, bg->memory(), bs->memory(), dnnl::memory(bs->desc, engine(), buffer.raw_data()));
  return gx;
}

Tensor eltwise_forward_any(Eltwise k, const Tensor& x) {
  if (!enabled() || !x.device().is_cpu() || x.dtype() != kFloat32 || !cpu::is_dense(x))
    return Tensor();
  if (Tensor y = eltwise_forward_blocked(k, x); y.defined()) return y;
  Tensor y = cpu::empty_same_layout(x, kFloat32);
  return eltwise_forward(k, x, y) ? y : Tensor();
}

namespace {
bool backward_applies(const Tensor& g, const Tensor& saved) {
  return enabled() && g.device().is_cpu() && saved.device().is_cpu() && g.dtype() == kFloat32 &&
         saved.dtype() == kFloat32 && g.sizes() == saved.sizes() && g.strides() == saved.strides() &&
         cpu::is_dense(saved);
}
}  // namespace

Tensor eltwise_backward_any(Eltwise k, const Tensor& g, const Tensor& saved) {
  if (!backward_applies(g, saved)) return Tensor();
  if (Tensor gx = eltwise_backward_blocked(k, g, saved); gx.defined()) return gx;
  Tensor gx = cpu::empty_same_layout(saved, kFloat32);
  return eltwise_backward(k, g, saved, gx) ? gx : Tensor();
}

// In place: oneDNN's eltwise backward may write diff_src over diff_dst. Writing into memory that
// is already cached and owned saves a third of the traffic and a fresh buffer's page faults: on
// the teacher's 128x128x32x32 relu, 3.6 ms instead of 5.7 (warm buffer) or 7.0 (fresh one).
Tensor eltwise_backward_over(Eltwise k, const Tensor& g, const Tensor& saved) {
  const auto sole = [](const Tensor& t) {
    return t.impl().use_count() == 1 && t.impl()->storage.use_count() == 1;
  };
  if (!g.defined() || !sole(g) || !backward_applies(g, saved)) return Tensor();
  if (auto bg = blocked_of(g)) {
    auto bs = blocked_of(saved);
    // bg is held by g's storage and here; a third holder could read the buffer later.
    if (!bs || bg->desc != bs->desc || bg.use_count() > 2 || !sole(bg->buffer)) return Tensor();
    run_backward(k, bg->memory(), bs->memory(), bg->memory());
    return deferred(saved.sizes(), saved.strides(), bs->desc, bg->buffer);
  }
  if (!flat_compatible({&g, &saved})) return Tensor();
  const auto md = flat_desc(g.numel());
  const dnnl::memory gm = memory_of(md, g);
  run_backward(k, gm, memory_of(md, saved), gm);
  return g;
}

}  // namespace retort::onednn
