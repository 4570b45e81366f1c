// The parameter-free layers image generators are built of (DAFL's and DCGAN-style generators):
// LeakyReLU, Tanh and nearest-neighbour Upsample, with PyTorch's names, defaults and printed form.
#pragma once
#include <array>
#include <cstdint>
#include <string>

#include "nn/module.h"

namespace retort::nn {

// y = x where x > 0, else negative_slope·x; any shape (autograd leaky_relu).
class LeakyReLU : public Module {
 public:
  explicit LeakyReLU(double negative_slope = 0.01) : negative_slope(negative_slope) {}
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "LeakyReLU"; }
  std::string extra_repr() const override;
  double negative_slope;
};

// y = tanh(x); any shape.
class Tanh : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Tanh"; }
};

// Nearest-neighbour upsampling by integer factors: x [N, C, H, W] → [N, C, H·sh, W·sw]
// (nn.Upsample(scale_factor=s, mode="nearest"); autograd upsample_nearest2d). Factors ≥ 1.
class Upsample : public Module {
 public:
  explicit Upsample(std::int64_t scale_factor = 2) : Upsample(std::array<std::int64_t, 2>{scale_factor, scale_factor}) {}
  explicit Upsample(std::array<std::int64_t, 2> scale_factor);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Upsample"; }
  std::string extra_repr() const override;
  std::array<std::int64_t, 2> scale_factor;
};

}  // namespace retort::nn
