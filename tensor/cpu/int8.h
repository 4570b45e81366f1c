// Reference int8 kernels: plain loops with int32 accumulation, the specification of
// tensor/int8.h's ops (same arguments and results) that the oneDNN fast path is tested against.
#pragma once
#include "tensor/int8.h"

namespace retort::cpu {

Tensor int8_conv2d(const std::vector<std::uint8_t>& x, std::int64_t n, std::int64_t h, std::int64_t w,
                   const ops::Int8Layer& layer);
Tensor int8_linear(const std::vector<std::uint8_t>& x, std::int64_t m, const ops::Int8Layer& layer);

}  // namespace retort::cpu
