// Primitives are cached by the operands' sizes and (canonical) strides, so a training loop builds
// each distinct product once; every later call only wraps the tensors and executes.
#include "tensor/onednn/matmul.h"

#include <unordered_map>

#include "tensor/onednn/common.h"
#include "tensor/onednn/strided.h"

namespace retort::onednn {

namespace {

// t itself when oneDNN's GEMM kernels take its strides, else a packed copy. Without a unit stride
// in one of the two matrix dims oneDNN would fall back to its slow reference kernel.
Tensor gemm_ready(const Tensor& t) {
  const std::size_t nd = t.sizes().size();
  Shape st = canonical_strides(t.sizes(), t.strides());
  bool ok = st[nd - 1] == 1 || st[nd - 2] == 1;
  for (std::size_t d = 0; d < nd; ++d)
    if (t.sizes()[d] > 1 && st[d] == 0) ok = false;
  return ok ? t : t.contiguous();
}

struct MatmulPrim {
  dnnl::memory::desc a, b, bias, dst;
  dnnl::matmul prim;
};

}  // namespace

void matmul(const Tensor& a_in, const Tensor& b_in, const Tensor& bias, const Tensor& dst) {
  Tensor a = gemm_ready(a_in);
  Tensor b = gemm_ready(b_in);
  const Shape& out = dst.sizes();
  std::string key = "matmul:";
  key_add_layout(key, a);
  key_add_layout(key, b);
  key_add(key, out);
  key_add(key, bias.defined() ? 1 : 0);
  auto& p = cached<MatmulPrim>(key, [&] {
    MatmulPrim r;
    r.a = canonical_desc(a);
    r.b = canonical_desc(b);
    r.dst = strided_desc(out, contiguous_strides(out));
    if (bias.defined()) {
      Shape bs(out.size(), 1);
      bs.back() = out.back();
      r.bias = strided_desc(bs, contiguous_strides(bs));
      r.prim = dnnl::matmul(dnnl::matmul::primitive_desc(dnnl::matmul::desc(r.a, r.b, r.bias, r.dst), engine()));
    } else {
      r.prim = dnnl::matmul(dnnl::matmul::primitive_desc(dnnl::matmul::desc(r.a, r.b, r.dst), engine()));
    }
    return r;
  });
  std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, memory_of(p.a, a)},
                                             {DNNL_ARG_WEIGHTS, memory_of(p.b, b)},
                                             {DNNL_ARG_DST, memory_of(p.dst, dst)}};
  Tensor bias_packed;
  if (bias.defined()) {
    bias_packed = bias.contiguous();
    args.emplace(DNNL_ARG_BIAS, memory_of(p.bias, bias_packed));
  }
  p.prim.execute(stream(), args);
  stream().wait();
}

}  // namespace retort::onednn
