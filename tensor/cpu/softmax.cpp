// Reference softmax. The outer loop visits every slice start (the shape with dim collapsed to
// size 1), the inner loops walk the slice with the operands' strides along dim.
#include "tensor/cpu/softmax.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "tensor/cpu/elementwise.h"
#include "tensor/cpu/iter.h"

namespace retort::cpu {

namespace {

// Shape with dim collapsed to one element: iterating it visits each slice once.
Shape slice_starts(const Shape& sizes, int dim) {
  Shape s = sizes;
  s[static_cast<std::size_t>(dim)] = 1;
  return s;
}

}  // namespace

Tensor softmax(const Tensor& x, int dim, bool log) {
  Tensor y = empty_same_layout(x, x.dtype());
  const std::int64_t n = x.size(dim), sx = x.stride(dim), sy = y.stride(dim);
  RETORT_DISPATCH_FLOATING(x.dtype(), log ? "log_softmax" : "softmax", [&]<class T>() {
    const T* xp = x.data<T>();
    T* yp = y.data<T>();
    for_each_offset<2>(slice_starts(x.sizes(), dim), {&x.strides(), &y.strides()}, [&](const auto& o) {
      const T* xs = xp + o[0];
      T* ys = yp + o[1];
      double mx = -std::numeric_limits<double>::infinity();
      for (std::int64_t i = 0; i < n; ++i) mx = std::max(mx, double(xs[i * sx]));
      double sum = 0;
      for (std::int64_t i = 0; i < n; ++i) sum += std::exp(double(xs[i * sx]) - mx);
      const double lse = mx + std::log(sum);
      for (std::int64_t i = 0; i < n; ++i) {
        double v = double(xs[i * sx]);
        ys[i * sy] = static_cast<T>(log ? v - lse : std::exp(v - mx) / sum);
      }
    });
  });
  return y;
}

Tensor softmax_backward(const Tensor& g, const Tensor& y, int dim, bool log) {
  Tensor gx = empty_same_layout(y, y.dtype());
  const std::int64_t n = y.size(dim), sg = g.stride(dim), sy = y.stride(dim), so = gx.stride(dim);
  RETORT_DISPATCH_FLOATING(y.dtype(), log ? "log_softmax_backward" : "softmax_backward", [&]<class T>() {
    const T* gp = g.data<T>();
    const T* yp = y.data<T>();
    T* op = gx.data<T>();
    for_each_offset<3>(slice_starts(y.sizes(), dim), {&g.strides(), &y.strides(), &gx.strides()},
                       [&](const auto& o) {
      const T* gs = gp + o[0];
      const T* ys = yp + o[1];
      T* os = op + o[2];
      // softmax needs Σ g·y, log_softmax needs Σ g.
      double dot = 0;
      for (std::int64_t i = 0; i < n; ++i) dot += double(gs[i * sg]) * (log ? 1.0 : double(ys[i * sy]));
      for (std::int64_t i = 0; i < n; ++i) {
        double gv = double(gs[i * sg]), yv = double(ys[i * sy]);
        os[i * so] = static_cast<T>(log ? gv - std::exp(yv) * dot : yv * (gv - dot));
      }
    });
  });
  return gx;
}

}  // namespace retort::cpu
