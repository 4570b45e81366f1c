// Reference batch norm. Every kernel is a loop over channels (independent, so parallel) around a
// strided walk of that channel's N·H·W values: the shape with C collapsed to 1, shifted by c·stride.
#include "tensor/cpu/batch_norm.h"

#include <array>
#include <cmath>

#include "tensor/cpu/elementwise.h"
#include "tensor/cpu/iter.h"

namespace retort::cpu {

namespace {

// Calls f(offsets) for every value of channel c, one element offset per operand.
template <std::size_t K, class F>
void for_channel(const Shape& sizes, const std::array<const Shape*, K>& strides, std::int64_t c, F&& f) {
  Shape one = sizes;
  one[1] = 1;
  std::array<std::int64_t, K> base{};
  for (std::size_t k = 0; k < K; ++k) base[k] = c * (*strides[k])[1];
  for_each_offset<K>(one, strides, [&](const auto& o) {
    std::array<std::int64_t, K> at;
    for (std::size_t k = 0; k < K; ++k) at[k] = base[k] + o[k];
    f(at);
  });
}

// Element c of a [C] tensor as double, or `fallback` when t is undefined (affine off).
template <class T>
double at(const Tensor& t, std::int64_t c, double fallback) {
  return t.defined() ? double(t.data<T>()[c * t.stride(0)]) : fallback;
}

bool big(const Tensor& x) { return x.numel() > (1 << 16); }

// The per-dtype bodies live in templates: an OpenMP pragma cannot sit inside the arguments of
// the RETORT_DISPATCH_FLOATING macro.
template <class T>
void stats_impl(const Tensor& x, const Tensor& mean, const Tensor& var) {
  const std::int64_t C = x.size(1);
  const double m = double(x.numel() / C);
  const T* xp = x.data<T>();
#pragma omp parallel for if (big(x))
  for (std::int64_t c = 0; c < C; ++c) {
    double s = 0, ss = 0;
    for_channel<1>(x.sizes(), {&x.strides()}, c, [&](const auto& o) { s += double(xp[o[0]]); });
    const double mu = s / m;
    for_channel<1>(x.sizes(), {&x.strides()}, c, [&](const auto& o) {
      double d = double(xp[o[0]]) - mu;
      ss += d * d;
    });
    mean.data<T>()[c] = static_cast<T>(mu);
    var.data<T>()[c] = static_cast<T>(ss / m);
  }
}

template <class T>
void normalize_impl(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& mean,
                    const Tensor& var, double eps, const Tensor& y) {
  const T* xp = x.data<T>();
  T* yp = y.data<T>();
#pragma omp parallel for if (big(x))
  for (std::int64_t c = 0; c < x.size(1); ++c) {
    const double mu = at<T>(mean, c, 0), scale = at<T>(weight, c, 1) / std::sqrt(at<T>(var, c, 1) + eps);
    const double shift = at<T>(bias, c, 0);
    for_channel<2>(x.sizes(), {&x.strides(), &y.strides()}, c, [&](const auto& o) {
      yp[o[1]] = static_cast<T>((double(xp[o[0]]) - mu) * scale + shift);
    });
  }
}

template <class T>
void backward_impl(const Tensor& g, const Tensor& x, const Tensor& weight, const Tensor& mean,
                   const Tensor& var, double eps, bool training, const ops::BatchNormGrads& r) {
  const double m = double(x.numel() / x.size(1));
  const T* xp = x.data<T>();
  const T* gp = g.data<T>();
  T* op = r.gx.data<T>();
#pragma omp parallel for if (big(x))
  for (std::int64_t c = 0; c < x.size(1); ++c) {
    const double mu = at<T>(mean, c, 0), invstd = 1 / std::sqrt(at<T>(var, c, 1) + eps);
    const double s = at<T>(weight, c, 1) * invstd;
    double sg = 0, sgx = 0;  // Σ g and Σ g·x̂ over the channel
    for_channel<2>(x.sizes(), {&x.strides(), &g.strides()}, c, [&](const auto& o) {
      double gv = double(gp[o[1]]);
      sg += gv;
      sgx += gv * (double(xp[o[0]]) - mu) * invstd;
    });
    r.gweight.data<T>()[c] = static_cast<T>(sgx);
    r.gbias.data<T>()[c] = static_cast<T>(sg);
    for_channel<3>(x.sizes(), {&x.strides(), &g.strides(), &r.gx.strides()}, c, [&](const auto& o) {
      double gv = double(gp[o[1]]);
      if (training) gv -= sg / m + (double(xp[o[0]]) - mu) * invstd * sgx / m;
      op[o[2]] = static_cast<T>(s * gv);
    });
  }
}

}  // namespace

ops::BatchNormTrain batch_norm_stats(const Tensor& x) {
  const std::int64_t C = x.size(1);
  ops::BatchNormTrain r{Tensor(), empty({C}, x.dtype(), x.device()), empty({C}, x.dtype(), x.device())};
  dispatch_floating(x.dtype(), "batch_norm", [&]<class T>() { stats_impl<T>(x, r.mean, r.var); });
  return r;
}

Tensor batch_norm_normalize(const Tensor& x, const Tensor& weight, const Tensor& bias,
                            const Tensor& mean, const Tensor& var, double eps) {
  Tensor y = empty_same_layout(x, x.dtype());
  dispatch_floating(x.dtype(), "batch_norm",
                           [&]<class T>() { normalize_impl<T>(x, weight, bias, mean, var, eps, y); });
  return y;
}

ops::BatchNormGrads batch_norm_backward(const Tensor& g, const Tensor& x, const Tensor& weight,
                                        const Tensor& mean, const Tensor& var, double eps, bool training) {
  const std::int64_t C = x.size(1);
  ops::BatchNormGrads r{empty_same_layout(x, x.dtype()), empty({C}, x.dtype(), x.device()),
                        empty({C}, x.dtype(), x.device())};
  dispatch_floating(x.dtype(), "batch_norm_backward",
                           [&]<class T>() { backward_impl<T>(g, x, weight, mean, var, eps, training, r); });
  return r;
}

}  // namespace retort::cpu
