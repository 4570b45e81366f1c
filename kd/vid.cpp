// VID. softplus is written as (x + |x|)/2 + log(1 + exp(−|x|)): exp never sees a positive
// argument (no overflow), and at x = 0 the two kinks' one-sided choices (|x|' = sign(0) = 0)
// still add up to the true derivative 1/2, which relu(x) + … would get wrong (0).
#include "kd/vid.h"

#include <cmath>

#include "autograd/ops/elementwise.h"
#include "autograd/ops/reduce.h"
#include "autograd/ops/shape.h"
#include "kd/align.h"
#include "nn/linear.h"
#include "tensor/error.h"

namespace retort::kd {

Tensor softplus(const Tensor& x) {
  Tensor a = abs(x);
  return (x + a) * 0.5 + log(1.0 + exp(-a));
}

VIDRegressor::VIDRegressor(std::int64_t cs, std::int64_t cm, std::int64_t ct,
                           const VidOptions& o, const TensorOptions& to)
    : student_channels(cs), mid_channels(cm), teacher_channels(ct), eps(o.eps) {
  RETORT_CHECK(cs > 0 && cm > 0 && ct > 0, "VIDRegressor: channel counts (", cs, ", ", cm, ", ",
               ct, ") must be positive");
  RETORT_CHECK(std::isfinite(o.eps) && o.eps > 0.0 && std::isfinite(o.init_pred_var) &&
                   o.init_pred_var > o.eps,
               "VIDRegressor: need 0 < eps < init_pred_var (finite), got eps ", o.eps,
               " and init_pred_var ", o.init_pred_var);
  auto conv = [&to](std::int64_t in, std::int64_t out) {
    return std::make_shared<nn::Conv2d>(in, out, 1, 1, 0, 1, 1, /*bias=*/false, to);
  };
  regressor = register_module(
      "regressor", nn::make_sequential(conv(cs, cm), std::make_shared<nn::ReLU>(), conv(cm, cm),
                                       std::make_shared<nn::ReLU>(), conv(cm, ct)));
  // softplus⁻¹(init_pred_var − eps), so that the initial variance is exactly init_pred_var.
  const double alpha = std::log(std::exp(o.init_pred_var - o.eps) - 1.0);
  log_scale = register_parameter("log_scale", full({ct}, alpha, to.dtype, to.device));
}

Tensor VIDRegressor::forward(const Tensor& f_s) {
  RETORT_CHECK(f_s.defined() && f_s.dim() == 4 && f_s.size(1) == student_channels,
               "VIDRegressor: input ", f_s.defined() ? shape_str(f_s.sizes()) : "undefined",
               " must be [N, ", student_channels, ", H, W]");
  return (*regressor)(f_s);
}

Tensor VIDRegressor::variance() const { return softplus(log_scale) + eps; }

Tensor vid_loss(VIDRegressor& r, const Tensor& f_s, const Tensor& f_t) {
  auto [s, t] = pool_to_smaller("vid_loss", f_s, detach(f_t), "student feature",
                                "teacher feature");
  RETORT_CHECK(s.size(1) == r.student_channels && t.size(1) == r.teacher_channels,
               "vid_loss: student feature ", shape_str(f_s.sizes()), " and teacher feature ",
               shape_str(f_t.sizes()), " do not match the regressor's channels (",
               r.student_channels, " → ", r.teacher_channels, ")");
  Tensor mu = r(s);
  Tensor var = reshape(r.variance(), {1, r.teacher_channels, 1, 1});
  Tensor d = mu - t;
  return mean((d * d / var + log(var)) * 0.5);
}

}  // namespace retort::kd
