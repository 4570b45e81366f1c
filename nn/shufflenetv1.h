// RepDistiller's models/ShuffleNetv1.py: the zoo's "ShuffleV1" (out_planes 240/480/960, blocks
// 4/8/4, groups 3), built by make_shufflenet_v1(num_classes).
//
// Input x [N, 3, 32, 32] → logits [N, num_classes].
//   conv1, bn1, relu   1×1 conv 3 → 24 → BN → ReLU, [N, 24, 32, 32]
//   layer1..3          Sequentials of Bottlenecks; block 0 of each has stride 2 and concatenates
//                      its 3×3/2 average-pooled input (shortcut.0, padding 1, pad counted) to its
//                      output, so it produces out − C_in new channels; the others add x. A
//                      Bottleneck on C_in → C_out, mid = C_out/4, g = 1 when C_in = 24 else 3:
//                        relu(bn1(conv1 1×1, groups g)) → channel_shuffle(g) →
//                        relu(bn2(conv2 3×3 depthwise, stride s)) → bn3(conv3 1×1, groups 3)
//                        preact = cat(out, shortcut(x)) (stride 2) or out + x;  y = relu(preact)
//                      [N, 240, 16, 16], [N, 480, 8, 8], [N, 960, 4, 4]
//   4×4 average → flatten [N, 960] → linear Linear(960, num_classes)
// With 100 classes: 949,258 parameters.
//
// Features (forward(x, is_feat=True, preact)): taps "relu", "layer1", "layer2", "layer3",
// "flatten". With preact the stage features are the last block's preact instead (taps
// "layer1.3.preact", "layer2.7.preact", "layer3.3.preact", parameter-free Identities of the
// last blocks); f0 ("relu") and the embedding ("flatten") are the same in both lists.
// Initialisation: PyTorch's defaults (RepDistiller leaves them).
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "nn/zoo.h"

namespace retort::nn {

// ShuffleNet's channel shuffle of x [N, C, H, W] with g groups (C divisible by g):
// view [N, g, C/g, H, W] → swap dims 1, 2 → [N, C, H, W]; channel j·g + i of y is channel
// i·C/g + j of x.
Tensor channel_shuffle(const Tensor& x, std::int64_t groups);

// channel_shuffle(cat(xs, 1), G) for G = xs.size() tensors of one shape [N, C, H, W]: channel
// i·G + j of y [N, G·C, H, W] is channel i of xs[j]. It is stack(xs, 2) [N, C, G, H, W] seen as
// [N, G·C, H, W], so it costs one copy where cat then shuffle cost two.
Tensor cat_shuffle(const std::vector<Tensor>& xs);

std::shared_ptr<ZooNet> make_shufflenet_v1(std::int64_t num_classes);

}  // namespace retort::nn
