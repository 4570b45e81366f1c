// RepDistiller's models/ShuffleNetv2.py: the zoo's "ShuffleV2" (net_size 1: out_channels
// 116/232/464/1024, blocks 3/7/3), built by make_shufflenet_v2(num_classes).
//
// Input x [N, 3, 32, 32] → logits [N, num_classes].
//   conv1, bn1, relu   1×1 conv 3 → 24 → BN → ReLU, [N, 24, 32, 32]
//   layer1..3          Sequential(DownBlock, BasicBlock × n), [N, 116, 16, 16], [N, 232, 8, 8],
//                      [N, 464, 4, 4]
//     DownBlock C_in → C_out, mid = C_out/2:
//       left  = relu(bn2(conv2 1×1(bn1(conv1 3×3/2 depthwise(x)))))                [N, mid, …]
//       right = relu(bn5(conv5 1×1(bn4(conv4 3×3/2 depthwise(relu(bn3(conv3 1×1(x))))))))
//       y = channel_shuffle(cat(left, right), 2)
//     BasicBlock on C channels, c = C/2: x1 = channels [0, c), x2 = channels [c, C)
//       preact = bn3(conv3 1×1(bn2(conv2 3×3 depthwise(relu(bn1(conv1 1×1(x2)))))))
//       y = channel_shuffle(cat(x1, relu(preact)), 2)
//   conv2, bn2         1×1 conv 464 → 1024 → BN → ReLU → 4×4 average → flatten [N, 1024] →
//                      linear Linear(1024, num_classes)
// With 100 classes: 1,355,528 parameters.
//
// Features (forward(x, is_feat=True, preact)): taps "relu", "layer1", "layer2", "layer3",
// "flatten". With preact the stage features are the last BasicBlock's cat(x1, preact) — as in
// RepDistiller, before the channel shuffle, so its channel order differs from the post feature —
// read at "layer1.3.preact", "layer2.7.preact", "layer3.3.preact" (parameter-free Identities);
// f0 ("relu") and the embedding ("flatten") are the same in both lists.
// Initialisation: PyTorch's defaults (RepDistiller leaves them).
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "nn/zoo.h"

namespace retort::nn {

std::shared_ptr<ZooNet> make_shufflenet_v2(std::int64_t num_classes);

}  // namespace retort::nn
