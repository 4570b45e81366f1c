// Fused optimizer updates (ops.h): one kernel per parameter tensor doing what the cpu loops of
// optim/adam.cpp and optim/sgd.cpp do per element, in the same order of operations. The scalars
// are converted to the parameter's type on the host exactly as there, and every product, sum,
// quotient and square root is an explicitly rounded one (device_math.cuh), never a fused
// multiply-add, so a GPU step equals the cpu step bit for bit (the cpu build does not contract).
#include "tensor/cuda/common.h"
#include "tensor/cuda/device_math.cuh"
#include "tensor/cuda/ops.h"

namespace retort::cuda {

namespace {

template <class T> struct AdamScalars {
  T l2_wd, shrink, b1, c1, b2, c2, eps, bc2, neg_step;
  bool l2, decay, amsgrad, maximize;
};

template <class T>
__global__ void adam_kernel(std::int64_t n, T* p, const T* g, T* m, T* v, T* vmax, AdamScalars<T> s) {
  const std::int64_t stride = static_cast<std::int64_t>(blockDim.x) * gridDim.x;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    T pi = p[i];
    T gi = s.maximize ? -g[i] : g[i];
    if (s.l2) gi = add_rn(gi, mul_rn(s.l2_wd, pi));
    if (s.decay) pi = mul_rn(pi, s.shrink);
    const T mi = add_rn(mul_rn(m[i], s.b1), mul_rn(s.c1, gi));
    const T vi = add_rn(mul_rn(v[i], s.b2), mul_rn(mul_rn(s.c2, gi), gi));
    m[i] = mi;
    v[i] = vi;
    T vh = vi;
    if (s.amsgrad) {
      vh = vmax[i] < vi ? vi : vmax[i];  // std::max(vmax, v)
      vmax[i] = vh;
    }
    const T denom = add_rn(div_rn(sqrt_rn(vh), s.bc2), s.eps);
    p[i] = add_rn(pi, div_rn(mul_rn(s.neg_step, mi), denom));
  }
}

template <class T> struct SgdScalars {
  T neg_lr, wd, mom, damp;
  bool decay, momentum, nesterov, maximize, first;
};

template <class T>
__global__ void sgd_kernel(std::int64_t n, T* p, const T* g, T* buf, SgdScalars<T> s) {
  const std::int64_t stride = static_cast<std::int64_t>(blockDim.x) * gridDim.x;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    T d = s.maximize ? -g[i] : g[i];
    if (s.decay) d = add_rn(d, mul_rn(s.wd, p[i]));
    if (s.momentum) {
      const T b = s.first ? d : add_rn(mul_rn(buf[i], s.mom), mul_rn(s.damp, d));
      buf[i] = b;
      d = s.nesterov ? add_rn(d, mul_rn(s.mom, b)) : b;
    }
    p[i] = add_rn(p[i], mul_rn(s.neg_lr, d));
  }
}

void check_state(const Tensor& p, const Tensor& t, const char* op, const char* what) {
  check_cuda_tensor(t, op, what);
  RETORT_CHECK(t.device() == p.device() && t.dtype() == p.dtype() && t.numel() == p.numel() &&
                   t.is_contiguous(),
               op, ": parameter ", p.str(), " and its ", what, " ", t.str(),
               " must share device, dtype and size, packed");
}

}  // namespace

void adam_update(const Tensor& p, const Tensor& g, const Tensor& m, const Tensor& v, const Tensor& vmax,
                 const AdamStep& s) {
  const char* op = "adam_update";
  check_state(p, p, op, "parameter");
  check_state(p, g, op, "gradient");
  check_state(p, m, op, "first moment");
  check_state(p, v, op, "second moment");
  if (s.amsgrad) check_state(p, vmax, op, "max second moment");
  DeviceGuard guard(p);
  const std::int64_t n = p.numel();
  if (n == 0) return;
  dispatch_floating(p.dtype(), op, [&]<class T>() {
    AdamScalars<T> c;
    c.l2 = !s.decoupled && s.weight_decay != 0;
    c.decay = s.decoupled && s.weight_decay != 0;
    c.amsgrad = s.amsgrad;
    c.maximize = s.maximize;
    c.l2_wd = static_cast<T>(s.weight_decay);
    c.shrink = static_cast<T>(1.0 - s.lr * s.weight_decay);
    c.b1 = static_cast<T>(s.beta1);
    c.c1 = static_cast<T>(1.0 - s.beta1);
    c.b2 = static_cast<T>(s.beta2);
    c.c2 = static_cast<T>(1.0 - s.beta2);
    c.eps = static_cast<T>(s.eps);
    c.bc2 = static_cast<T>(s.bias_correction2_sqrt);
    c.neg_step = static_cast<T>(-s.step_size);
    adam_kernel<T><<<blocks_for(n), kThreads, 0, stream()>>>(n, ptr<T>(p), ptr<T>(g), ptr<T>(m), ptr<T>(v),
                                                             s.amsgrad ? ptr<T>(vmax) : nullptr, c);
    RETORT_CUDA_LAUNCH(op);
  });
}

void sgd_update(const Tensor& p, const Tensor& g, const Tensor& buf, const SgdStep& s) {
  const char* op = "sgd_update";
  const bool momentum = s.momentum != 0;
  check_state(p, p, op, "parameter");
  check_state(p, g, op, "gradient");
  if (momentum) check_state(p, buf, op, "momentum buffer");
  DeviceGuard guard(p);
  const std::int64_t n = p.numel();
  if (n == 0) return;
  dispatch_floating(p.dtype(), op, [&]<class T>() {
    SgdScalars<T> c;
    c.neg_lr = -static_cast<T>(s.lr);
    c.wd = static_cast<T>(s.weight_decay);
    c.mom = static_cast<T>(s.momentum);
    c.damp = static_cast<T>(1.0 - s.dampening);
    c.decay = s.weight_decay != 0;
    c.momentum = momentum;
    c.nesterov = s.nesterov;
    c.maximize = s.maximize;
    c.first = s.first;
    sgd_kernel<T><<<blocks_for(n), kThreads, 0, stream()>>>(n, ptr<T>(p), ptr<T>(g),
                                                            momentum ? ptr<T>(buf) : nullptr, c);
    RETORT_CUDA_LAUNCH(op);
  });
}

}  // namespace retort::cuda
