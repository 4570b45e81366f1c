// Multiply-accumulate counts of a model's forward pass (namespace retort::nn), the figure papers
// quote as "MACs" or "FLOPs" for CIFAR networks.
//
// count_macs(model, {C, H, W}) runs one eval-mode forward without graph on a zero input [1, C, H, W]
// (the model's training flag is restored afterwards) and sums, over every Conv2d, ConvTranspose2d
// and Linear module that the forward calls through operator():
//   Conv2d: numel(y) · C_in/groups · KH · KW        (y [1, C_out, H_out, W_out])
//   ConvTranspose2d: numel(x) · C_out/groups · KH · KW   (x [1, C_in, H, W]: each input pixel
//                    meets every weight of its group once)
//   Linear: numel(y) · IN                           (y [1, OUT])
// Biases, BatchNorm, activations, pooling and additions are not counted (each is O(numel) next to
// the convolutions' O(numel · C_in · K²)), as in the common profilers' conv/linear count.
#pragma once
#include <cstdint>

#include "nn/module.h"

namespace retort::nn {

std::int64_t count_macs(Module& model, const Shape& input_chw);

}  // namespace retort::nn
