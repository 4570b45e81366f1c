// Batch normalisation layers. Per channel c, over the batch (and spatial) positions:
//   y = (x − mean_c) / √(var_c + eps) · weight_c + bias_c
// Training uses the batch statistics (biased variance) and updates the running ones
//   running ← (1 − momentum)·running + momentum·batch_stat   (unbiased variance),
// or, with momentum = nullopt, the cumulative average (momentum = 1/num_batches_tracked).
// Eval uses running_mean/running_var. Without track_running_stats there are no running buffers
// and the batch statistics are always used.
//
// State dict entries (PyTorch order): weight, bias (affine), running_mean, running_var,
// num_batches_tracked (int64 0-d, counts training forwards).
#pragma once
#include <cstdint>
#include <optional>

#include "nn/module.h"

namespace retort::nn {

class BatchNormBase : public Module {
 public:
  BatchNormBase(std::int64_t num_features, double eps, std::optional<double> momentum, bool affine,
                bool track_running_stats);

  // Running stats to mean 0 / var 1, num_batches_tracked to 0.
  void reset_running_stats();
  std::string extra_repr() const override;

  std::int64_t num_features;
  double eps;
  std::optional<double> momentum;
  bool affine, track_running_stats;
  Tensor weight, bias;                                    // [C] (affine), init 1 and 0
  Tensor running_mean, running_var, num_batches_tracked;  // [C], [C], [] int64 (tracking)

 protected:
  // Normalises x, [N, C] or [N, C, H, W], with the running-stat bookkeeping described above; with
  // relu, relu of that as one fused node (autograd's batch_norm_relu).
  Tensor normalize(const Tensor& x, bool relu = false);
};

class BatchNorm1d : public BatchNormBase {
 public:
  explicit BatchNorm1d(std::int64_t num_features, double eps = 1e-5,
                       std::optional<double> momentum = 0.1, bool affine = true,
                       bool track_running_stats = true)
      : BatchNormBase(num_features, eps, momentum, affine, track_running_stats) {}
  // x [N, C] or [N, C, L] → same shape.
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "BatchNorm1d"; }
};

class BatchNorm2d : public BatchNormBase {
 public:
  explicit BatchNorm2d(std::int64_t num_features, double eps = 1e-5,
                       std::optional<double> momentum = 0.1, bool affine = true,
                       bool track_running_stats = true)
      : BatchNormBase(num_features, eps, momentum, affine, track_running_stats) {}
  // x [N, C, H, W] → same shape.
  Tensor forward(const Tensor& x) override;
  // relu(forward(x)) as one fused node, without running this module's hooks (Sequential uses it
  // for an unhooked BatchNorm2d → ReLU pair; bn_relu below for models' own forwards).
  Tensor forward_relu(const Tensor& x);
  std::string type_name() const override { return "BatchNorm2d"; }
};

// relu(bn(x)) where `relu` is the ReLU module applied to bn's output (null for a functional relu):
// one fused node when neither module is hooked, so no tap can observe the intermediate; else the
// two modules called as usual, their hooks included.
Tensor bn_relu(BatchNorm2d& bn, const Tensor& x, Module* relu = nullptr);

}  // namespace retort::nn
