// Reference int8 kernels (see int8.h): the integer sums in int32 exactly as an int8 backend
// accumulates them, then one float multiply-add per output, so results are comparable to the
// fast path's to float rounding.
#include "tensor/cpu/int8.h"

namespace retort::cpu {

namespace {
float finish(const ops::Int8Layer& l, std::int64_t o, std::int32_t acc) {
  float v = l.scale[o] * static_cast<float>(acc) + l.bias[o];
  return l.relu && v < 0 ? 0.0f : v;
}
}  // namespace

Tensor int8_conv2d(const std::vector<std::uint8_t>& x, std::int64_t n, std::int64_t h, std::int64_t w,
                   const ops::Int8Layer& l) {
  const std::int64_t c = l.in_channels, oc = l.out_channels;
  const std::int64_t oh = (h - l.kernel_h) / l.stride_h + 1, ow = (w - l.kernel_w) / l.stride_w + 1;
  Tensor y = empty({n, oc, oh, ow});
  float* out = y.data<float>();
  for (std::int64_t b = 0; b < n; ++b)
    for (std::int64_t o = 0; o < oc; ++o)
      for (std::int64_t i = 0; i < oh; ++i)
        for (std::int64_t j = 0; j < ow; ++j) {
          std::int32_t acc = 0;
          for (std::int64_t u = 0; u < l.kernel_h; ++u)
            for (std::int64_t v = 0; v < l.kernel_w; ++v) {
              const std::uint8_t* px = &x[static_cast<std::size_t>(((b * h + i * l.stride_h + u) * w + j * l.stride_w + v) * c)];
              for (std::int64_t ci = 0; ci < c; ++ci)
                acc += static_cast<std::int32_t>(px[ci]) *
                       static_cast<std::int32_t>(l.weight[static_cast<std::size_t>(((o * c + ci) * l.kernel_h + u) * l.kernel_w + v)]);
            }
          out[((b * oc + o) * oh + i) * ow + j] = finish(l, o, acc);
        }
  return y;
}

Tensor int8_linear(const std::vector<std::uint8_t>& x, std::int64_t m, const ops::Int8Layer& l) {
  const std::int64_t k = l.in_channels, oc = l.out_channels;
  Tensor y = empty({m, oc});
  float* out = y.data<float>();
  for (std::int64_t r = 0; r < m; ++r)
    for (std::int64_t o = 0; o < oc; ++o) {
      std::int32_t acc = 0;
      for (std::int64_t i = 0; i < k; ++i)
        acc += static_cast<std::int32_t>(x[static_cast<std::size_t>(r * k + i)]) *
               static_cast<std::int32_t>(l.weight[static_cast<std::size_t>(o * k + i)]);
      out[r * oc + o] = finish(l, o, acc);
    }
  return y;
}

}  // namespace retort::cpu
