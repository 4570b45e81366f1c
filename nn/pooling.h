// Pooling layers over the H, W dims of NCHW images (the maths is in autograd/ops/nn_ops.h).
// Output size per spatial dim: floor((H + 2·padding − kernel) / stride) + 1.
#pragma once
#include <array>
#include <cstdint>

#include "nn/module.h"

namespace retort::nn {

using Size2 = std::array<std::int64_t, 2>;

class MaxPool2d : public Module {
 public:
  // stride 0 (the default) means stride = kernel_size, as in PyTorch.
  MaxPool2d(Size2 kernel_size, Size2 stride = {0, 0}, Size2 padding = {0, 0});
  explicit MaxPool2d(std::int64_t kernel_size, std::int64_t stride = 0, std::int64_t padding = 0)
      : MaxPool2d(Size2{kernel_size, kernel_size}, Size2{stride, stride}, Size2{padding, padding}) {
  }
  // x [N, C, H, W] → [N, C, H', W'].
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "MaxPool2d"; }
  std::string extra_repr() const override;
  Size2 kernel_size, stride, padding;
};

class AvgPool2d : public Module {
 public:
  AvgPool2d(Size2 kernel_size, Size2 stride = {0, 0}, Size2 padding = {0, 0},
            bool count_include_pad = true);
  explicit AvgPool2d(std::int64_t kernel_size, std::int64_t stride = 0, std::int64_t padding = 0,
                     bool count_include_pad = true)
      : AvgPool2d(Size2{kernel_size, kernel_size}, Size2{stride, stride}, Size2{padding, padding},
                  count_include_pad) {}
  // x [N, C, H, W] → [N, C, H', W'].
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "AvgPool2d"; }
  std::string extra_repr() const override;
  Size2 kernel_size, stride, padding;
  bool count_include_pad;
};

class AdaptiveAvgPool2d : public Module {
 public:
  explicit AdaptiveAvgPool2d(Size2 output_size);
  explicit AdaptiveAvgPool2d(std::int64_t output_size)
      : AdaptiveAvgPool2d(Size2{output_size, output_size}) {}
  // x [N, C, H, W] → [N, C, OH, OW]; cell (i, j) averages rows [⌊i·H/OH⌋, ⌈(i+1)·H/OH⌉) and the
  // matching columns.
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "AdaptiveAvgPool2d"; }
  std::string extra_repr() const override;
  Size2 output_size;
};

}  // namespace retort::nn
