// Feature losses. The spatial alignment follows RepDistiller (compare H only, pool the larger
// to the smaller) but pools to the smaller map's full (H, W) rather than (H, H), so non-square
// maps work; for square maps the two agree.
#include "kd/feature.h"

#include <algorithm>
#include <cmath>

#include "autograd/ops/elementwise.h"
#include "autograd/ops/nn_ops.h"
#include "autograd/ops/reduce.h"
#include "autograd/ops/shape.h"
#include "kd/common.h"
#include "nn/functional.h"
#include "tensor/error.h"

namespace retort::kd {

namespace {

const char* kind_name(HintKind k) {
  switch (k) {
    case HintKind::Conv1x1: return "conv1x1";
    case HintKind::Conv3x3: return "conv3x3";
    case HintKind::ConvReg: return "convreg";
    case HintKind::Linear: break;
  }
  return "linear";
}

std::int64_t numel_after_batch(const Shape& s) {
  std::int64_t n = 1;
  for (std::size_t i = 1; i < s.size(); ++i) n *= s[i];
  return n;
}

// Both maps pooled to the same spatial size (the smaller one's), as RepDistiller's at_loss.
std::pair<Tensor, Tensor> align_spatial(const char* op, const Tensor& f_s, const Tensor& f_t) {
  check_rank(op, f_s, 4, "student features", "[N, C, H, W]");
  check_rank(op, f_t, 4, "teacher features", "[N, C, H, W]");
  check_same_batch(op, f_s, f_t);
  Tensor s = f_s, t = f_t;
  if (s.size(2) > t.size(2)) {
    s = adaptive_avg_pool2d(s, {t.size(2), t.size(3)});
  } else if (s.size(2) < t.size(2)) {
    t = adaptive_avg_pool2d(t, {s.size(2), s.size(3)});
  }
  RETORT_CHECK(s.size(3) == t.size(3), op, ": student features ", shape_str(f_s.sizes()),
               " and teacher features ", shape_str(f_t.sizes()),
               " cannot be aligned spatially (widths differ after pooling heights)");
  return {s, t};
}

// F [N, C, H·W] with each channel map L2-normalised.
Tensor channel_maps(const Tensor& f) {
  return l2_normalize(reshape(f, {f.size(0), f.size(1), f.size(2) * f.size(3)}), 2);
}

// RepDistiller's poly_kernel(a, b): [N, C_b, C_a] of (b_i·a_j)².
Tensor poly_kernel(const Tensor& a, const Tensor& b) { return pow(bmm(b, transpose(a, 1, 2)), 2.0); }

}  // namespace

HintRegressor::HintRegressor(HintKind k, const Shape& s, const Shape& t, const TensorOptions& to)
    : kind(k), student_shape(s), teacher_shape(t) {
  auto fail_shapes = [&](const char* why) {
    fail("HintRegressor (", kind_name(k), "): student feature ", shape_str(s),
         " and teacher feature ", shape_str(t), ": ", why);
  };
  if (s.size() < 2 || t.size() < 2) fail_shapes("features must be [N, ...] with at least 2 dims");
  if (k == HintKind::Linear) {
    linear = register_module(
        "linear", std::make_shared<nn::Linear>(numel_after_batch(s), numel_after_batch(t), true, to));
    return;
  }
  if (s.size() != 4 || t.size() != 4) fail_shapes("conv kinds need 4-D [N, C, H, W] features");
  if (k == HintKind::ConvReg) {
    build_convreg(s, t, to);
    return;
  }
  if (s[2] != t[2] || s[3] != t[3])
    fail_shapes("conv kinds keep H, W, so the spatial sizes must be equal");
  std::int64_t ks = k == HintKind::Conv1x1 ? 1 : 3;
  conv = register_module("conv", std::make_shared<nn::Conv2d>(s[1], t[1], ks, 1, ks / 2, 1, 1, true, to));
}

// RepDistiller's ConvReg: the conv that maps the student's (H, W) onto the teacher's, then BN and
// ReLU. BatchNorm's initial state (ones, zeros) is exact in any dtype, so it is converted after
// construction.
void HintRegressor::build_convreg(const Shape& s, const Shape& t, const TensorOptions& to) {
  if (s[2] == 2 * t[2]) {
    conv = register_module("conv", std::make_shared<nn::Conv2d>(s[1], t[1], 3, 2, 1, 1, 1, true, to));
  } else if (2 * s[2] == t[2]) {
    conv_transpose = register_module(
        "conv", std::make_shared<nn::ConvTranspose2d>(s[1], t[1], 4, 2, 1, 0, 1, true, 1, to));
  } else if (s[2] >= t[2] && s[3] >= t[3]) {
    conv = register_module("conv", std::make_shared<nn::Conv2d>(
                                       s[1], t[1], std::array<std::int64_t, 2>{1 + s[2] - t[2], 1 + s[3] - t[3]},
                                       Conv2dOptions{}, true, to));
  } else {
    fail("HintRegressor (convreg): student feature ", shape_str(s), " and teacher feature ", shape_str(t),
         ": RepDistiller's ConvReg needs H_s = 2·H_t, H_t = 2·H_s or a student map at least as "
         "large as the teacher's (H_s ≥ H_t, W_s ≥ W_t); use the Linear kind or tap another layer");
  }
  bn = register_module("bn", std::make_shared<nn::BatchNorm2d>(t[1]));
  bn->to(to.dtype);
  if (to.device != kCPU) bn->to(to.device);
}

Tensor HintRegressor::forward(const Tensor& f_s) {
  const Shape& s = student_shape;
  bool ok = f_s.defined() && f_s.dim() == static_cast<std::int64_t>(s.size()) &&
            std::equal(s.begin() + 1, s.end(), f_s.sizes().begin() + 1);
  RETORT_CHECK(ok, "HintRegressor: input ", f_s.defined() ? shape_str(f_s.sizes()) : "undefined",
               " does not match the student feature shape ", shape_str(s),
               " it was built for (batch dim aside)");
  if (kind == HintKind::ConvReg)
    return relu((*bn)(conv_transpose ? (*conv_transpose)(f_s) : (*conv)(f_s)));
  if (kind != HintKind::Linear) return (*conv)(f_s);
  Shape out = teacher_shape;
  out[0] = f_s.size(0);
  return reshape((*linear)(flatten_batch(f_s)), out);
}

Tensor hint_loss(HintRegressor& regressor, const Tensor& f_s, const Tensor& f_t) {
  Tensor y = regressor(f_s);
  RETORT_CHECK(f_t.defined() && y.sizes() == f_t.sizes(), "hint_loss: regressed student feature ",
               shape_str(y.sizes()), " (from ", shape_str(f_s.sizes()), ") and teacher feature ",
               f_t.defined() ? shape_str(f_t.sizes()) : "undefined", " must have the same shape");
  return F::mse_loss(y, detach(f_t));
}

Tensor at_loss(const Tensor& f_s, const Tensor& f_t, const AtOptions& o) {
  RETORT_CHECK(std::isfinite(o.p) && o.p > 0.0, "at_loss: power p must be finite and > 0, got ",
               o.p);
  auto [s, t] = align_spatial("at_loss", f_s, detach(f_t));
  auto attention = [p = o.p](const Tensor& f) {
    return l2_normalize(flatten_batch(mean(pow(f, p), {1})), 1);
  };
  Tensor d = attention(s) - attention(t);
  Tensor sq = d * d;
  if (o.variant == AtVariant::RepDistiller) return mean(sq);
  return mean(sqrt(sum(sq, {1})));
}

Tensor nst_loss(const Tensor& f_s, const Tensor& f_t, const NstOptions& o) {
  auto [s, t] = align_spatial("nst_loss", f_s, detach(f_t));
  Tensor fs = channel_maps(s);
  Tensor ft = channel_maps(t);
  Tensor loss = mean(poly_kernel(fs, fs)) - mean(poly_kernel(fs, ft)) * 2.0;
  return o.full_loss ? mean(poly_kernel(ft, ft)) + loss : loss;
}

}  // namespace retort::kd
