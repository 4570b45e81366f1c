// RepDistiller's models/resnet.py: the CIFAR ResNet of BasicBlocks (He et al.'s 6n+2 layout).
// resnetD uses filters {16, 16, 32, 64}, resnetDx4 uses {32, 64, 128, 256}; depth D = 6n + 2.
//
//   conv1 (3→F0, 3×3, p1, no bias) → bn1 → relu                                  [N, F0, 32, 32]
//   layer1 = n blocks F0→F1, stride 1                                            [N, F1, 32, 32]
//   layer2 = n blocks F1→F2, first stride 2                                      [N, F2, 16, 16]
//   layer3 = n blocks F2→F3, first stride 2                                      [N, F3,  8,  8]
//   avgpool (8×8) → flatten → fc (F3 → classes)                                  [N, classes]
// BasicBlock(in→out, stride s): y = relu(bn2(conv2(relu(bn1(conv1(x))))) + r), conv1 3×3 stride s,
// conv2 3×3, r = downsample(x) = bn(conv 1×1 stride s) when s ≠ 1 or in ≠ out, else x.
//
// State-dict keys equal RepDistiller's ("conv1.weight", "layer1.0.bn2.running_mean",
// "layer2.0.downsample.0.weight", "fc.bias", …). Parameter-free children with no RepDistiller
// counterpart, which carry no state: "flatten" (the embedding) and each block's "preact" (the sum
// before the block's final ReLU).
//
// Feature taps (RepDistiller's forward(x, is_feat=True, preact)):
//   post:   relu, layer1, layer2, layer3, flatten
//   preact: relu, layer1.{n−1}.preact, layer2.{n−1}.preact, layer3.{n−1}.preact, flatten
// (RepDistiller's last block of each stage returns its pre-ReLU sum as preact.)
//
// Initialisation is RepDistiller's: conv weights kaiming_normal_(fan_out, relu), BatchNorm weight 1
// and bias 0, fc PyTorch's default.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "nn/zoo.h"

namespace retort::nn {

// filters = {F0, F1, F2, F3}; depth = 6n + 2 with n ≥ 1 (throws otherwise).
std::shared_ptr<ZooNet> make_cifar_resnet(std::int64_t depth,
                                          const std::vector<std::int64_t>& filters,
                                          std::int64_t num_classes);

}  // namespace retort::nn
