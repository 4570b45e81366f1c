// Dispatch point for the elementwise ops. Activations try the oneDNN eltwise fast path first
// (float32, dense); everything else runs the layout-preserving reference maps in cpu/, which are
// also what the fast path is tested against.
#include "tensor/elementwise.h"

#include <cmath>
#include <limits>

#include "retort_config.h"
#include "tensor/cpu/elementwise.h"
#if RETORT_WITH_ONEDNN
#include "tensor/onednn/common.h"
#include "tensor/onednn/eltwise.h"
#endif

namespace retort::ops {

namespace {

void check_cpu(const Tensor& t, const char* op) {
  RETORT_CHECK(t.defined(), op, ": tensor is undefined");
  RETORT_CHECK(t.device().is_cpu(), op, ": tensor ", shape_str(t.sizes()), " is on ", t.device().str(),
               ", expected cpu");
}

void check_pair(const Tensor& a, const Tensor& b, const char* op) {
  check_cpu(a, op);
  check_cpu(b, op);
  RETORT_CHECK(a.dtype() == b.dtype(), op, ": dtypes differ: ", shape_str(a.sizes()), " ",
               dtype_name(a.dtype()), " and ", shape_str(b.sizes()), " ", dtype_name(b.dtype()));
}

template <class F>
Tensor unary_float(const Tensor& x, const char* op, F f) {
  check_cpu(x, op);
  return RETORT_DISPATCH_FLOATING(x.dtype(), op, [&]<class T>() {
    return cpu::map1<T, T>(x, x.dtype(), [f](T v) { return static_cast<T>(f(v)); });
  });
}

template <class F>
Tensor unary_all(const Tensor& x, const char* op, F f) {
  check_cpu(x, op);
  return RETORT_DISPATCH_ALL(x.dtype(), op, [&]<class T>() {
    return cpu::map1<T, T>(x, x.dtype(), [f](T v) { return static_cast<T>(f(v)); });
  });
}

#if RETORT_WITH_ONEDNN
Tensor try_fast(onednn::Eltwise k, const Tensor& x) {
  if (!onednn::enabled() || x.dtype() != kFloat32 || !cpu::is_dense(x)) return Tensor();
  Tensor y = cpu::empty_same_layout(x, kFloat32);
  return onednn::eltwise_forward(k, x, y) ? y : Tensor();
}
Tensor try_fast_bwd(onednn::Eltwise k, const Tensor& g, const Tensor& saved) {
  if (!onednn::enabled() || g.dtype() != kFloat32 || saved.dtype() != kFloat32 ||
      g.sizes() != saved.sizes() || g.strides() != saved.strides() || !cpu::is_dense(saved))
    return Tensor();
  Tensor gx = cpu::empty_same_layout(saved, kFloat32);
  return onednn::eltwise_backward(k, g, saved, gx) ? gx : Tensor();
}
#define RETORT_FAST(kind, x)                                        \
  if (Tensor f_ = try_fast(onednn::Eltwise::kind, x); f_.defined()) \
  return f_
#define RETORT_FAST_BWD(kind, g, s)                                        \
  if (Tensor f_ = try_fast_bwd(onednn::Eltwise::kind, g, s); f_.defined()) \
  return f_
#else
#define RETORT_FAST(kind, x)
#define RETORT_FAST_BWD(kind, g, s)
#endif

template <class F>
Tensor binary_all(const Tensor& a, const Tensor& b, const char* op, F f) {
  check_pair(a, b, op);
  Shape shape = broadcast_shapes(a.sizes(), b.sizes(), op);
  return RETORT_DISPATCH_ALL(a.dtype(), op, [&]<class T>() {
    return cpu::map2<T, T>(a, b, a.dtype(), shape, [f](T x, T y) { return static_cast<T>(f(x, y)); });
  });
}

Tensor scalar_like(const Tensor& x, double s) { return full({}, s, x.dtype(), x.device()); }

}  // namespace

Tensor neg(const Tensor& x) { return unary_all(x, "neg", [](auto v) { return -v; }); }
Tensor abs(const Tensor& x) {
  RETORT_FAST(Abs, x);
  return unary_all(x, "abs", [](auto v) { return v < 0 ? -v : v; });
}
Tensor sign(const Tensor& x) {
  return unary_all(x, "sign", [](auto v) { return (v > 0) - (v < 0); });
}
Tensor exp(const Tensor& x) {
  RETORT_FAST(Exp, x);
  return unary_float(x, "exp", [](auto v) { return std::exp(v); });
}
Tensor log(const Tensor& x) {
  RETORT_FAST(Log, x);
  return unary_float(x, "log", [](auto v) { return std::log(v); });
}
Tensor sqrt(const Tensor& x) {
  RETORT_FAST(Sqrt, x);
  return unary_float(x, "sqrt", [](auto v) { return std::sqrt(v); });
}
Tensor pow(const Tensor& x, double p) {
  if (p == 2.0) return unary_float(x, "pow", [](auto v) { return v * v; });
  return unary_float(x, "pow", [p](auto v) { return std::pow(v, p); });
}
Tensor clamp(const Tensor& x, double lo, double hi) {
  RETORT_CHECK(!(lo > hi), "clamp: lower bound ", lo, " is above upper bound ", hi);
  return unary_all(x, "clamp", [lo, hi](auto v) {
    using T = decltype(v);
    return v < static_cast<T>(lo) ? static_cast<T>(lo) : (v > static_cast<T>(hi) ? static_cast<T>(hi) : v);
  });
}
Tensor relu(const Tensor& x) {
  RETORT_FAST(Relu, x);
  return unary_all(x, "relu", [](auto v) { return v > 0 ? v : decltype(v)(0); });
}
Tensor sigmoid(const Tensor& x) {
  RETORT_FAST(Sigmoid, x);
  return unary_float(x, "sigmoid", [](auto v) { return 1 / (1 + std::exp(-v)); });
}
Tensor tanh(const Tensor& x) {
  RETORT_FAST(Tanh, x);
  return unary_float(x, "tanh", [](auto v) { return std::tanh(v); });
}

Tensor relu_backward(const Tensor& g, const Tensor& y) {
  RETORT_FAST_BWD(Relu, g, y);
  return binary_all(g, y, "relu_backward", [](auto gv, auto yv) { return yv > 0 ? gv : decltype(gv)(0); });
}
Tensor sigmoid_backward(const Tensor& g, const Tensor& y) {
  RETORT_FAST_BWD(Sigmoid, g, y);
  return binary_all(g, y, "sigmoid_backward", [](auto gv, auto yv) { return gv * yv * (1 - yv); });
}
Tensor tanh_backward(const Tensor& g, const Tensor& y) {
  RETORT_FAST_BWD(Tanh, g, y);
  return binary_all(g, y, "tanh_backward", [](auto gv, auto yv) { return gv * (1 - yv * yv); });
}

Tensor add(const Tensor& a, const Tensor& b) { return binary_all(a, b, "add", [](auto x, auto y) { return x + y; }); }
Tensor sub(const Tensor& a, const Tensor& b) { return binary_all(a, b, "sub", [](auto x, auto y) { return x - y; }); }
Tensor mul(const Tensor& a, const Tensor& b) { return binary_all(a, b, "mul", [](auto x, auto y) { return x * y; }); }
Tensor div(const Tensor& a, const Tensor& b) { return binary_all(a, b, "div", [](auto x, auto y) { return x / y; }); }
Tensor maximum(const Tensor& a, const Tensor& b) {
  return binary_all(a, b, "maximum", [](auto x, auto y) { return x >= y ? x : y; });
}
Tensor minimum(const Tensor& a, const Tensor& b) {
  return binary_all(a, b, "minimum", [](auto x, auto y) { return x <= y ? x : y; });
}

Tensor add_scalar(const Tensor& x, double s) { return add(x, scalar_like(x, s)); }
Tensor mul_scalar(const Tensor& x, double s) { return mul(x, scalar_like(x, s)); }
Tensor rsub_scalar(const Tensor& x, double s) {
  return binary_all(x, scalar_like(x, s), "rsub", [](auto v, auto c) { return c - v; });
}
Tensor rdiv_scalar(const Tensor& x, double s) {
  return binary_all(x, scalar_like(x, s), "rdiv", [](auto v, auto c) { return c / v; });
}

Tensor eq(const Tensor& a, const Tensor& b) { return binary_all(a, b, "eq", [](auto x, auto y) { return x == y; }); }
Tensor ne(const Tensor& a, const Tensor& b) { return binary_all(a, b, "ne", [](auto x, auto y) { return x != y; }); }
Tensor lt(const Tensor& a, const Tensor& b) { return binary_all(a, b, "lt", [](auto x, auto y) { return x < y; }); }
Tensor le(const Tensor& a, const Tensor& b) { return binary_all(a, b, "le", [](auto x, auto y) { return x <= y; }); }
Tensor gt(const Tensor& a, const Tensor& b) { return binary_all(a, b, "gt", [](auto x, auto y) { return x > y; }); }
Tensor ge(const Tensor& a, const Tensor& b) { return binary_all(a, b, "ge", [](auto x, auto y) { return x >= y; }); }
Tensor gt_scalar(const Tensor& a, double s) { return gt(a, scalar_like(a, s)); }
Tensor lt_scalar(const Tensor& a, double s) { return lt(a, scalar_like(a, s)); }

Tensor where(const Tensor& mask, const Tensor& a, const Tensor& b) {
  check_pair(a, b, "where");
  check_cpu(mask, "where");
  Shape shape = broadcast_shapes(broadcast_shapes(mask.sizes(), a.sizes(), "where"), b.sizes(), "where");
  Tensor m = mask.to(a.dtype());
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
  RETORT_DISPATCH_ALL(a.dtype(), "add_", [&]<class T>() { cpu::apply2_<T>(a, b, [](T x, T y) { return x + y; }); });
}

void mul_(const Tensor& a, const Tensor& b) {
  check_pair(a, b, "mul_");
  RETORT_CHECK(broadcast_shapes(a.sizes(), b.sizes(), "mul_") == a.sizes(), "mul_: ",
               shape_str(b.sizes()), " does not broadcast to ", shape_str(a.sizes()));
  RETORT_DISPATCH_ALL(a.dtype(), "mul_", [&]<class T>() { cpu::apply2_<T>(a, b, [](T x, T y) { return x * y; }); });
}

void add_scaled_(const Tensor& a, const Tensor& b, double alpha) {
  check_pair(a, b, "add_scaled_");
  RETORT_CHECK(broadcast_shapes(a.sizes(), b.sizes(), "add_scaled_") == a.sizes(), "add_scaled_: ",
               shape_str(b.sizes()), " does not broadcast to ", shape_str(a.sizes()));
  RETORT_DISPATCH_ALL(a.dtype(), "add_scaled_", [&]<class T>() {
    T s = static_cast<T>(alpha);
    cpu::apply2_<T>(a, b, [s](T x, T y) { return x + s * y; });
  });
}

void mul_scalar_(const Tensor& a, double s) { mul_(a, scalar_like(a, s)); }

bool all_finite(const Tensor& x) {
  check_cpu(x, "all_finite");
  if (!is_floating(x.dtype())) return true;
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
