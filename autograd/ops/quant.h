// Fake quantisation for quantisation-aware training (namespace retort): ops that round a float
// tensor onto a k-bit integer grid and back, so the forward pass sees the values an integer
// model would compute with, while the backward pass uses the straight-through estimator (STE,
// Bengio et al. 2013): the rounding is treated as the identity.
//
// A k-bit grid is the integers [qmin, qmax]: quant_range(k, signed) gives
//   signed   [−2^(k−1), 2^(k−1) − 1]   (k = 8: [−128, 127]; k = 2: [−2, 1])
//   unsigned [0, 2^k − 1]              (k = 8: [0, 255];    k = 2: [0, 3])
// Scales and zero points are per-tensor (0-d, or any shape of ones) or per-channel (shape
// [C, 1, 1, 1] for a conv weight [C, C_in, KH, KW], [C, 1] for a linear weight [C, IN]); they
// broadcast against x.
//
// All ops are composites of differentiable ops (round_ste is x + detach(round(x) − x)), so their
// gradients are those of the composition; tests/autograd/test_quant_grad.cpp pins them.
#pragma once
#include <cstdint>

#include "tensor/tensor.h"

namespace retort {

struct QuantRange {
  std::int64_t qmin = 0, qmax = 0;
};
// The grid of a `bits`-bit integer, 2 ≤ bits ≤ 8 (throws otherwise).
QuantRange quant_range(int bits, bool is_signed);

// round(x) forward (ties to even), gradient 1 (the STE).
Tensor round_ste(const Tensor& x);

// Fixed-parameter fake quantisation (PyTorch's fake_quantize_per_{tensor,channel}_affine):
//   t = round(x / scale) + zero_point,   y = (clamp(t, qmin, qmax) − zero_point) · scale.
// zero_point holds integers (0 for symmetric quantisation). scale and zero_point receive no
// gradient; ∂y/∂x = 1 where qmin ≤ t ≤ qmax and 0 outside (clamped values).
Tensor fake_quantize(const Tensor& x, const Tensor& scale, const Tensor& zero_point,
                     QuantRange range);

// Learned step size quantisation (LSQ, Esser et al., ICLR 2020), zero point 0:
//   y = round(clamp(x / s, qmin, qmax)) · s,
// with s = step [scale shape] a trainable parameter whose gradient is scaled by grad_scale g
// (the paper's g = 1/√(N·qmax), N = the number of elements sharing one step):
//   ∂y/∂x = 1 where qmin ≤ x/s ≤ qmax, else 0;
//   ∂y/∂s = g · (round(x/s) − x/s)  where qmin ≤ x/s ≤ qmax,
//           g · qmin                where x/s < qmin,
//           g · qmax                where x/s > qmax,
// summed over the elements sharing the step. The forward value does not depend on g.
Tensor lsq_quantize(const Tensor& x, const Tensor& step, QuantRange range, double grad_scale);

// LSQ's grad_scale for a step shared by `elements_per_step` values on range: 1/√(N·qmax).
double lsq_grad_scale(std::int64_t elements_per_step, QuantRange range);

// Scale and zero point that map [lo, hi] (extended to include 0, so that 0 is exact) onto range,
// elementwise over lo/hi of any shape (per tensor: 0-d; per channel: [C, 1, ...]):
//   symmetric:  scale = max(|lo|, |hi|) / ((qmax − qmin) / 2), zero_point = 0
//               (for signed ranges; for unsigned ones [0, hi] with scale = hi / qmax);
//   asymmetric: scale = (hi − lo) / (qmax − qmin), zero_point = clamp(qmin − round(lo / scale),
//               qmin, qmax).
// A zero-width range gets scale 1 (and zero point as above), never 0 or NaN. No gradient.
struct QParams {
  Tensor scale, zero_point;
};
QParams choose_qparams(const Tensor& lo, const Tensor& hi, QuantRange range, bool symmetric);

}  // namespace retort
