// BatchNorm1d / BatchNorm2d (see batchnorm.h). The maths and the in-place running-stat update
// are in the batch_norm op; this file does PyTorch's bookkeeping around it.
#include "nn/batchnorm.h"

#include <sstream>

#include "autograd/ops/elementwise.h"
#include "autograd/ops/nn_ops.h"
#include "autograd/ops/shape.h"

namespace retort::nn {

BatchNormBase::BatchNormBase(std::int64_t c, double eps_, std::optional<double> momentum_,
                             bool affine_, bool track)
    : num_features(c), eps(eps_), momentum(momentum_), affine(affine_), track_running_stats(track) {
  RETORT_CHECK(c > 0, "BatchNorm: num_features must be positive, got ", c);
  if (affine) {
    weight = register_parameter("weight", ones({c}));
    bias = register_parameter("bias", zeros({c}));
  }
  if (track) {
    running_mean = register_buffer("running_mean", zeros({c}));
    running_var = register_buffer("running_var", ones({c}));
    num_batches_tracked = register_buffer("num_batches_tracked", zeros({}, kInt64));
  }
}

void BatchNormBase::reset_running_stats() {
  if (!track_running_stats) return;
  running_mean.fill_(0.0);
  running_var.fill_(1.0);
  num_batches_tracked.fill_(0.0);
}

Tensor BatchNormBase::normalize(const Tensor& x, bool relu) {
  RETORT_CHECK(x.size(1) == num_features, type_name(), ": input ", shape_str(x.sizes()), " has ",
               x.size(1), " channels, expected num_features=", num_features);
  double factor = momentum.value_or(0.0);
  if (is_training() && track_running_stats) {
    // The counter is an int64 0-d buffer (like PyTorch), bumped on the host.
    std::int64_t n = num_batches_tracked.item<std::int64_t>() + 1;
    if (num_batches_tracked.device().is_cpu())
      num_batches_tracked.fill_(static_cast<double>(n));
    else
      num_batches_tracked.copy_(scalar_tensor(static_cast<double>(n), kInt64));
    if (!momentum) factor = 1.0 / static_cast<double>(n);
  }
  // Batch statistics whenever training, and always when no running stats exist.
  bool use_batch_stats = is_training() || !track_running_stats;
  if (relu)
    return batch_norm_relu(x, weight, bias, running_mean, running_var, use_batch_stats, factor, eps);
  return batch_norm(x, weight, bias, running_mean, running_var, use_batch_stats, factor, eps);
}

std::string BatchNormBase::extra_repr() const {
  std::ostringstream os;
  os << num_features << ", eps=" << eps << ", momentum=";
  if (momentum)
    os << *momentum;
  else
    os << "None";
  os << ", affine=" << (affine ? "True" : "False")
     << ", track_running_stats=" << (track_running_stats ? "True" : "False");
  return os.str();
}

Tensor BatchNorm1d::forward(const Tensor& x) {
  RETORT_CHECK(x.dim() == 2 || x.dim() == 3,
               "BatchNorm1d: expected input [N, C] or [N, C, L], got ", shape_str(x.sizes()));
  if (x.dim() == 2) return normalize(x);
  // [N, C, L] is normalised as the image [N, C, L, 1].
  return squeeze(normalize(unsqueeze(x, 3)), 3);
}

Tensor BatchNorm2d::forward(const Tensor& x) {
  RETORT_CHECK(x.dim() == 4, "BatchNorm2d: expected input [N, C, H, W], got ",
               shape_str(x.sizes()));
  return normalize(x);
}

Tensor BatchNorm2d::forward_relu(const Tensor& x) {
  RETORT_CHECK(x.dim() == 4, "BatchNorm2d: expected input [N, C, H, W], got ",
               shape_str(x.sizes()));
  return normalize(x, true);
}

Tensor bn_relu(BatchNorm2d& bn, const Tensor& x, Module* relu) {
  if (!bn.has_forward_hooks() && !(relu && relu->has_forward_hooks())) return bn.forward_relu(x);
  Tensor y = bn(x);
  return relu ? (*relu)(y) : retort::relu(y);
}

}  // namespace retort::nn
