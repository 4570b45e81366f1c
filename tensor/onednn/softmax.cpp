// Primitives are cached by layout, axis and kind. The backward primitive needs a forward primitive
// desc as its hint; it is rebuilt inside the cached factory, so it costs nothing per step.
#include "tensor/onednn/softmax.h"

#include "tensor/onednn/common.h"
#include "tensor/onednn/strided.h"

namespace retort::onednn {

namespace {

struct SoftmaxPrim {
  dnnl::memory::desc md;
  dnnl::primitive prim;
};

dnnl::algorithm alg(bool log) { return log ? dnnl::algorithm::softmax_log : dnnl::algorithm::softmax_accurate; }

dnnl::softmax_v2_forward::primitive_desc forward_pd(const dnnl::memory::desc& md, int axis, bool log) {
  using F = dnnl::softmax_v2_forward;
  return F::primitive_desc(F::desc(dnnl::prop_kind::forward_training, alg(log), md, md, axis), engine());
}

std::string key_of(const char* what, const Tensor& t, int axis, bool log) {
  std::string key = what;
  key_add_layout(key, t);
  key_add(key, axis);
  key_add(key, log ? 1 : 0);
  return key;
}

}  // namespace

void softmax_forward(const Tensor& x, const Tensor& y, int axis, bool log) {
  auto& p = cached<SoftmaxPrim>(key_of("softmax_fwd:", x, axis, log), [&] {
    SoftmaxPrim r;
    r.md = canonical_desc(x);
    r.prim = dnnl::softmax_v2_forward(forward_pd(r.md, axis, log));
    return r;
  });
  p.prim.execute(stream(), {{DNNL_ARG_SRC, memory_of(p.md, x)}, {DNNL_ARG_DST, memory_of(p.md, y)}});
  stream().wait();
}

void softmax_backward(const Tensor& g, const Tensor& y, const Tensor& gx, int axis, bool log) {
  auto& p = cached<SoftmaxPrim>(key_of("softmax_bwd:", y, axis, log), [&] {
    using B = dnnl::softmax_v2_backward;
    SoftmaxPrim r;
    r.md = canonical_desc(y);
    r.prim = B(B::primitive_desc(B::desc(alg(log), r.md, r.md, r.md, axis), engine(), forward_pd(r.md, axis, log)));
    return r;
  });
  p.prim.execute(stream(), {{DNNL_ARG_DST, memory_of(p.md, y)},
                            {DNNL_ARG_DIFF_DST, memory_of(p.md, g)},
                            {DNNL_ARG_DIFF_SRC, memory_of(p.md, gx)}});
  stream().wait();
}

}  // namespace retort::onednn
