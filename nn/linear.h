// The layers with weights: Linear (y = x·Wᵀ + b), Conv2d (2-D convolution over NCHW images) and
// ConvTranspose2d (its transpose), with PyTorch's parameter names and layouts, so state dicts
// interchange. Default initialisation is PyTorch's: weight kaiming_uniform_(a = √5), i.e.
// U(−1/√fan_in, 1/√fan_in), and bias U(−1/√fan_in, 1/√fan_in) (nn/init.h), fan_in computed from
// the weight as torch does for any tensor: weight.size(1)·KH·KW, which is C_in/groups·KH·KW for
// Conv2d and C_out/groups·KH·KW for ConvTranspose2d's transposed layout.
#pragma once
#include <array>
#include <cstdint>

#include "autograd/ops/nn_ops.h"
#include "nn/module.h"

namespace retort::nn {

class Linear : public Module {
 public:
  // weight [OUT, IN] ~ U(−1/√IN, 1/√IN) (PyTorch's kaiming_uniform_(a=√5)), bias [OUT] the same,
  // created in tensor_options' dtype and device.
  Linear(std::int64_t in_features, std::int64_t out_features, bool bias = true,
         const TensorOptions& tensor_options = {});

  // x [..., IN] → [..., OUT].
  Tensor forward(const Tensor& x) override;
  // Re-draws weight and bias with the default initialisation.
  void reset_parameters();

  std::string type_name() const override { return "Linear"; }
  std::string extra_repr() const override;

  std::int64_t in_features, out_features;
  Tensor weight;  // [OUT, IN]
  Tensor bias;    // [OUT], undefined when built with bias = false
};

class Conv2d : public Module {
 public:
  // weight [C_out, C_in/groups, KH, KW] ~ U(−1/√fan_in, 1/√fan_in) with
  // fan_in = C_in/groups·KH·KW (PyTorch's kaiming_uniform_(a=√5)); bias [C_out] the same;
  // created in tensor_options' dtype and device.
  Conv2d(std::int64_t in_channels, std::int64_t out_channels,
         std::array<std::int64_t, 2> kernel_size, const Conv2dOptions& options = {},
         bool bias = true, const TensorOptions& tensor_options = {});
  // Square kernel, stride, padding, dilation.
  Conv2d(std::int64_t in_channels, std::int64_t out_channels, std::int64_t kernel_size,
         std::int64_t stride = 1, std::int64_t padding = 0, std::int64_t dilation = 1,
         std::int64_t groups = 1, bool bias = true, const TensorOptions& tensor_options = {});

  // x [N, C_in, H, W] → [N, C_out, H', W'],
  // H' = floor((H + 2·padding − dilation·(KH − 1) − 1) / stride) + 1 (W' likewise).
  Tensor forward(const Tensor& x) override;
  // relu(forward(x)) as one fused node (Sequential uses it for an unhooked Conv2d → ReLU pair).
  Tensor forward_relu(const Tensor& x);
  void reset_parameters();

  std::string type_name() const override { return "Conv2d"; }
  std::string extra_repr() const override;

  std::int64_t in_channels, out_channels;
  std::array<std::int64_t, 2> kernel_size;
  Conv2dOptions options;
  Tensor weight;  // [C_out, C_in/groups, KH, KW]
  Tensor bias;    // [C_out], undefined when built with bias = false
};

class ConvTranspose2d : public Module {
 public:
  // weight [C_in, C_out/groups, KH, KW], bias [C_out], both ~ U(−1/√fan_in, 1/√fan_in) with
  // fan_in = C_out/groups·KH·KW; created in tensor_options' dtype and device.
  ConvTranspose2d(std::int64_t in_channels, std::int64_t out_channels,
                  std::array<std::int64_t, 2> kernel_size,
                  const ConvTranspose2dOptions& options = {}, bool bias = true,
                  const TensorOptions& tensor_options = {});
  // Square kernel, stride, padding, output_padding, dilation (PyTorch's positional order).
  ConvTranspose2d(std::int64_t in_channels, std::int64_t out_channels, std::int64_t kernel_size,
                  std::int64_t stride = 1, std::int64_t padding = 0,
                  std::int64_t output_padding = 0, std::int64_t groups = 1, bool bias = true,
                  std::int64_t dilation = 1, const TensorOptions& tensor_options = {});

  // x [N, C_in, H, W] → [N, C_out, H', W'],
  // H' = (H − 1)·stride − 2·padding + dilation·(KH − 1) + output_padding + 1 (W' likewise).
  Tensor forward(const Tensor& x) override;
  void reset_parameters();

  std::string type_name() const override { return "ConvTranspose2d"; }
  std::string extra_repr() const override;

  std::int64_t in_channels, out_channels;
  std::array<std::int64_t, 2> kernel_size;
  ConvTranspose2dOptions options;
  Tensor weight;  // [C_in, C_out/groups, KH, KW]
  Tensor bias;    // [C_out], undefined when built with bias = false
};

}  // namespace retort::nn
