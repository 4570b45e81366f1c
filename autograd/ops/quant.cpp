// Fake quantisation as composites of differentiable ops (see quant.h). Nothing here has a
// hand-written backward: the STE is x + detach(round(x) − x), whose gradient is exactly 1, and
// LSQ's scaled step gradient is s·g + detach(s − s·g), whose value is s and whose gradient is g.
// Composing these with div, clamp and mul gives LSQ's published step gradient term for term.
#include "autograd/ops/quant.h"

#include <cmath>

#include "autograd/grad_mode.h"
#include "autograd/ops/elementwise.h"
#include "tensor/elementwise.h"
#include "tensor/error.h"

namespace retort {

QuantRange quant_range(int bits, bool is_signed) {
  RETORT_CHECK(bits >= 2 && bits <= 8, "quant_range: bits must be in [2, 8], got ", bits);
  if (is_signed) return {-(std::int64_t{1} << (bits - 1)), (std::int64_t{1} << (bits - 1)) - 1};
  return {0, (std::int64_t{1} << bits) - 1};
}

Tensor round_ste(const Tensor& x) { return x + detach(round(x) - x); }

namespace {

void check_params(const char* op, const Tensor& x, const Tensor& p, const char* what) {
  RETORT_CHECK(x.defined() && p.defined(), op, ": x and ", what, " must be defined");
  RETORT_CHECK(is_floating(x.dtype()) && p.dtype() == x.dtype(), op, ": x ", shape_str(x.sizes()),
               " ", dtype_name(x.dtype()), " and ", what, " ", shape_str(p.sizes()), " ",
               dtype_name(p.dtype()), " must share one floating dtype");
  // The parameters broadcast onto x without growing it.
  Shape b = broadcast_shapes(x.sizes(), p.sizes(), op);
  RETORT_CHECK(b == x.sizes(), op, ": ", what, " ", shape_str(p.sizes()),
               " does not broadcast onto x ", shape_str(x.sizes()));
}

void check_range(const char* op, QuantRange r) {
  RETORT_CHECK(r.qmin < r.qmax, op, ": empty range [", r.qmin, ", ", r.qmax, "]");
}

}  // namespace

Tensor fake_quantize(const Tensor& x, const Tensor& scale, const Tensor& zero_point,
                     QuantRange range) {
  check_params("fake_quantize", x, scale, "scale");
  check_params("fake_quantize", x, zero_point, "zero_point");
  check_range("fake_quantize", range);
  Tensor s = detach(scale), z = detach(zero_point);
  Tensor t = round_ste(x / s) + z;
  Tensor q = clamp(t, static_cast<double>(range.qmin), static_cast<double>(range.qmax));
  return (q - z) * s;
}

Tensor lsq_quantize(const Tensor& x, const Tensor& step, QuantRange range, double grad_scale) {
  check_params("lsq_quantize", x, step, "step");
  check_range("lsq_quantize", range);
  RETORT_CHECK(grad_scale > 0 && std::isfinite(grad_scale),
               "lsq_quantize: grad_scale must be positive and finite, got ", grad_scale);
  Tensor scaled = step * grad_scale;
  Tensor s = scaled + detach(step - scaled);
  Tensor v = clamp(x / s, static_cast<double>(range.qmin), static_cast<double>(range.qmax));
  return round_ste(v) * s;
}

double lsq_grad_scale(std::int64_t elements_per_step, QuantRange range) {
  RETORT_CHECK(elements_per_step > 0 && range.qmax > 0, "lsq_grad_scale: need N > 0 and qmax > 0, got N=",
               elements_per_step, " qmax=", range.qmax);
  return 1.0 / std::sqrt(static_cast<double>(elements_per_step) * static_cast<double>(range.qmax));
}

QParams choose_qparams(const Tensor& lo_in, const Tensor& hi_in, QuantRange range, bool symmetric) {
  check_range("choose_qparams", range);
  RETORT_CHECK(lo_in.sizes() == hi_in.sizes() && lo_in.dtype() == hi_in.dtype(),
               "choose_qparams: lo ", shape_str(lo_in.sizes()), " and hi ", shape_str(hi_in.sizes()),
               " must have one shape and dtype");
  NoGradGuard no_grad;
  const double qmin = static_cast<double>(range.qmin), qmax = static_cast<double>(range.qmax);
  // Extending the range to include 0 makes 0 exactly representable (zero padding, ReLU zeros).
  Tensor lo = ops::clamp(lo_in, -INFINITY, 0.0), hi = ops::clamp(hi_in, 0.0, INFINITY);
  Tensor scale, zp;
  if (symmetric) {
    Tensor m = ops::maximum(ops::neg(lo), hi);
    scale = range.qmin < 0 ? ops::mul_scalar(m, 2.0 / (qmax - qmin)) : ops::mul_scalar(m, 1.0 / qmax);
    zp = ops::mul_scalar(scale, 0.0);
  } else {
    scale = ops::mul_scalar(ops::sub(hi, lo), 1.0 / (qmax - qmin));
  }
  // A zero-width range (all zeros) would give scale 0 and 0/0 later: use 1 there.
  Tensor zero = ops::lt_scalar(scale, 1e-30);
  scale = ops::add(scale, zero);
  if (!symmetric)
    zp = ops::clamp(ops::rsub_scalar(ops::round(ops::div(lo, scale)), qmin), qmin, qmax);
  return {scale, zp};
}

}  // namespace retort
