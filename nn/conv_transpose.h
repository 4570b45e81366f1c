// ConvTranspose2d: the transposed 2-D convolution over NCHW images (PyTorch's
// torch.nn.ConvTranspose2d, same parameter names and layout, so state dicts interchange).
// Default initialisation is PyTorch's _ConvNd.reset_parameters: weight kaiming_uniform_(a = √5)
// and bias U(−1/√fan_in, 1/√fan_in), where fan_in is computed from the weight as for any tensor,
// weight.size(1)·KH·KW = C_out/groups·KH·KW for the transposed layout.
#pragma once
#include <array>
#include <cstdint>

#include "autograd/ops/nn_ops.h"
#include "nn/module.h"

namespace retort::nn {

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
