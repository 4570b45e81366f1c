// Reference pooling. Every kernel works plane by plane ((n, c) pairs are independent), on packed
// copies of its inputs, with the window bounds clipped to the image once per output element.
#include "tensor/cpu/pool.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace retort::cpu {

namespace {

// One window's in-image bounds [lo, hi) along one dim.
struct Range {
  std::int64_t lo, hi;
};
Range window(std::int64_t i, std::int64_t k, std::int64_t s, std::int64_t p, std::int64_t size) {
  const std::int64_t start = i * s - p;
  return {std::max<std::int64_t>(start, 0), std::min(start + k, size)};
}
Range adaptive_window(std::int64_t i, std::int64_t out, std::int64_t size) {
  return {(i * size) / out, ((i + 1) * size + out - 1) / out};
}

// The windows of a pooling with params p over an H×W image: (i, j) → (rows, columns).
auto pool_windows(const ops::Pool2dParams& p, std::int64_t H, std::int64_t W) {
  return [p, H, W](std::int64_t i, std::int64_t j) {
    return std::pair{window(i, p.kernel[0], p.stride[0], p.padding[0], H),
                     window(j, p.kernel[1], p.stride[1], p.padding[1], W)};
  };
}
auto adaptive_windows(std::int64_t OH, std::int64_t OW, std::int64_t H, std::int64_t W) {
  return [=](std::int64_t i, std::int64_t j) {
    return std::pair{adaptive_window(i, OH, H), adaptive_window(j, OW, W)};
  };
}

// The avg-pool divisor of a window.
std::int64_t divisor(const ops::Pool2dParams& p, bool count_include_pad, Range rh, Range rw) {
  return count_include_pad ? p.kernel[0] * p.kernel[1] : (rh.hi - rh.lo) * (rw.hi - rw.lo);
}

Shape pooled(const Shape& x, const ops::Pool2dParams& p) {
  return {x[0], x[1], (x[2] + 2 * p.padding[0] - p.kernel[0]) / p.stride[0] + 1,
          (x[3] + 2 * p.padding[1] - p.kernel[1]) / p.stride[1] + 1};
}

// Calls f(plane index, in-plane output index, row range, column range) for every output element;
// planes are split across threads.
template <class Win, class F>
void for_each_window(std::int64_t planes, std::int64_t OH, std::int64_t OW, Win win, F f) {
#pragma omp parallel for
  for (std::int64_t pl = 0; pl < planes; ++pl)
    for (std::int64_t i = 0; i < OH; ++i)
      for (std::int64_t j = 0; j < OW; ++j) {
        auto [rh, rw] = win(i, j);
        f(pl, i * OW + j, rh, rw);
      }
}

}  // namespace

MaxPool2dOutput max_pool2d_forward(const Tensor& x_in, const ops::Pool2dParams& p) {
  Tensor x = x_in.contiguous();
  const Shape ys = pooled(x.sizes(), p);
  const std::int64_t H = x.size(2), W = x.size(3), OHW = ys[2] * ys[3];
  MaxPool2dOutput r{empty(ys, x.dtype()), empty(ys, kInt64)};
  dispatch_floating(x.dtype(), "max_pool2d", [&]<class T>() {
    const T* xp = x.data<T>();
    T* yp = r.output.data<T>();
    std::int64_t* ip = r.indices.data<std::int64_t>();
    auto body = [&](std::int64_t pl, std::int64_t o, Range rh, Range rw) {
      const T* plane = xp + pl * H * W;
      T best = -std::numeric_limits<T>::infinity();
      std::int64_t arg = rh.lo * W + rw.lo;
      for (std::int64_t h = rh.lo; h < rh.hi; ++h)
        for (std::int64_t w = rw.lo; w < rw.hi; ++w)
          // NaN propagates, as in PyTorch.
          if (plane[h * W + w] > best || std::isnan(plane[h * W + w])) {
            best = plane[h * W + w];
            arg = h * W + w;
          }
      yp[pl * OHW + o] = best;
      ip[pl * OHW + o] = arg;
    };
    for_each_window(ys[0] * ys[1], ys[2], ys[3], pool_windows(p, H, W), body);
  });
  return r;
}

Tensor max_pool2d_backward(const Tensor& gy_in, const Tensor& indices_in, const Shape& x_sizes) {
  Tensor gy = gy_in.contiguous(), idx = indices_in.contiguous();
  Tensor gx = zeros(x_sizes, gy.dtype());
  const std::int64_t planes = x_sizes[0] * x_sizes[1], HW = x_sizes[2] * x_sizes[3];
  const std::int64_t OHW = gy.size(2) * gy.size(3);
  dispatch_floating(gy.dtype(), "max_pool2d_backward", [&]<class T>() {
    const T* gyp = gy.data<T>();
    const std::int64_t* ip = idx.data<std::int64_t>();
    T* gxp = gx.data<T>();
#pragma omp parallel for
    for (std::int64_t pl = 0; pl < planes; ++pl)
      for (std::int64_t o = 0; o < OHW; ++o) gxp[pl * HW + ip[pl * OHW + o]] += gyp[pl * OHW + o];
  });
  return gx;
}

