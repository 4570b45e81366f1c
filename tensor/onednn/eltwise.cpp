// oneDNN eltwise fast path (see eltwise.h). An elementwise map does not care about dim order, so
// operands that share one dense layout are handed to oneDNN as flat 1-D arrays of numel floats:
// one primitive per (kind, numel) serves NCHW, channels-last and every other dense layout alike.
// The activations whose derivative is a function of the output use the *_use_dst_for_bwd
// algorithms, so backward needs only y (the input can be freed after the forward).
#include "tensor/onednn/eltwise.h"

#include "tensor/cpu/elementwise.h"
#include "tensor/onednn/common.h"

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

dnnl::eltwise_forward::primitive_desc forward_pd(Eltwise k, std::int64_t n) {
  using F = dnnl::eltwise_forward;
  return F::primitive_desc(F::desc(dnnl::prop_kind::forward_training, alg_of(k), flat_desc(n), 0.f, 0.f),
                           engine());
}

std::string key_of(const char* what, Eltwise k, std::int64_t n) {
  std::string key = what;
  key_add(key, static_cast<std::int64_t>(k));
  key_add(key, n);
  return key;
}

}  // namespace

bool eltwise_forward(Eltwise k, const Tensor& x, const Tensor& y) {
  if (!enabled() || !flat_compatible({&x, &y})) return false;
  const std::int64_t n = x.numel();
  auto& prim = cached<dnnl::eltwise_forward>(key_of("eltwise_fwd:", k, n),
                                             [&] { return dnnl::eltwise_forward(forward_pd(k, n)); });
  const auto md = flat_desc(n);
  prim.execute(stream(), {{DNNL_ARG_SRC, memory_of(md, x)}, {DNNL_ARG_DST, memory_of(md, y)}});
  stream().wait();
  return true;
}

bool eltwise_backward(Eltwise k, const Tensor& g, const Tensor& saved, const Tensor& gx) {
  if (!enabled() || !flat_compatible({&g, &saved, &gx})) return false;
  const std::int64_t n = g.numel();
  auto& prim = cached<dnnl::eltwise_backward>(key_of("eltwise_bwd:", k, n), [&] {
    using B = dnnl::eltwise_backward;
    const auto md = flat_desc(n);
    return B(B::primitive_desc(B::desc(alg_of(k), md, md, 0.f, 0.f), engine(), forward_pd(k, n)));
  });
  const auto md = flat_desc(n);
  prim.execute(stream(), {{uses_dst(k) ? DNNL_ARG_DST : DNNL_ARG_SRC, memory_of(md, saved)},
                          {DNNL_ARG_DIFF_DST, memory_of(md, g)},
                          {DNNL_ARG_DIFF_SRC, memory_of(md, gx)}});
  stream().wait();
  return true;
}

}  // namespace retort::onednn
