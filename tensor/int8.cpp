// Dispatch point of the int8 kernels (see int8.h): oneDNN's int8 primitives when built with
// oneDNN and the fast paths are on, else (or when oneDNN has no primitive for the case) the
// reference loops.
#include "tensor/int8.h"

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