Tensor avg_pool2d_forward(const Tensor& x_in, const ops::Pool2dParams& p, bool count_include_pad) {
  Tensor x = x_in.contiguous();
  const Shape ys = pooled(x.sizes(), p);
  const std::int64_t H = x.size(2), W = x.size(3), OHW = ys[2] * ys[3];
  Tensor y = empty(ys, x.dtype());
  dispatch_floating(x.dtype(), "avg_pool2d", [&]<class T>() {
    const T* xp = x.data<T>();
    T* yp = y.data<T>();
    auto body = [&](std::int64_t pl, std::int64_t o, Range rh, Range rw) {
      const T* plane = xp + pl * H * W;
      T acc = 0;
      for (std::int64_t h = rh.lo; h < rh.hi; ++h)
        for (std::int64_t w = rw.lo; w < rw.hi; ++w) acc += plane[h * W + w];
      yp[pl * OHW + o] = acc / static_cast<T>(divisor(p, count_include_pad, rh, rw));
    };
    for_each_window(ys[0] * ys[1], ys[2], ys[3], pool_windows(p, H, W), body);
  });
  return y;
}

Tensor avg_pool2d_backward(const Tensor& gy_in, const Shape& x_sizes, const ops::Pool2dParams& p,
                           bool count_include_pad) {
  Tensor gy = gy_in.contiguous();
  Tensor gx = zeros(x_sizes, gy.dtype());
  const std::int64_t H = x_sizes[2], W = x_sizes[3], OHW = gy.size(2) * gy.size(3);
  dispatch_floating(gy.dtype(), "avg_pool2d_backward", [&]<class T>() {
    const T* gyp = gy.data<T>();
    T* gxp = gx.data<T>();
    auto body = [&](std::int64_t pl, std::int64_t o, Range rh, Range rw) {
      T* plane = gxp + pl * H * W;
      const T g = gyp[pl * OHW + o] / static_cast<T>(divisor(p, count_include_pad, rh, rw));
      for (std::int64_t h = rh.lo; h < rh.hi; ++h)
        for (std::int64_t w = rw.lo; w < rw.hi; ++w) plane[h * W + w] += g;
    };
    for_each_window(x_sizes[0] * x_sizes[1], gy.size(2), gy.size(3), pool_windows(p, H, W), body);
  });
  return gx;
}

Tensor adaptive_avg_pool2d_forward(const Tensor& x_in, std::array<std::int64_t, 2> out) {
  Tensor x = x_in.contiguous();
  const std::int64_t H = x.size(2), W = x.size(3), OHW = out[0] * out[1];
  Tensor y = empty({x.size(0), x.size(1), out[0], out[1]}, x.dtype());
  dispatch_floating(x.dtype(), "adaptive_avg_pool2d", [&]<class T>() {
    const T* xp = x.data<T>();
    T* yp = y.data<T>();
    auto body = [&](std::int64_t pl, std::int64_t o, Range rh, Range rw) {
      const T* plane = xp + pl * H * W;
      T acc = 0;
      for (std::int64_t h = rh.lo; h < rh.hi; ++h)
        for (std::int64_t w = rw.lo; w < rw.hi; ++w) acc += plane[h * W + w];
      yp[pl * OHW + o] = acc / static_cast<T>((rh.hi - rh.lo) * (rw.hi - rw.lo));
    };
    for_each_window(x.size(0) * x.size(1), out[0], out[1], adaptive_windows(out[0], out[1], H, W),
                    body);
  });
  return y;
}

Tensor adaptive_avg_pool2d_backward(const Tensor& gy_in, const Shape& x_sizes) {
  Tensor gy = gy_in.contiguous();
  const std::int64_t H = x_sizes[2], W = x_sizes[3], OH = gy.size(2), OW = gy.size(3);
  Tensor gx = zeros(x_sizes, gy.dtype());
  dispatch_floating(gy.dtype(), "adaptive_avg_pool2d_backward", [&]<class T>() {
    const T* gyp = gy.data<T>();
    T* gxp = gx.data<T>();
    auto body = [&](std::int64_t pl, std::int64_t o, Range rh, Range rw) {
      T* plane = gxp + pl * H * W;
      const T g = gyp[pl * OH * OW + o] / static_cast<T>((rh.hi - rh.lo) * (rw.hi - rw.lo));
      for (std::int64_t h = rh.lo; h < rh.hi; ++h)
        for (std::int64_t w = rw.lo; w < rw.hi; ++w) plane[h * W + w] += g;
    };
    for_each_window(x_sizes[0] * x_sizes[1], OH, OW, adaptive_windows(OH, OW, H, W), body);
  });
  return gx;
}

}  // namespace retort::cpu
