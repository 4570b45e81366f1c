// Primitives are cached by x's layout, eps and mode. The affine parameters go in as separate scale
// and shift (oneDNN 2.6's use_scale | use_shift), so γ, β and their gradients are plain [C]
// tensors, no packing into a [2, C] buffer.
//
// Why a blocked form: on plain NCHW oneDNN 2.6 has only its simple ncsp_bnorm kernel, which took
// longer than all the convolutions of a zoo training step, plus a reorder of every convolution
// output to NCHW and back. On nChw16c it runs its jit kernel.
//
// Training-mode batch norm on nChw16c runs the kernels of batch_norm_avx512.h instead of the
// primitive where the CPU has AVX-512: fewer passes over the activation (that file says why).
//
// Why a fused relu (fuse_norm_relu): nearly every batch norm of the zoo networks feeds a relu, and
// a separate relu is one more pass over the activation forward and one backward. Fused, the
// training forward records which outputs were kept in a workspace (a bit or byte per element) and
// the backward applies that mask as it reads the gradient.
#include "tensor/onednn/batch_norm.h"

#include <unordered_map>

#include "tensor/onednn/batch_norm_avx512.h"
#include "tensor/onednn/blocked.h"
#include "tensor/onednn/common.h"
#include "tensor/onednn/layout.h"
#include "tensor/onednn/strided.h"

namespace retort::onednn {

namespace {

using dnnl::normalization_flags;
using Fwd = dnnl::batch_normalization_forward;
using Bwd = dnnl::batch_normalization_backward;

struct BnPrim {
  dnnl::memory::desc data, stat, ws;  // ws: the relu mask of a fused training forward, else empty
  dnnl::primitive prim;
};

normalization_flags flags(bool global_stats, bool relu) {
  auto f = normalization_flags::use_scale | normalization_flags::use_shift;
  if (global_stats) f = f | normalization_flags::use_global_stats;
  return relu ? f | normalization_flags::fuse_norm_relu : f;
}

Fwd::primitive_desc forward_pd(const dnnl::memory::desc& data, double eps, dnnl::prop_kind prop,
                               bool global, bool relu) {
  return Fwd::primitive_desc(Fwd::desc(prop, data, static_cast<float>(eps), flags(global, relu)),
                             engine());
}

std::string key_of(const char* what, const dnnl::memory::desc& data, double eps, bool relu) {
  return what + desc_key(data) + ":" + std::to_string(eps) + (relu ? ":relu" : "");
}

dnnl::memory::desc stat_desc(std::int64_t C) {
  return dnnl::memory::desc({C}, dnnl::memory::data_type::f32, dnnl::memory::format_tag::a);
}

// Forward primitive for one mode: training (batch stats out) or inference (given stats in), for
// data in layout `data` (plain strided or blocked).
BnPrim& forward_prim(const dnnl::memory::desc& data, double eps, bool training, bool relu = false) {
  return cached<BnPrim>(key_of(training ? "bn_fwd_train:" : "bn_fwd_eval:", data, eps, relu), [&] {
    BnPrim r;
    r.data = data;
    r.stat = stat_desc(data.dims()[1]);
    auto pd = forward_pd(r.data, eps, training ? dnnl::prop_kind::forward_training
                                               : dnnl::prop_kind::forward_inference,
                         !training, relu);
    r.ws = pd.workspace_desc();
    r.prim = Fwd(pd);
    return r;
  });
}

// mask: where a fused training forward writes its workspace (p.ws); ignored otherwise.
void run_forward(BnPrim& p, const dnnl::memory& x, const dnnl::memory& y, const Tensor& weight,
                 const Tensor& bias, const Tensor& mean, const Tensor& var,
                 const Tensor& mask = Tensor()) {
  std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, x},
                                             {DNNL_ARG_DST, y},
                                             {DNNL_ARG_SCALE, memory_of(p.stat, weight)},
                                             {DNNL_ARG_SHIFT, memory_of(p.stat, bias)},
                                             {DNNL_ARG_MEAN, memory_of(p.stat, mean)},
                                             {DNNL_ARG_VARIANCE, memory_of(p.stat, var)}};
  if (p.ws.get_size() > 0) args.emplace(DNNL_ARG_WORKSPACE, memory_of(p.ws, mask));
  p.prim.execute(stream(), args);
  stream().wait();
}

