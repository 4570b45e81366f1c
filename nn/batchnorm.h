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
  // Normalises x, [N, C] or [N, C, H, W], with the running-stat bookkeeping described above.
  Tensor normalize(const Tensor& x);
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
  std::string type_name() const override { return "BatchNorm2d"; }
};

}  // namespace retort::nn
