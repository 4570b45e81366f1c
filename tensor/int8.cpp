// Dispatch point of the int8 kernels (see int8.h): oneDNN's int8 primitives when built with
// oneDNN and the fast paths are on, else (or when oneDNN has no primitive for the case) the
// reference loops.
#include "tensor/int8.h"

#include <algorithm>

#include "retort_config.h"
#include "tensor/cpu/int8.h"
#include "tensor/error.h"
#if RETORT_WITH_ONEDNN
#include "tensor/onednn/common.h"
#include "tensor/onednn/int8.h"
#endif

namespace retort::ops {

void check_int8_layer(const Int8Layer& l, const char* op) {
  const std::int64_t k = l.in_channels * l.kernel_h * l.kernel_w;
  RETORT_CHECK(l.out_channels > 0 && k > 0 && l.stride_h > 0 && l.stride_w > 0, op,
               ": layer sizes must be positive, got OC=", l.out_channels, " C=", l.in_channels, " kernel ",
               l.kernel_h, "x", l.kernel_w, " stride ", l.stride_h, "x", l.stride_w);
  RETORT_CHECK(static_cast<std::int64_t>(l.weight.size()) == l.out_channels * k &&
                   static_cast<std::int64_t>(l.scale.size()) == l.out_channels &&
                   static_cast<std::int64_t>(l.bias.size()) == l.out_channels,
               op, ": weight has ", l.weight.size(), " values for [", l.out_channels, ", ", k, "], scale ",
               l.scale.size(), " and bias ", l.bias.size(), " for ", l.out_channels, " channels");
  for (float s : l.scale) RETORT_CHECK(s > 0, op, ": output scales must be positive, got ", s);
  // |Σ| ≤ K·255·128 must fit the int32 accumulator.
  RETORT_CHECK(k <= (std::int64_t{1} << 31) / (255 * 128), op, ": ", k,
               " products per output could overflow the int32 sum");
}

std::vector<std::uint8_t> quantize_u8(const Tensor& x_in, float scale, float zero_point, std::int64_t qmin,
                                      std::int64_t qmax, std::int64_t pad_h, std::int64_t pad_w) {
  RETORT_CHECK(x_in.defined() && x_in.dtype() == kFloat32 && x_in.device().is_cpu(), "quantize_u8: x must be a "
               "float32 cpu tensor");
  RETORT_CHECK(scale > 0 && qmin < qmax && qmax - qmin <= 255, "quantize_u8: scale ", scale, " and grid [", qmin,
               ", ", qmax, "] (at most 256 levels)");
  // A channels-last view (an NCHW view of NHWC memory, as the int8 convolution returns) is read
  // in place; anything else is packed first.
  const bool nhwc = x_in.dim() == 4 && x_in.strides() == Shape{x_in.size(1) * x_in.size(2) * x_in.size(3), 1,
                                                                  x_in.size(3) * x_in.size(1), x_in.size(1)};
  Tensor x = nhwc ? x_in : x_in.contiguous();
  const float* px = x.data<float>();
  // Clamping x / scale to the grid (±1) first keeps it below 2^22, where adding and subtracting
  // 1.5·2^23 rounds half to even (the default rounding mode), as std::nearbyint would; the loop
  // then vectorises.
  const float lo = static_cast<float>(qmin) - zero_point - 1, hi = static_cast<float>(qmax) - zero_point + 1;
  const float flo = static_cast<float>(qmin), fhi = static_cast<float>(qmax), magic = 12582912.0f;
  auto q = [=](float v) {
    float t = std::min(std::max(v / scale, lo), hi);
    t = (t + magic) - magic + zero_point;
    return static_cast<std::uint8_t>(std::min(std::max(t, flo), fhi) - flo);
  };
  if (x.dim() != 4) {
    std::vector<std::uint8_t> out(static_cast<std::size_t>(x.numel()));
    const std::int64_t n = x.numel();
#pragma omp parallel for if (n > 65536)
    for (std::int64_t i = 0; i < n; ++i) out[static_cast<std::size_t>(i)] = q(px[i]);
    return out;
  }
  const std::int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  const std::int64_t hp = h + 2 * pad_h, wp = w + 2 * pad_w;
  std::vector<std::uint8_t> out(static_cast<std::size_t>(n * hp * wp * c),
                                static_cast<std::uint8_t>(zero_point - flo));
  if (nhwc) {
#pragma omp parallel for collapse(2) if (x.numel() > 65536)
    for (std::int64_t b = 0; b < n; ++b)
      for (std::int64_t i = 0; i < h; ++i) {
        const float* row = px + (b * h + i) * w * c;
        std::uint8_t* dst = out.data() + ((b * hp + i + pad_h) * wp + pad_w) * c;
        for (std::int64_t j = 0; j < w * c; ++j) dst[j] = q(row[j]);
      }
    return out;
  }
#pragma omp parallel for collapse(2) if (x.numel() > 65536)
  for (std::int64_t b = 0; b < n; ++b)
    for (std::int64_t i = 0; i < h; ++i)
      for (std::int64_t ci = 0; ci < c; ++ci) {
        const float* row = px + ((b * c + ci) * h + i) * w;
        std::uint8_t* dst = out.data() + ((b * hp + i + pad_h) * wp + pad_w) * c + ci;
        for (std::int64_t j = 0; j < w; ++j) dst[j * c] = q(row[j]);
      }
  return out;
}

Tensor int8_conv2d(const std::vector<std::uint8_t>& x, std::int64_t n, std::int64_t h, std::int64_t w,
                   const Int8Layer& l) {
  check_int8_layer(l, "int8_conv2d");
  RETORT_CHECK(n > 0 && h >= l.kernel_h && w >= l.kernel_w &&
                   static_cast<std::int64_t>(x.size()) == n * h * w * l.in_channels,
               "int8_conv2d: input of ", x.size(), " values is not [N, H, W, C] = [", n, ", ", h, ", ", w, ", ",
               l.in_channels, "] with H, W at least the kernel ", l.kernel_h, "x", l.kernel_w);
#if RETORT_WITH_ONEDNN
  if (onednn::enabled())
    if (Tensor y = onednn::int8_conv2d(x, n, h, w, l); y.defined()) return y;
#endif
  return cpu::int8_conv2d(x, n, h, w, l);
}

Tensor int8_linear(const std::vector<std::uint8_t>& x, std::int64_t m, const Int8Layer& l) {
  check_int8_layer(l, "int8_linear");
  RETORT_CHECK(m > 0 && static_cast<std::int64_t>(x.size()) == m * l.in_channels, "int8_linear: input of ",
               x.size(), " values is not [M, K] = [", m, ", ", l.in_channels, "]");
#if RETORT_WITH_ONEDNN
  if (onednn::enabled())
    if (Tensor y = onednn::int8_linear(x, m, l); y.defined()) return y;
#endif
  return cpu::int8_linear(x, m, l);
}

}  // namespace retort::ops
