// SGD update (see sgd.h). Each update is one fused loop over the packed parameter, gradient and
// momentum buffer, split across OpenMP threads when large (run serially it left the other cores
// idle); the scalars are converted to the parameter's type first, as PyTorch does for the alpha
// of add_, so float32 parameters are updated in float32 arithmetic. CUDA parameters take the same
// loop as one fused kernel (tensor/cuda/optim.cu).
#include "optim/sgd.h"

#include "retort_config.h"
#include "tensor/cpu/elementwise.h"
#include "tensor/error.h"
#if RETORT_WITH_CUDA
#include "tensor/cuda/ops.h"
#endif

namespace retort::optim {

namespace {

const SGDOptions& checked(const SGDOptions& o) {
  RETORT_CHECK(o.momentum >= 0, "SGD: invalid momentum ", o.momentum, " (must be >= 0)");
  RETORT_CHECK(!o.nesterov || (o.momentum > 0 && o.dampening == 0),
               "SGD: nesterov momentum requires a momentum > 0 and zero dampening, got momentum ",
               o.momentum, " and dampening ", o.dampening);
  return o;
}

}  // namespace

SGD::SGD(std::vector<Tensor> params, const SGDOptions& options)
    : SGD(single_group(std::move(params)), options) {}

SGD::SGD(std::vector<ParamGroup> groups, const SGDOptions& options)
    : Optimizer("SGD", std::move(groups), checked(options).lr, options.weight_decay),
      options_(options) {}

void SGD::update(const ParamGroup& group, const Tensor& p, const Tensor& g, ParamState& state) {
  const bool use_momentum = options_.momentum != 0;
  // The momentum buffer starts as a copy of the first direction (no dampening on that step), so
  // "first update" is exactly "buffer not allocated yet".
  const bool first = state.buffers.empty();
  if (use_momentum && first) state.buffers.push_back(empty_like(p));
#if RETORT_WITH_CUDA
  if (p.device().is_cuda()) {
    const cuda::SgdStep s{*group.lr, options_.momentum, options_.dampening, *group.weight_decay,
                          options_.nesterov, options_.maximize, first};
    return cuda::sgd_update(p, g, use_momentum ? state.buffers[0] : Tensor(), s);
  }
#endif
  const std::int64_t n = p.numel();
  // dispatch_floating, not its macro: the loop's pragma cannot sit in a macro argument.
  dispatch_floating(p.dtype(), "SGD", [&]<class T>() {
    T* __restrict pd = p.data<T>();
    const T* __restrict gd = g.data<T>();
    T* __restrict bd = use_momentum ? state.buffers[0].data<T>() : nullptr;
    const T lr = static_cast<T>(*group.lr);
    const T wd = static_cast<T>(*group.weight_decay);
    const T mom = static_cast<T>(options_.momentum);
    const T damp = static_cast<T>(1.0 - options_.dampening);
    const bool decay = *group.weight_decay != 0, maximize = options_.maximize;
    const bool nesterov = options_.nesterov;
#pragma omp parallel for simd if (n > cpu::kParallelGrain)
    for (std::int64_t i = 0; i < n; ++i) {
      T d = maximize ? -gd[i] : gd[i];
      if (decay) d = d + wd * pd[i];
      if (use_momentum) {
        const T b = first ? d : bd[i] * mom + damp * d;
        bd[i] = b;
        d = nesterov ? d + mom * b : b;
      }
      pd[i] = pd[i] + (-lr) * d;
    }
  });
}

}  // namespace retort::optim
