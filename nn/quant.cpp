// FakeQuantize (see quant.h). Observed ranges and LSQ's initial step are set without recording a
// graph: they are statistics of the data, not functions the loss differentiates through (as in
// PyTorch's observers). Only the quantisation itself, fake_quantize or lsq_quantize, is recorded.
#include <cmath>
#include <sstream>

#include "autograd/grad_mode.h"
#include "autograd/ops/elementwise.h"
#include "autograd/ops/reduce.h"
#include "nn/quant.h"
#include "tensor/elementwise.h"
#include "tensor/reduce.h"
#include "tensor/shape.h"
#include "tensor/views.h"

namespace retort::nn {

FakeQuantize::FakeQuantize(Kind kind, int bits, bool lsq, const Shape& param_shape, DType dtype,
                           double momentum)
    : kind(kind), bits(bits), lsq(lsq), momentum(momentum), param_shape_(param_shape) {
  quant_range(bits, true);  // checks bits
  RETORT_CHECK(momentum > 0 && momentum <= 1, "FakeQuantize: momentum must be in (0, 1], got ",
               momentum);
  RETORT_CHECK(kind == Kind::Weight || shape_numel(param_shape) == 1,
               "FakeQuantize: activations are quantised per tensor, got scale shape ",
               shape_str(param_shape));
  initialized_ = register_buffer("initialized", zeros({}, dtype));
  // Weights always use a signed grid; an activation's grid is chosen at its first forward.
  signed_ = register_buffer("signed", full({}, kind == Kind::Weight ? 1.0 : 0.0, dtype));
  if (lsq) {
    step_init_ = register_buffer("step_init", ones(param_shape, dtype));
    step_ = register_parameter("step_scale", ones(param_shape, dtype));
  } else {
    if (kind == Kind::Activation) {
      lo_ = register_buffer("lo", zeros({}, dtype));
      hi_ = register_buffer("hi", zeros({}, dtype));
    }
    scale_ = register_buffer("scale", ones(param_shape, dtype));
    zero_point_ = register_buffer("zero_point", zeros(param_shape, dtype));
  }
}

QuantRange FakeQuantize::range() const {
  return quant_range(bits, signed_.item<double>() != 0.0);
}

Tensor FakeQuantize::scale() const {
  RETORT_CHECK(initialized_.item<double>() != 0.0, "FakeQuantize::scale: no forward yet");
  return lsq ? ops::mul(step_init_, step_) : scale_;
}

Tensor FakeQuantize::zero_point() const {
  RETORT_CHECK(initialized_.item<double>() != 0.0, "FakeQuantize::zero_point: no forward yet");
  return lsq ? zeros(param_shape_, step_.dtype(), step_.device()) : zero_point_;
}

std::pair<Tensor, Tensor> FakeQuantize::min_max(const Tensor& x) const {
  if (shape_numel(param_shape_) == 1)
    return {ops::reshape(ops::min_all(x), param_shape_), ops::reshape(ops::max_all(x), param_shape_)};
  Tensor rows = ops::reshape(x, {x.size(0), -1});
  return {ops::reshape(ops::min(rows, 1, true).values, param_shape_),
          ops::reshape(ops::max(rows, 1, true).values, param_shape_)};
}

void FakeQuantize::observe(const Tensor& x) {
  auto [lo, hi] = min_max(x);
  if (kind == Kind::Weight) {
    // A weight's range is its current one: the weight changes every step.
    QParams q = choose_qparams(lo, hi, range(), /*symmetric=*/true);
    scale_.copy_(q.scale);
    zero_point_.copy_(q.zero_point);
    return;
  }
  bool first = initialized_.item<double>() == 0.0;
  if (first) {
    lo_.copy_(lo);
    hi_.copy_(hi);
  } else if (is_training()) {
    lo_.copy_(ops::add(lo_, ops::mul_scalar(ops::sub(lo, lo_), momentum)));
    hi_.copy_(ops::add(hi_, ops::mul_scalar(ops::sub(hi, hi_), momentum)));
  }
  QParams q = choose_qparams(lo_, hi_, range(), /*symmetric=*/false);
  scale_.copy_(q.scale);
  zero_point_.copy_(q.zero_point);
}

void FakeQuantize::initialize_step(const Tensor& x) {
  if (kind == Kind::Activation) signed_.fill_(ops::min_all(x).item<double>() < 0 ? 1.0 : 0.0);
  // LSQ's initial step 2·mean(|x|)/√qmax, per channel for a per-channel weight.
  Tensor a = ops::abs(x);
  Tensor m = shape_numel(param_shape_) == 1
                 ? ops::reshape(ops::mean(a), param_shape_)
                 : ops::reshape(ops::mean(ops::reshape(a, {x.size(0), -1}), {1}, true), param_shape_);
  Tensor s = ops::mul_scalar(m, 2.0 / std::sqrt(static_cast<double>(range().qmax)));
  // An all-zero tensor would start with step 0 and divide by it: start at 1 instead.
  step_init_.copy_(ops::add(s, ops::lt_scalar(s, 1e-30)));
}

Tensor FakeQuantize::forward(const Tensor& x) {
  RETORT_CHECK(x.defined() && x.dtype() == initialized_.dtype(), "FakeQuantize: input ",
               x.defined() ? shape_str(x.sizes()) : "undefined", " must be ",
               dtype_name(initialized_.dtype()));
  RETORT_CHECK(shape_numel(param_shape_) == 1 || (x.dim() == static_cast<std::int64_t>(param_shape_.size()) &&
                                                  x.size(0) == param_shape_[0]),
               "FakeQuantize: input ", shape_str(x.sizes()), " does not match the per-channel scale ",
               shape_str(param_shape_));
  {
    NoGradGuard no_grad;
    Tensor xd = detach(x);
    if (!lsq) {
      observe(xd);
    } else if (initialized_.item<double>() == 0.0) {
      initialize_step(xd);
    }
    initialized_.fill_(1.0);
  }
  if (!lsq) return fake_quantize(x, scale_, zero_point_, range());
  RETORT_CHECK(ops::min_all(detach(step_)).item<double>() > 0, "FakeQuantize: LSQ step ",
               shape_str(step_.sizes()), " is no longer positive (learning rate too high?)");
  QuantRange r = range();
  // s = s₀·p: lsq_quantize sees the step s and gives it LSQ's gradient; p receives s₀ times it.
  return lsq_quantize(x, step_init_ * step_, r, lsq_grad_scale(x.numel() / step_.numel(), r));
}

std::string FakeQuantize::extra_repr() const {
  std::ostringstream os;
  os << (kind == Kind::Weight ? "weight" : "activation") << ", bits=" << bits
     << (lsq ? ", lsq" : ", observer") << ", scale_shape=" << shape_str(param_shape_);
  return os.str();
}

}  // namespace retort::nn
