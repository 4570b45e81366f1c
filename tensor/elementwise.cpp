// Dispatch point for the elementwise ops. Activations try the oneDNN eltwise fast path first
// (float32, dense), add tries oneDNN's binary add when an operand is a deferred blocked tensor;
// everything else runs the layout-preserving reference maps in cpu/, which are also what the
// fast paths are tested against. CUDA tensors go to tensor/cuda after the device-free
// checks (dtype, broadcast); operands must share a device (nothing is copied behind the caller's back).
#include "tensor/elementwise.h"

#include <cmath>
#include <limits>

#include "retort_config.h"
#include "tensor/cpu/elementwise.h"
#include "tensor/cuda/ops.h"  // the op kinds; the functions are called only when built with CUDA
#if RETORT_WITH_ONEDNN
#include "tensor/onednn/binary.h"
#include "tensor/onednn/common.h"
#include "tensor/onednn/eltwise.h"
#endif

namespace retort::ops {

namespace {

void check_device(const Tensor& t, const char* op) {
  RETORT_CHECK(t.defined(), op, ": tensor is undefined");
#if RETORT_WITH_CUDA
  if (t.device().is_cuda()) return;
#endif
  RETORT_CHECK(t.device().is_cpu(), op, ": tensor ", shape_str(t.sizes()), " is on ", t.device().str(),
               ", expected cpu");
}

void check_pair(const Tensor& a, const Tensor& b, const char* op) {
  check_device(a, op);
  check_device(b, op);
  RETORT_CHECK(a.device() == b.device(), op, ": operands are on different devices: ",
               shape_str(a.sizes()), " on ", a.device().str(), " and ", shape_str(b.sizes()), " on ",
               b.device().str());
  RETORT_CHECK(a.dtype() == b.dtype(), op, ": dtypes differ: ", shape_str(a.sizes()), " ",
               dtype_name(a.dtype()), " and ", shape_str(b.sizes()), " ", dtype_name(b.dtype()));
}

template <class F>
Tensor unary_float(const Tensor& x, const char* op, cuda::Unary kind, F f, double p0 = 0) {
  check_device(x, op);
#if RETORT_WITH_CUDA
  if (x.device().is_cuda()) return cuda::unary(kind, x, p0);
#endif
  return RETORT_DISPATCH_FLOATING(x.dtype(), op, [&]<class T>() {
    return cpu::map1<T, T>(x, x.dtype(), [f](T v) { return static_cast<T>(f(v)); });
  });
}

template <class F>
Tensor unary_all(const Tensor& x, const char* op, cuda::Unary kind, F f, double p0 = 0, double p1 = 0) {
  check_device(x, op);
#if RETORT_WITH_CUDA
  if (x.device().is_cuda()) return cuda::unary(kind, x, p0, p1);
#endif
  return RETORT_DISPATCH_ALL(x.dtype(), op, [&]<class T>() {
    return cpu::map1<T, T>(x, x.dtype(), [f](T v) { return static_cast<T>(f(v)); });
  });
}

#if RETORT_WITH_CUDA
bool on_cuda(const Tensor& t) { return t.defined() && t.device().is_cuda(); }

// Activations on cuda: cuDNN for floating tensors (int64 relu runs the plain kernel); the
// backward takes cuDNN's path when g and y have one shape, else the broadcasting kernel.
#define RETORT_CUDA_ACT(kind, x)                                                                   \
  if (on_cuda(x))                                                                                  \
  return is_floating((x).dtype()) ? cuda::activation_forward(cuda::Activation::kind, x)            \
                                  : cuda::unary(cuda::Unary::kind, x)
Tensor cuda_act_bwd(cuda::Activation k, cuda::Binary b, const Tensor& g, const Tensor& y, const char* op) {
  check_pair(g, y, op);
  if (is_floating(g.dtype()) && g.sizes() == y.sizes()) return cuda::activation_backward(k, g, y);
  return cuda::binary(b, g, y, broadcast_shapes(g.sizes(), y.sizes(), op));
}
#define RETORT_CUDA_ACT_BWD(kind, bkind, g, y, op) \
  if (on_cuda(g) || on_cuda(y)) return cuda_act_bwd(cuda::Activation::kind, cuda::Binary::bkind, g, y, op)
#else
#define RETORT_CUDA_ACT(kind, x)
#define RETORT_CUDA_ACT_BWD(kind, bkind, g, y, op)
#endif

#if RETORT_WITH_ONEDNN
#define RETORT_FAST(kind, x)                                                           \
  if (Tensor f_ = onednn::eltwise_forward_any(onednn::Eltwise::kind, x); f_.defined()) \
  return f_
#define RETORT_FAST_BWD(kind, g, s)                                                        \
  if (Tensor f_ = onednn::eltwise_backward_any(onednn::Eltwise::kind, g, s); f_.defined()) \
  return f_
#else
#define RETORT_FAST(kind, x)
#define RETORT_FAST_BWD(kind, g, s)
#endif

template <class F>
Tensor binary_all(const Tensor& a, const Tensor& b, const char* op, cuda::Binary kind, F f) {
  check_pair(a, b, op);
  Shape shape = broadcast_shapes(a.sizes(), b.sizes(), op);
#if RETORT_WITH_CUDA
  if (a.device().is_cuda()) return cuda::binary(kind, a, b, shape);
#endif
  return RETORT_DISPATCH_ALL(a.dtype(), op, [&]<class T>() {
    return cpu::map2<T, T>(a, b, a.dtype(), shape, [f](T x, T y) { return static_cast<T>(f(x, y)); });
  });
}

Tensor scalar_like(const Tensor& x, double s) { return full({}, s, x.dtype(), x.device()); }

}  // namespace

Tensor neg(const Tensor& x) { return unary_all(x, "neg", cuda::Unary::Neg, [](auto v) { return -v; }); }
Tensor abs(const Tensor& x) {
  RETORT_FAST(Abs, x);
  return unary_all(x, "abs", cuda::Unary::Abs, [](auto v) { return v < 0 ? -v : v; });
}
Tensor sign(const Tensor& x) {
  return unary_all(x, "sign", cuda::Unary::Sign, [](auto v) { return (v > 0) - (v < 0); });
}
Tensor round(const Tensor& x) {
  // std::nearbyint rounds in the default floating-point mode, to nearest with ties to even.
  return unary_float(x, "round", cuda::Unary::Round, [](auto v) { return std::nearbyint(v); });
}
Tensor exp(const Tensor& x) {
  RETORT_FAST(Exp, x);
  return unary_float(x, "exp", cuda::Unary::Exp, [](auto v) { return std::exp(v); });
}
Tensor log(const Tensor& x) {
  RETORT_FAST(Log, x);
  return unary_float(x, "log", cuda::Unary::Log, [](auto v) { return std::log(v); });
}
Tensor sqrt(const Tensor& x) {
  RETORT_FAST(Sqrt, x);
  return unary_float(x, "sqrt", cuda::Unary::Sqrt, [](auto v) { return std::sqrt(v); });
}
Tensor pow(const Tensor& x, double p) {
  if (p == 2.0) return unary_float(x, "pow", cuda::Unary::Square, [](auto v) { return v * v; });
  return unary_float(x, "pow", cuda::Unary::Pow, [p](auto v) { return std::pow(v, p); }, p);
}
Tensor clamp(const Tensor& x, double lo, double hi) {
  RETORT_CHECK(!(lo > hi), "clamp: lower bound ", lo, " is above upper bound ", hi);
  return unary_all(x, "clamp", cuda::Unary::Clamp, [lo, hi](auto v) {
    using T = decltype(v);
    return v < static_cast<T>(lo) ? static_cast<T>(lo) : (v > static_cast<T>(hi) ? static_cast<T>(hi) : v);
  }, lo, hi);
}
Tensor relu(const Tensor& x) {
  RETORT_CUDA_ACT(Relu, x);
  RETORT_FAST(Relu, x);
  return unary_all(x, "relu", cuda::Unary::Relu, [](auto v) { return v > 0 ? v : decltype(v)(0); });
}
Tensor sigmoid(const Tensor& x) {
  RETORT_CUDA_ACT(Sigmoid, x);
  RETORT_FAST(Sigmoid, x);
  return unary_float(x, "sigmoid", cuda::Unary::Sigmoid, [](auto v) { return 1 / (1 + std::exp(-v)); });
}
Tensor tanh(const Tensor& x) {
  RETORT_CUDA_ACT(Tanh, x);
  RETORT_FAST(Tanh, x);
  return unary_float(x, "tanh", cuda::Unary::Tanh, [](auto v) { return std::tanh(v); });
}

Tensor relu_backward(const Tensor& g, const Tensor& y) {
  RETORT_CUDA_ACT_BWD(Relu, ReluBwd, g, y, "relu_backward");
  RETORT_FAST_BWD(Relu, g, y);
  return binary_all(g, y, "relu_backward", cuda::Binary::ReluBwd, [](auto gv, auto yv) { return yv > 0 ? gv : decltype(gv)(0); });
}
Tensor relu_backward_reusing(const Tensor& g, const Tensor& y) {
#if RETORT_WITH_ONEDNN
  if (Tensor r = onednn::eltwise_backward_over(onednn::Eltwise::Relu, g, y); r.defined()) return r;
#endif
  return relu_backward(g, y);
}
Tensor sigmoid_backward(const Tensor& g, const Tensor& y) {
  RETORT_CUDA_ACT_BWD(Sigmoid, SigmoidBwd, g, y, "sigmoid_backward");
  RETORT_FAST_BWD(Sigmoid, g, y);
  return binary_all(g, y, "sigmoid_backward", cuda::Binary::SigmoidBwd, [](auto gv, auto yv) { return gv * yv * (1 - yv); });
}
Tensor tanh_backward(const Tensor& g, const Tensor& y) {
  RETORT_CUDA_ACT_BWD(Tanh, TanhBwd, g, y, "tanh_backward");
  RETORT_FAST_BWD(Tanh, g, y);
  return binary_all(g, y, "tanh_backward", cuda::Binary::TanhBwd, [](auto gv, auto yv) { return gv * (1 - yv * yv); });
}

Tensor add(const Tensor& a, const Tensor& b) {
#if RETORT_WITH_ONEDNN
  if (Tensor f = onednn::add_blocked(a, b); f.defined()) return f;  // deferred blocked operands
#endif
  return binary_all(a, b, "add", cuda::Binary::Add, [](auto x, auto y) { return x + y; });
}
Tensor add_relu(const Tensor& a, const Tensor& b) {
  RETORT_CHECK(a.defined() && b.defined() && a.sizes() == b.sizes(), "add_relu: a ",
               a.defined() ? shape_str(a.sizes()) : "undefined", " and b ",
               b.defined() ? shape_str(b.sizes()) : "undefined", " must have one shape");
#if RETORT_WITH_ONEDNN
  if (Tensor f = onednn::add_blocked(a, b, /*relu=*/true); f.defined()) return f;
#endif
  return relu(add(a, b));
}
Tensor sub(const Tensor& a, const Tensor& b) { return binary_all(a, b, "sub", cuda::Binary::Sub, [](auto x, auto y) { return x - y; }); }
Tensor mul(const Tensor& a, const Tensor& b) { return binary_all(a, b, "mul", cuda::Binary::Mul, [](auto x, auto y) { return x * y; }); }
Tensor div(const Tensor& a, const Tensor& b) { return binary_all(a, b, "div", cuda::Binary::Div, [](auto x, auto y) { return x / y; }); }
Tensor maximum(const Tensor& a, const Tensor& b) {
  return binary_all(a, b, "maximum", cuda::Binary::Max, [](auto x, auto y) { return x >= y ? x : y; });
}
Tensor minimum(const Tensor& a, const Tensor& b) {
  return binary_all(a, b, "minimum", cuda::Binary::Min, [](auto x, auto y) { return x <= y ? x : y; });
}

Tensor add_scalar(const Tensor& x, double s) { return add(x, scalar_like(x, s)); }
Tensor mul_scalar(const Tensor& x, double s) { return mul(x, scalar_like(x, s)); }
Tensor rsub_scalar(const Tensor& x, double s) {
  return binary_all(x, scalar_like(x, s), "rsub", cuda::Binary::RSub, [](auto v, auto c) { return c - v; });
}
Tensor rdiv_scalar(const Tensor& x, double s) {
  return binary_all(x, scalar_like(x, s), "rdiv", cuda::Binary::RDiv, [](auto v, auto c) { return c / v; });
}

Tensor eq(const Tensor& a, const Tensor& b) { return binary_all(a, b, "eq", cuda::Binary::Eq, [](auto x, auto y) { return x == y; }); }
Tensor ne(const Tensor& a, const Tensor& b) { return binary_all(a, b, "ne", cuda::Binary::Ne, [](auto x, auto y) { return x != y; }); }
Tensor lt(const Tensor& a, const Tensor& b) { return binary_all(a, b, "lt", cuda::Binary::Lt, [](auto x, auto y) { return x < y; }); }
Tensor le(const Tensor& a, const Tensor& b) { return binary_all(a, b, "le", cuda::Binary::Le, [](auto x, auto y) { return x <= y; }); }
Tensor gt(const Tensor& a, const Tensor& b) { return binary_all(a, b, "gt", cuda::Binary::Gt, [](auto x, auto y) { return x > y; }); }
Tensor ge(const Tensor& a, const Tensor& b) { return binary_all(a, b, "ge", cuda::Binary::Ge, [](auto x, auto y) { return x >= y; }); }
Tensor gt_scalar(const Tensor& a, double s) { return gt(a, scalar_like(a, s)); }
Tensor lt_scalar(const Tensor& a, double s) { return lt(a, scalar_like(a, s)); }

Tensor where(const Tensor& mask, const Tensor& a, const Tensor& b) {
  check_pair(a, b, "where");
  check_device(mask, "where");
  RETORT_CHECK(mask.device() == a.device(), "where: mask ", shape_str(mask.sizes()), " is on ",
               mask.device().str(), " but the operands ", shape_str(a.sizes()), " are on ", a.device().str());
  Shape shape = broadcast_shapes(broadcast_shapes(mask.sizes(), a.sizes(), "where"), b.sizes(), "where");
  Tensor m = mask.to(a.dtype());
#if RETORT_WITH_CUDA
  if (a.device().is_cuda()) return cuda::where(m, a, b, shape);
#endif
  return RETORT_DISPATCH_ALL(a.dtype(), "where", [&]<class T>() {
    Tensor y = empty(shape, a.dtype());
    T* yp = y.data<T>();
    const T* mp = static_cast<const T*>(m.raw_data());
    const T* ap = static_cast<const T*>(a.raw_data());
    const T* bp = static_cast<const T*>(b.raw_data());
    Shape sm = cpu::broadcast_strides(m.sizes(), m.strides(), shape);
    Shape sa = cpu::broadcast_strides(a.sizes(), a.strides(), shape);
    Shape sb = cpu::broadcast_strides(b.sizes(), b.strides(), shape);
    cpu::for_each_offset<4>(shape, {&y.strides(), &sm, &sa, &sb}, [&](const auto& o) {
      yp[o[0]] = mp[o[1]] != T(0) ? ap[o[2]] : bp[o[3]];
    });
    return y;
  });
}

void add_(const Tensor& a, const Tensor& b) {
  check_pair(a, b, "add_");
  RETORT_CHECK(broadcast_shapes(a.sizes(), b.sizes(), "add_") == a.sizes(), "add_: ",
               shape_str(b.sizes()), " does not broadcast to ", shape_str(a.sizes()));
#if RETORT_WITH_CUDA
  if (a.device().is_cuda()) return cuda::binary_(cuda::Binary::Add, a, b);
#endif
  RETORT_DISPATCH_ALL(a.dtype(), "add_", [&]<class T>() { cpu::apply2_<T>(a, b, [](T x, T y) { return x + y; }); });
}

void mul_(const Tensor& a, const Tensor& b) {
  check_pair(a, b, "mul_");
  RETORT_CHECK(broadcast_shapes(a.sizes(), b.sizes(), "mul_") == a.sizes(), "mul_: ",
               shape_str(b.sizes()), " does not broadcast to ", shape_str(a.sizes()));
#if RETORT_WITH_CUDA
  if (a.device().is_cuda()) return cuda::binary_(cuda::Binary::Mul, a, b);
#endif
  RETORT_DISPATCH_ALL(a.dtype(), "mul_", [&]<class T>() { cpu::apply2_<T>(a, b, [](T x, T y) { return x * y; }); });
}

void add_scaled_(const Tensor& a, const Tensor& b, double alpha) {
  check_pair(a, b, "add_scaled_");
  RETORT_CHECK(broadcast_shapes(a.sizes(), b.sizes(), "add_scaled_") == a.sizes(), "add_scaled_: ",
               shape_str(b.sizes()), " does not broadcast to ", shape_str(a.sizes()));
#if RETORT_WITH_CUDA
  if (a.device().is_cuda()) return cuda::add_scaled_(a, b, alpha);
#endif
  RETORT_DISPATCH_ALL(a.dtype(), "add_scaled_", [&]<class T>() {
    T s = static_cast<T>(alpha);
    cpu::apply2_<T>(a, b, [s](T x, T y) { return x + s * y; });
  });
}

void mul_scalar_(const Tensor& a, double s) {
#if RETORT_WITH_CUDA
  if (on_cuda(a)) return cuda::mul_scalar_(a, s);
#endif
  mul_(a, scalar_like(a, s));
}

bool all_finite(const Tensor& x) {
  check_device(x, "all_finite");
  if (!is_floating(x.dtype())) return true;
#if RETORT_WITH_CUDA
  if (x.device().is_cuda()) return cuda::all_finite(x);
#endif
  bool ok = true;
  RETORT_DISPATCH_FLOATING(x.dtype(), "all_finite", [&]<class T>() {
    const T* p = static_cast<const T*>(x.raw_data());
    cpu::for_each_offset<1>(x.sizes(), {&x.strides()}, [&](const auto& o) {
      if (!std::isfinite(p[o[0]])) ok = false;
    });
  });
  return ok;
}

}  // namespace retort::ops