BnPrim& backward_prim(const dnnl::memory::desc& data, double eps, bool training, bool relu = false) {
  return cached<BnPrim>(key_of(training ? "bn_bwd_train:" : "bn_bwd_eval:", data, eps, relu), [&] {
    BnPrim r;
    r.data = data;
    r.stat = stat_desc(data.dims()[1]);
    // With constant statistics (eval) the derivative drops the batch-statistics terms; oneDNN
    // expresses that as use_global_stats on both the hint and the backward primitive.
    auto hint = forward_pd(r.data, eps, dnnl::prop_kind::forward_training, !training, relu);
    r.ws = hint.workspace_desc();
    r.prim = Bwd(Bwd::primitive_desc(Bwd::desc(dnnl::prop_kind::backward, r.data, r.data,
                                               static_cast<float>(eps), flags(!training, relu)),
                                     engine(), hint));
    return r;
  });
}

void run_backward(BnPrim& p, const dnnl::memory& g, const dnnl::memory& x, const dnnl::memory& gx,
                  const Tensor& weight, const Tensor& mean, const Tensor& var,
                  const Tensor& gweight, const Tensor& gbias, const Tensor& mask = Tensor()) {
  // oneDNN 2.6 insists on a shift argument whenever use_shift is set, although the gradients do
  // not depend on it.
  Tensor shift = zeros({p.data.dims()[1]}, kFloat32);
  std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, x},
                                             {DNNL_ARG_DIFF_DST, g},
                                             {DNNL_ARG_SCALE, memory_of(p.stat, weight)},
                                             {DNNL_ARG_SHIFT, memory_of(p.stat, shift)},
                                             {DNNL_ARG_MEAN, memory_of(p.stat, mean)},
                                             {DNNL_ARG_VARIANCE, memory_of(p.stat, var)},
                                             {DNNL_ARG_DIFF_SRC, gx},
                                             {DNNL_ARG_DIFF_SCALE, memory_of(p.stat, gweight)},
                                             {DNNL_ARG_DIFF_SHIFT, memory_of(p.stat, gbias)}};
  if (p.ws.get_size() > 0) args.emplace(DNNL_ARG_WORKSPACE, memory_of(p.ws, mask));
  p.prim.execute(stream(), args);
  stream().wait();
}

// x's blocked copy when the blocked forms apply to it (a 4-D deferred tensor, fast paths on).
std::shared_ptr<const Blocked> blocked_input(const Tensor& x) {
  if (!enabled() || x.dim() != 4) return nullptr;
  return blocked_of(x);
}

// Whether the training-mode kernels of batch_norm_avx512.h take data in layout d: float32
// nChw16c on an AVX-512 CPU. Eval mode and other layouts stay on oneDNN's primitives.
bool own_kernel(const dnnl::memory::desc& d) {
  return batch_norm16_supported() &&
         d == dnnl::memory::desc(d.dims(), dnnl::memory::data_type::f32,
                                 dnnl::memory::format_tag::nChw16c);
}

const float* floats(const Tensor& t) { return static_cast<const float*>(t.raw_data()); }
float* floats_out(const Tensor& t) { return static_cast<float*>(t.raw_data()); }

}  // namespace

void batch_norm_forward_training(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                 const Tensor& y, const Tensor& mean, const Tensor& var, double eps) {
  BnPrim& p = forward_prim(canonical_desc(x), eps, true);
  run_forward(p, memory_of(p.data, x), memory_of(p.data, y), weight, bias, mean, var);
}

void batch_norm_forward_inference(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                  const Tensor& mean, const Tensor& var, const Tensor& y, double eps) {
  BnPrim& p = forward_prim(canonical_desc(x), eps, false);
  run_forward(p, memory_of(p.data, x), memory_of(p.data, y), weight, bias, mean, var);
}

void batch_norm_backward(const Tensor& g, const Tensor& x, const Tensor& weight, const Tensor& mean,
                         const Tensor& var, const Tensor& gx, const Tensor& gweight,
                         const Tensor& gbias, double eps, bool training) {
  BnPrim& p = backward_prim(canonical_desc(x), eps, training);
  run_backward(p, memory_of(p.data, g), memory_of(p.data, x), memory_of(p.data, gx), weight, mean,
               var, gweight, gbias);
}

