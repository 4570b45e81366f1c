// Reference convolution. Inputs are packed first so the loops index plain NCHW arrays; each loop
// nest is parallelised only over an outer pair of dims whose output elements no other iteration
// writes, so results do not depend on the thread count.
#include "tensor/cpu/conv.h"

namespace retort::cpu {

namespace {

// Sizes of one convolution, read from the (packed) operand shapes.
struct Geometry {
  std::int64_t N, C, H, W, O, KH, KW, OH, OW, G, Cg, Og;
  std::int64_t sh, sw, ph, pw, dh, dw;
};

Geometry geometry(const Shape& x, const Shape& w, const Shape& y, const ops::Conv2dParams& p) {
  Geometry g{};
  g.N = x[0], g.C = x[1], g.H = x[2], g.W = x[3];
  g.O = w[0], g.KH = w[2], g.KW = w[3];
  g.OH = y[2], g.OW = y[3];
  g.G = p.groups, g.Cg = g.C / g.G, g.Og = g.O / g.G;
  g.sh = p.stride[0], g.sw = p.stride[1];
  g.ph = p.padding[0], g.pw = p.padding[1];
  g.dh = p.dilation[0], g.dw = p.dilation[1];
  return g;
}

Shape output_sizes(const Shape& x, const Shape& w, const ops::Conv2dParams& p) {
  auto out = [&](int d) {
    return (x[2 + d] + 2 * p.padding[d] - p.dilation[d] * (w[2 + d] - 1) - 1) / p.stride[d] + 1;
  };
  return {x[0], w[0], out(0), out(1)};
}

}  // namespace

Tensor conv2d_forward(const Tensor& x_in, const Tensor& w_in, const Tensor& bias,
                      const ops::Conv2dParams& p) {
  Tensor x = x_in.contiguous(), w = w_in.contiguous();
  Tensor y = empty(output_sizes(x.sizes(), w.sizes(), p), x.dtype());
  const Geometry g = geometry(x.sizes(), w.sizes(), y.sizes(), p);
  dispatch_floating(x.dtype(), "conv2d", [&]<class T>() {
    const T* xp = x.data<T>();
    const T* wp = w.data<T>();
    T* yp = y.data<T>();
    std::vector<T> b(static_cast<std::size_t>(g.O), T(0));
    if (bias.defined()) b = bias.to_vector<T>();
#pragma omp parallel for collapse(2)
    for (std::int64_t n = 0; n < g.N; ++n)
      for (std::int64_t o = 0; o < g.O; ++o) {
        const std::int64_t c0 = (o / g.Og) * g.Cg;
        for (std::int64_t i = 0; i < g.OH; ++i)
          for (std::int64_t j = 0; j < g.OW; ++j) {
            T acc = b[o];
            for (std::int64_t c = 0; c < g.Cg; ++c)
              for (std::int64_t kh = 0; kh < g.KH; ++kh) {
                const std::int64_t h = i * g.sh - g.ph + kh * g.dh;
                if (h < 0 || h >= g.H) continue;
                for (std::int64_t kw = 0; kw < g.KW; ++kw) {
                  const std::int64_t ww = j * g.sw - g.pw + kw * g.dw;
                  if (ww < 0 || ww >= g.W) continue;
                  acc += xp[((n * g.C + c0 + c) * g.H + h) * g.W + ww] *
                         wp[((o * g.Cg + c) * g.KH + kh) * g.KW + kw];
                }
              }
            yp[((n * g.O + o) * g.OH + i) * g.OW + j] = acc;
          }
      }
  });
  return y;
}

Tensor conv2d_backward_data(const Tensor& gy_in, const Tensor& w_in, const Shape& x_sizes,
                            const ops::Conv2dParams& p) {
  Tensor gy = gy_in.contiguous(), w = w_in.contiguous();
  Tensor gx = zeros(x_sizes, gy.dtype());
  const Geometry g = geometry(x_sizes, w.sizes(), gy.sizes(), p);
  dispatch_floating(gy.dtype(), "conv2d_backward_data", [&]<class T>() {
    const T* gyp = gy.data<T>();
    const T* wp = w.data<T>();
    T* gxp = gx.data<T>();
    // Each (n, input channel) plane of gx is owned by one iteration: it gathers from every output
    // channel of its group.
#pragma omp parallel for collapse(2)
    for (std::int64_t n = 0; n < g.N; ++n)
      for (std::int64_t ci = 0; ci < g.C; ++ci) {
        const std::int64_t grp = ci / g.Cg, c = ci % g.Cg;
        T* plane = gxp + (n * g.C + ci) * g.H * g.W;
        for (std::int64_t o = grp * g.Og; o < (grp + 1) * g.Og; ++o)
          for (std::int64_t i = 0; i < g.OH; ++i)
            for (std::int64_t j = 0; j < g.OW; ++j) {
              const T gv = gyp[((n * g.O + o) * g.OH + i) * g.OW + j];
              for (std::int64_t kh = 0; kh < g.KH; ++kh) {
                const std::int64_t h = i * g.sh - g.ph + kh * g.dh;
                if (h < 0 || h >= g.H) continue;
                for (std::int64_t kw = 0; kw < g.KW; ++kw) {
                  const std::int64_t ww = j * g.sw - g.pw + kw * g.dw;
                  if (ww < 0 || ww >= g.W) continue;
                  plane[h * g.W + ww] += gv * wp[((o * g.Cg + c) * g.KH + kh) * g.KW + kw];
                }
              }
            }
      }
  });
  return gx;
}

Tensor conv2d_backward_weight(const Tensor& gy_in, const Tensor& x_in, const Shape& w_sizes,
                              const ops::Conv2dParams& p) {
  Tensor gy = gy_in.contiguous(), x = x_in.contiguous();
  Tensor gw = empty(w_sizes, gy.dtype());
  const Geometry g = geometry(x.sizes(), w_sizes, gy.sizes(), p);
  dispatch_floating(gy.dtype(), "conv2d_backward_weight", [&]<class T>() {
    const T* gyp = gy.data<T>();
    const T* xp = x.data<T>();
    T* gwp = gw.data<T>();
#pragma omp parallel for collapse(2)
    for (std::int64_t o = 0; o < g.O; ++o)
      for (std::int64_t c = 0; c < g.Cg; ++c) {
        const std::int64_t ci = (o / g.Og) * g.Cg + c;
        for (std::int64_t kh = 0; kh < g.KH; ++kh)
          for (std::int64_t kw = 0; kw < g.KW; ++kw) {
            T acc = 0;
            for (std::int64_t n = 0; n < g.N; ++n)
              for (std::int64_t i = 0; i < g.OH; ++i) {
                const std::int64_t h = i * g.sh - g.ph + kh * g.dh;
                if (h < 0 || h >= g.H) continue;
                for (std::int64_t j = 0; j < g.OW; ++j) {
                  const std::int64_t ww = j * g.sw - g.pw + kw * g.dw;
                  if (ww < 0 || ww >= g.W) continue;
                  acc += gyp[((n * g.O + o) * g.OH + i) * g.OW + j] *
                         xp[((n * g.C + ci) * g.H + h) * g.W + ww];
                }
              }
            gwp[((o * g.Cg + c) * g.KH + kh) * g.KW + kw] = acc;
          }
      }
  });
  return gw;
}

Tensor conv2d_backward_bias(const Tensor& gy_in) {
  Tensor gy = gy_in.contiguous();
  const std::int64_t N = gy.size(0), O = gy.size(1), HW = gy.size(2) * gy.size(3);
  Tensor gb = empty({O}, gy.dtype());
  dispatch_floating(gy.dtype(), "conv2d_backward_bias", [&]<class T>() {
    const T* gyp = gy.data<T>();
    T* gbp = gb.data<T>();
    for (std::int64_t o = 0; o < O; ++o) {
      T acc = 0;
      for (std::int64_t n = 0; n < N; ++n)
        for (std::int64_t k = 0; k < HW; ++k) acc += gyp[(n * O + o) * HW + k];
      gbp[o] = acc;
    }
  });
  return gb;
}

}  // namespace retort::cpu
