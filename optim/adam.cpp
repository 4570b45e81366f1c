// Adam / AdamW update (see adam.h). The bias corrections are computed in double from the
// parameter's own step count, then every scalar is converted to the parameter's type and the
// update is one fused loop over p, g, m, v (and v̂), split across OpenMP threads when large. The
// arithmetic follows PyTorch's kernels term by term (addcmul: v + (c·g)·g, addcdiv:
// p + (c·m)/denom) so float64 results agree to rounding.
// CUDA parameters take the same loop as one fused kernel (tensor/cuda/optim.cu).
#include "optim/adam.h"

#include <algorithm>
#include <cmath>

#include "retort_config.h"
#include "tensor/cpu/elementwise.h"
#include "tensor/error.h"
#if RETORT_WITH_CUDA
#include "tensor/cuda/ops.h"
#endif

namespace retort::optim {

namespace {

const AdamOptions& checked(const char* name, const AdamOptions& o) {
  RETORT_CHECK(o.eps >= 0, name, ": invalid eps ", o.eps, " (must be >= 0)");
  RETORT_CHECK(o.beta1 >= 0 && o.beta1 < 1, name, ": invalid beta1 ", o.beta1, " (must be in [0, 1))");
  RETORT_CHECK(o.beta2 >= 0 && o.beta2 < 1, name, ": invalid beta2 ", o.beta2, " (must be in [0, 1))");
  return o;
}

AdamOptions as_adam(const AdamWOptions& o) {
  return {o.lr, o.beta1, o.beta2, o.eps, o.weight_decay, o.amsgrad, o.maximize};
}

}  // namespace

Adam::Adam(std::vector<Tensor> params, const AdamOptions& options)
    : Adam("Adam", single_group(std::move(params)), options, false) {}

Adam::Adam(std::vector<ParamGroup> groups, const AdamOptions& options)
    : Adam("Adam", std::move(groups), options, false) {}

Adam::Adam(const char* name, std::vector<ParamGroup> groups, const AdamOptions& options, bool decoupled)
    : Optimizer(name, std::move(groups), checked(name, options).lr, options.weight_decay),
      options_(options),
      decoupled_(decoupled) {}

AdamW::AdamW(std::vector<Tensor> params, const AdamWOptions& options)
    : Adam("AdamW", single_group(std::move(params)), as_adam(options), true) {}

AdamW::AdamW(std::vector<ParamGroup> groups, const AdamWOptions& options)
    : Adam("AdamW", std::move(groups), as_adam(options), true) {}

void Adam::update(const ParamGroup& group, const Tensor& p, const Tensor& g, ParamState& state) {
  const AdamOptions& o = options_;
  if (state.buffers.empty()) {
    state.buffers.push_back(zeros_like(p));                    // m
    state.buffers.push_back(zeros_like(p));                    // v
    if (o.amsgrad) state.buffers.push_back(zeros_like(p));     // v̂
  }
  const double lr = *group.lr, wd = *group.weight_decay;
  const double t = static_cast<double>(state.step);
  const double step_size = lr / (1.0 - std::pow(o.beta1, t));
  const double bc2_sqrt = std::sqrt(1.0 - std::pow(o.beta2, t));
#if RETORT_WITH_CUDA
  if (p.device().is_cuda()) {
    const cuda::AdamStep s{lr, o.beta1, o.beta2, o.eps, wd, step_size, bc2_sqrt, decoupled_, o.amsgrad, o.maximize};
    return cuda::adam_update(p, g, state.buffers[0], state.buffers[1],
                             o.amsgrad ? state.buffers[2] : Tensor(), s);
  }
#endif
  const std::int64_t n = p.numel();
  // dispatch_floating, not its macro: the loop's pragma cannot sit in a macro argument.
  dispatch_floating(p.dtype(), name().c_str(), [&]<class T>() {
    T* __restrict pd = p.data<T>();
    const T* __restrict gd = g.data<T>();
    T* __restrict m = state.buffers[0].data<T>();
    T* __restrict v = state.buffers[1].data<T>();
    T* __restrict vmax = o.amsgrad ? state.buffers[2].data<T>() : nullptr;
    const bool l2 = !decoupled_ && wd != 0, decay = decoupled_ && wd != 0;
    const bool maximize = o.maximize, amsgrad = o.amsgrad;
    const T l2_wd = static_cast<T>(wd), shrink = static_cast<T>(1.0 - lr * wd);
    const T b1 = static_cast<T>(o.beta1), c1 = static_cast<T>(1.0 - o.beta1);
    const T b2 = static_cast<T>(o.beta2), c2 = static_cast<T>(1.0 - o.beta2);
    const T eps = static_cast<T>(o.eps), bc2 = static_cast<T>(bc2_sqrt);
    const T neg_step = static_cast<T>(-step_size);
#pragma omp parallel for simd if (n > cpu::kParallelGrain)
    for (std::int64_t i = 0; i < n; ++i) {
      T gi = maximize ? -gd[i] : gd[i];
      if (l2) gi = gi + l2_wd * pd[i];
      if (decay) pd[i] = pd[i] * shrink;
      const T mi = m[i] * b1 + c1 * gi;
      const T vi = v[i] * b2 + c2 * gi * gi;
      m[i] = mi;
      v[i] = vi;
      T vh = vi;
      if (amsgrad) {
        vh = std::max(vmax[i], vi);
        vmax[i] = vh;
      }
      const T denom = std::sqrt(vh) / bc2 + eps;
      pd[i] = pd[i] + neg_step * mi / denom;
    }
  });
}

}  // namespace retort::optim
