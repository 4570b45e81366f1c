// Elementwise kernels (ops.h): every op is one functor run by the strided loop of strided.cuh, so
// views, broadcasts and packed tensors share one code path. The arithmetic is written exactly as
// the cpu reference writes it (tensor/elementwise.cpp), including which operand wins ties and
// NaNs in max/min, so cpu and cuda agree to the rounding of the math library.
#include <cmath>
#include <type_traits>

#include "tensor/cuda/cuda_backend.h"
#include "tensor/cuda/device_math.cuh"
#include "tensor/cuda/ops.h"
#include "tensor/cuda/strided.cuh"

namespace retort::cuda {

namespace {

const char* name_of(Unary op) {
  static const char* const names[] = {"neg", "abs",  "sign", "exp",  "log",     "sqrt",
                                      "pow", "pow",  "clamp", "relu", "sigmoid", "tanh", "round"};
  return names[static_cast<int>(op)];
}

const char* name_of(Binary op) {
  static const char* const names[] = {"add", "sub", "mul", "div", "maximum", "minimum",
                                      "eq",  "ne",  "lt",  "le",  "gt",      "ge",
                                      "rsub", "rdiv", "relu_backward", "sigmoid_backward",
                                      "tanh_backward"};
  return names[static_cast<int>(op)];
}

// The cpu's unary_float ops (Square is pow(x, 2), floating-only there too).
bool floating_only(Unary op) {
  return op == Unary::Exp || op == Unary::Log || op == Unary::Sqrt || op == Unary::Square ||
         op == Unary::Pow || op == Unary::Sigmoid || op == Unary::Tanh || op == Unary::Round;
}

template <class T>
__device__ T unary_value(Unary op, T v, double p0, double p1) {
  switch (op) {
    case Unary::Neg: return -v;
    case Unary::Abs: return v < 0 ? -v : v;
    case Unary::Sign: return static_cast<T>((v > 0) - (v < 0));
    case Unary::Square: return v * v;
    case Unary::Clamp: {
      const T lo = static_cast<T>(p0), hi = static_cast<T>(p1);
      return v < lo ? lo : (v > hi ? hi : v);
    }
    case Unary::Relu: return v > 0 ? v : T(0);
    default: break;
  }
  if constexpr (std::is_floating_point_v<T>) {
    switch (op) {
      case Unary::Exp: return dexp(v);
      case Unary::Log: return dlog(v);
      case Unary::Sqrt: return dsqrt(v);
      // std::pow(T, double) computes in double for both float types.
      case Unary::Pow: return static_cast<T>(::pow(static_cast<double>(v), p0));
      case Unary::Sigmoid: return T(1) / (T(1) + dexp(-v));
      case Unary::Tanh: return dtanh(v);
      case Unary::Round: return static_cast<T>(::rint(static_cast<double>(v)));  // half to even
      default: break;
    }
  }
  return v;  // unreachable: the host rejects floating-only ops on int64
}

template <class T>
__device__ T binary_value(Binary op, T x, T y) {
  switch (op) {
    case Binary::Add: return x + y;
    case Binary::Sub: return x - y;
    case Binary::Mul: return x * y;
    case Binary::Div: return x / y;
    case Binary::Max: return x >= y ? x : y;
    case Binary::Min: return x <= y ? x : y;
    case Binary::Eq: return static_cast<T>(x == y);
    case Binary::Ne: return static_cast<T>(x != y);
    case Binary::Lt: return static_cast<T>(x < y);
    case Binary::Le: return static_cast<T>(x <= y);
    case Binary::Gt: return static_cast<T>(x > y);
    case Binary::Ge: return static_cast<T>(x >= y);
    case Binary::RSub: return y - x;
    case Binary::RDiv: return y / x;
    case Binary::ReluBwd: return y > 0 ? x : T(0);
    case Binary::SigmoidBwd: return x * y * (1 - y);
    case Binary::TanhBwd: return x * (1 - y * y);
  }
  return x;
}

template <class T> struct UnaryF {
  T* y;
  const T* x;
  Unary op;
  double p0, p1;
  __device__ void operator()(std::int64_t, const std::int64_t (&o)[2]) const {
    y[o[0]] = unary_value(op, x[o[1]], p0, p1);
  }
};

template <class T> struct BinaryF {
  T* y;
  const T* a;
  const T* b;
  Binary op;
  __device__ void operator()(std::int64_t, const std::int64_t (&o)[3]) const {
    y[o[0]] = binary_value(op, a[o[1]], b[o[2]]);
  }
};

template <class T> struct BinaryInPlaceF {
  T* a;
  const T* b;
  Binary op;
  __device__ void operator()(std::int64_t, const std::int64_t (&o)[2]) const {
    a[o[0]] = binary_value(op, a[o[0]], b[o[1]]);
  }
};

template <class T> struct WhereF {
  T* y;
  const T* m;
  const T* a;
  const T* b;
  __device__ void operator()(std::int64_t, const std::int64_t (&o)[4]) const {
    y[o[0]] = m[o[1]] != T(0) ? a[o[2]] : b[o[3]];
  }
};

// a + s·b without fusing into an FMA, as the cpu computes it.
template <class T> struct AddScaledF {
  T* a;
  const T* b;
  T s;
  __device__ void operator()(std::int64_t, const std::int64_t (&o)[2]) const {
    a[o[0]] = add_rn(a[o[0]], mul_rn(s, b[o[1]]));
  }
};

template <class T> struct ScaleF {
  T* a;
  T s;
  __device__ void operator()(std::int64_t, const std::int64_t (&o)[1]) const { a[o[0]] = a[o[0]] * s; }
};

template <class T> struct FillF {
  T* a;
  T v;
  __device__ void operator()(std::int64_t, const std::int64_t (&o)[1]) const { a[o[0]] = v; }
};

template <class D, class S> struct CopyF {
  D* d;
  const S* s;
  __device__ void operator()(std::int64_t, const std::int64_t (&o)[2]) const {
    d[o[0]] = static_cast<D>(s[o[1]]);
  }
};

template <class T> struct NonFiniteF {
  const T* x;
  int* flag;
  __device__ void operator()(std::int64_t, const std::int64_t (&o)[1]) const {
    if (!isfinite(x[o[0]])) *flag = 1;  // every writer stores the same value
  }
};

void check_same(const Tensor& a, const Tensor& b, const char* op) {
  check_cuda_tensor(a, op, "first operand");
  check_cuda_tensor(b, op, "second operand");
  RETORT_CHECK(a.device() == b.device() && a.dtype() == b.dtype(), op, ": operands ", a.str(),
               " and ", b.str(), " differ in device or dtype");
}

}  // namespace

Tensor unary(Unary op, const Tensor& x, double p0, double p1) {
  const char* name = name_of(op);
  check_cuda_tensor(x, name, "input");
  RETORT_CHECK(!floating_only(op) || is_floating(x.dtype()), name,
               ": expected a floating dtype, got ", dtype_name(x.dtype()));
  DeviceGuard guard(x);
  Tensor y = empty(x.sizes(), x.dtype(), x.device());
  dispatch_all(x.dtype(), name, [&]<class T>() {
    for_each<2>(x.sizes(), {y.strides(), x.strides()}, UnaryF<T>{ptr<T>(y), ptr<T>(x), op, p0, p1}, name);
  });
  return y;
}

Tensor binary(Binary op, const Tensor& a, const Tensor& b, const Shape& out_shape) {
  const char* name = name_of(op);
  check_same(a, b, name);
  DeviceGuard guard(a);
  Tensor y = empty(out_shape, a.dtype(), a.device());
  const Shape sa = broadcast_strides_to(a, out_shape, name), sb = broadcast_strides_to(b, out_shape, name);
  dispatch_all(a.dtype(), name, [&]<class T>() {
    for_each<3>(out_shape, {y.strides(), sa, sb}, BinaryF<T>{ptr<T>(y), ptr<T>(a), ptr<T>(b), op}, name);
  });
  return y;
}

Tensor where(const Tensor& mask, const Tensor& a, const Tensor& b, const Shape& out_shape) {
  check_same(a, b, "where");
  check_same(mask, a, "where");  // the tensor layer converts the mask to a's dtype first
  DeviceGuard guard(a);
  Tensor y = empty(out_shape, a.dtype(), a.device());
  const Shape sm = broadcast_strides_to(mask, out_shape, "where");
  const Shape sa = broadcast_strides_to(a, out_shape, "where"), sb = broadcast_strides_to(b, out_shape, "where");
  dispatch_all(a.dtype(), "where", [&]<class T>() {
    for_each<4>(out_shape, {y.strides(), sm, sa, sb},
                WhereF<T>{ptr<T>(y), ptr<T>(mask), ptr<T>(a), ptr<T>(b)}, "where");
  });
  return y;
}

void binary_(Binary op, const Tensor& a, const Tensor& b) {
  const char* name = name_of(op);
  check_same(a, b, name);
  DeviceGuard guard(a);
  const Shape sb = broadcast_strides_to(b, a.sizes(), name);
  dispatch_all(a.dtype(), name, [&]<class T>() {
    for_each<2>(a.sizes(), {a.strides(), sb}, BinaryInPlaceF<T>{ptr<T>(a), ptr<T>(b), op}, name);
  });
}

void add_scaled_(const Tensor& a, const Tensor& b, double alpha) {
  check_same(a, b, "add_scaled_");
  DeviceGuard guard(a);
  const Shape sb = broadcast_strides_to(b, a.sizes(), "add_scaled_");
  dispatch_all(a.dtype(), "add_scaled_", [&]<class T>() {
    for_each<2>(a.sizes(), {a.strides(), sb},
                AddScaledF<T>{ptr<T>(a), ptr<T>(b), static_cast<T>(alpha)}, "add_scaled_");
  });
}

void mul_scalar_(const Tensor& a, double s) {
  check_cuda_tensor(a, "mul_scalar_", "input");
  DeviceGuard guard(a);
  dispatch_all(a.dtype(), "mul_scalar_", [&]<class T>() {
    for_each<1>(a.sizes(), {a.strides()}, ScaleF<T>{ptr<T>(a), static_cast<T>(s)}, "mul_scalar_");
  });
}

bool all_finite(const Tensor& x) {
  check_cuda_tensor(x, "all_finite", "input");
  if (!is_floating(x.dtype()) || x.numel() == 0) return true;
  DeviceGuard guard(x);
  Workspace flag(sizeof(int), x.device().index);
  RETORT_CUDA(cudaMemsetAsync(flag.get(), 0, sizeof(int), stream()), "all_finite");
  dispatch_floating(x.dtype(), "all_finite", [&]<class T>() {
    for_each<1>(x.sizes(), {x.strides()}, NonFiniteF<T>{ptr<T>(x), static_cast<int*>(flag.get())},
                "all_finite");
  });
  int host = 0;
  copy_to_host(&host, flag.get(), sizeof(int), x.device().index);  // waits for the kernel
  return host == 0;
}

void copy_(const Tensor& dst, const Tensor& src) {
  check_cuda_tensor(dst, "copy_", "destination");
  check_cuda_tensor(src, "copy_", "source");
  RETORT_CHECK(dst.device() == src.device(), "copy_: destination ", dst.str(), " and source ",
               src.str(), " are on different cuda devices");
  DeviceGuard guard(dst);
  if (dst.numel() == 0) return;
  if (dst.dtype() == src.dtype() && dst.sizes() == src.sizes() && dst.is_contiguous() &&
      src.is_contiguous()) {
    RETORT_CUDA(cudaMemcpyAsync(dst.raw_data(), src.raw_data(), dst.numel() * dtype_size(dst.dtype()),
                                cudaMemcpyDeviceToDevice, stream()),
                "copy_");
    return;
  }
  const Shape ss = broadcast_strides_to(src, dst.sizes(), "copy_");
  dispatch_all(dst.dtype(), "copy_", [&]<class D>() {
    dispatch_all(src.dtype(), "copy_", [&]<class S>() {
      for_each<2>(dst.sizes(), {dst.strides(), ss}, CopyF<D, S>{ptr<D>(dst), ptr<S>(src)}, "copy_");
    });
  });
}

void fill_(const Tensor& t, double value) {
  check_cuda_tensor(t, "fill_", "tensor");
  DeviceGuard guard(t);
  if (t.numel() == 0) return;
  if (value == 0 && !std::signbit(value) && t.is_contiguous()) {  // all-zero bits in every dtype
    RETORT_CUDA(cudaMemsetAsync(t.raw_data(), 0, t.numel() * dtype_size(t.dtype()), stream()), "fill_");
    return;
  }
  dispatch_all(t.dtype(), "fill_", [&]<class T>() {
    for_each<1>(t.sizes(), {t.strides()}, FillF<T>{ptr<T>(t), static_cast<T>(value)}, "fill_");
  });
}

}  // namespace retort::cuda