namespace {
// mask: null, or (fused training forward) where the relu mask goes.
Tensor forward_blocked(const Tensor& x, const Tensor& weight, const Tensor& bias,
                       const Tensor& mean, const Tensor& var, double eps, bool training,
                       bool relu = false, Tensor* mask = nullptr) {
  auto bx = blocked_input(x);
  if (!bx) return Tensor();
  Tensor buffer = blocked_buffer(bx->desc);
  Tensor y = deferred(x.sizes(), x.strides(), bx->desc, buffer);
  if (training && own_kernel(bx->desc)) {
    const auto& d = bx->desc.dims();
    std::uint16_t* bits = nullptr;
    if (relu) {
      *mask = empty({(batch_norm16_mask_words(d[0], d[1], d[2] * d[3]) + 1) / 2});
      bits = static_cast<std::uint16_t*>(mask->raw_data());
    }
    batch_norm16_forward_training(static_cast<const float*>(bx->memory().get_data_handle()),
                                  floats(weight), floats(bias), floats_out(buffer), bits,
                                  floats_out(mean), floats_out(var), d[0], d[1], d[2] * d[3], eps);
    return y;
  }
  BnPrim& p = forward_prim(bx->desc, eps, training, relu);
  if (p.ws.get_size() > 0) *mask = blocked_buffer(p.ws);
  run_forward(p, bx->memory(), dnnl::memory(bx->desc, engine(), buffer.raw_data()), weight, bias,
              mean, var, mask ? *mask : Tensor());
  return y;
}

Tensor backward_blocked(const Tensor& g, const Tensor& x, const Tensor& weight, const Tensor& mean,
                        const Tensor& var, const Tensor& gweight, const Tensor& gbias, double eps,
                        bool training, const Tensor& mask = Tensor()) {
  auto bx = blocked_input(x);
  if (!bx) return Tensor();
  std::lock_guard<std::mutex> lock(scratch_mutex());
  // gd and bg keep g's bytes (plain or blocked) alive while the kernels read them.
  const Tensor gd = readable_or_packed(g);
  auto bg = blocked_of(gd);
  const dnnl::memory gm = in_layout(gd, bx->desc, Slot::DiffDst);
  Tensor buffer = blocked_buffer(bx->desc);
  Tensor gx = deferred(x.sizes(), x.strides(), bx->desc, buffer);
  if (training && own_kernel(bx->desc)) {
    const auto& d = bx->desc.dims();
    batch_norm16_backward(
        static_cast<const float*>(bx->memory().get_data_handle()),
        static_cast<const float*>(gm.get_data_handle()),
        mask.defined() ? static_cast<const std::uint16_t*>(mask.raw_data()) : nullptr,
        floats(weight), floats(mean), floats(var), floats_out(buffer), floats_out(gweight),
        floats_out(gbias), d[0], d[1], d[2] * d[3], eps);
    return gx;
  }
  // A mask reaching here came from the oneDNN forward: x's layout chose the same path there.
  BnPrim& p = backward_prim(bx->desc, eps, training, mask.defined());
  run_backward(p, gm, bx->memory(), dnnl::memory(bx->desc, engine(), buffer.raw_data()), weight,
               mean, var, gweight, gbias, mask);
  return gx;
}
}  // namespace

Tensor batch_norm_forward_training_blocked(const Tensor& x, const Tensor& weight,
                                           const Tensor& bias, const Tensor& mean,
                                           const Tensor& var, double eps) {
  return forward_blocked(x, weight, bias, mean, var, eps, true);
}

Tensor batch_norm_forward_inference_blocked(const Tensor& x, const Tensor& weight,
                                            const Tensor& bias, const Tensor& mean,
                                            const Tensor& var, double eps) {
  return forward_blocked(x, weight, bias, mean, var, eps, false);
}

Tensor batch_norm_backward_blocked(const Tensor& g, const Tensor& x, const Tensor& weight,
                                   const Tensor& mean, const Tensor& var, const Tensor& gweight,
                                   const Tensor& gbias, double eps, bool training) {
  return backward_blocked(g, x, weight, mean, var, gweight, gbias, eps, training);
}

Tensor batch_norm_relu_forward_training_blocked(const Tensor& x, const Tensor& weight,
                                                const Tensor& bias, const Tensor& mean,
                                                const Tensor& var, double eps, Tensor& mask) {
  return forward_blocked(x, weight, bias, mean, var, eps, true, true, &mask);
}

Tensor batch_norm_relu_forward_inference_blocked(const Tensor& x, const Tensor& weight,
                                                 const Tensor& bias, const Tensor& mean,
                                                 const Tensor& var, double eps) {
  return forward_blocked(x, weight, bias, mean, var, eps, false, true);
}

Tensor batch_norm_relu_backward_blocked(const Tensor& g, const Tensor& x, const Tensor& mask,
                                        const Tensor& weight, const Tensor& mean,
                                        const Tensor& var, const Tensor& gweight,
                                        const Tensor& gbias, double eps) {
  return backward_blocked(g, x, weight, mean, var, gweight, gbias, eps, true, mask);
}

}  // namespace retort::onednn
